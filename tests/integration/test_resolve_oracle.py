"""The dynamic oracle: cgocheck's static resolution against the target's own loader run
under qemu-user in the same sysroot.

For each real cgo cross build, `qemu-<arch> -L SYSROOT` runs the binary with
LD_TRACE_LOADED_OBJECTS=1 (the loader's list of libraries, in load order) and with
LD_BIND_NOW=1 LD_DEBUG=bindings (every symbol binding the loader makes). cgocheck must name
the same libraries, at the same paths, in the same order, and bind every undefined symbol of
the binary and of every library to the same object the loader binds it to.

The variables reach the guest through qemu's -E: set in qemu's own environment they would
act on the host's loader running qemu itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cgocheck.checks import check_resolution
from cgocheck.core.targets import parse_target
from cgocheck.loader.resolve import resolve
from cgocheck.sysroot.fsroot import FsRoot
from tests.support.builder import GO_NEW, Builder
from tests.support.need import sysroot
from tests.support.resolve import compare, oracle, qemu_run

pytestmark = pytest.mark.integration

# --- builds -------------------------------------------------------------------------------

RICH = """package main

/*
#cgo LDFLAGS: -lsqlite3 -lssl -lcrypto -lz -lm
#include <math.h>
#include <sqlite3.h>
#include <openssl/crypto.h>
#include <zlib.h>
static double root2(void) { return sqrt(2.0); }
*/
import "C"

import "fmt"

func main() {
	fmt.Println(C.GoString(C.sqlite3_libversion()), C.GoString(C.zlibVersion()),
		C.GoString(C.OpenSSL_version(0)), float64(C.root2()) > 1.41)
}
"""


@pytest.fixture(scope="session")
def rich_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("rich")
    (d / "go.mod").write_text("module example.com/rich\n\ngo 1.19\n")
    (d / "main.go").write_text(RICH)
    return d


GLIBC_CASES = [
    # (fixture, target, build sysroot (None: the cross compiler's own), run/resolve sysroot)
    ("clean/netuser", "linux/arm64", "bookworm-arm64", "bookworm-arm64"),
    ("clean/zlib", "linux/arm64", "bookworm-arm64", "bookworm-arm64"),
    ("rich", "linux/arm64", "bookworm-arm64", "bookworm-arm64"),
    ("clean/libc", "linux/arm64", None, "/usr/aarch64-linux-gnu"),
    ("clean/netuser", "linux/arm/v7", "bookworm-armhf", "bookworm-armhf"),
    ("rich", "linux/arm/v7", "bookworm-armhf", "bookworm-armhf"),
    ("clean/netuser", "linux/arm/v7", None, "/usr/arm-linux-gnueabihf"),
    ("clean/netuser", "linux/riscv64", None, "/usr/riscv64-linux-gnu"),
    ("clean/libc", "linux/riscv64", None, "/usr/riscv64-linux-gnu"),
    ("clean/libc", "linux/arm64", "bullseye-arm64", "bullseye-arm64"),
    ("clean/zlib", "linux/arm/v7", "bullseye-armhf", "bullseye-armhf"),
    # built against bullseye (glibc 2.31), run on bookworm (2.36): compat versions bind
    ("clean/libc", "linux/arm64", "bullseye-arm64", "bookworm-arm64"),
    ("clean/zlib", "linux/arm/v7", "bullseye-armhf", "bookworm-armhf"),
]


def build_in(builder: Builder, src: str, target: str, root: Path | None) -> Path:
    """Build against ROOT for real. Debian's cross gcc searches its own /usr/<triplet>/lib
    (the host's cross libc, bookworm's) before the --sysroot folders, so crt1.o and libc
    would come from there: -B and -L put the sysroot's first."""
    ldflags = ""
    if root is not None:
        lib = root / "usr" / "lib" / parse_target(target).triplet
        ldflags = f"-B{lib}/ -L{lib}"
    return builder.build(src, target, GO_NEW, sysroot=root, ldflags_c=ldflags).path


def _id(c: tuple[str, str, str | None, str]) -> str:
    return f"{Path(c[0]).name}-{c[1].replace('/', '_')}-{Path(c[2] or 'cross').name}-on-{Path(c[3]).name}"


@pytest.mark.parametrize("case", GLIBC_CASES, ids=[_id(c) for c in GLIBC_CASES])
def test_resolution_matches_the_loader(
    case: tuple[str, str, str | None, str], builder: Builder, rich_module: Path
) -> None:
    fixture, target, build_root, run_root = case
    tgt = parse_target(target)
    build_sr = sysroot(build_root) if build_root else None
    root = sysroot(run_root)
    src = str(rich_module) if fixture == "rich" else fixture
    binary = build_in(builder, src, target, build_sr)
    res = resolve(str(binary), FsRoot(root), target=tgt)
    orc = oracle(tgt.arch.qemu, root, binary)
    assert orc.run.returncode == 0, orc.run.stderr[-2000:]
    assert res.starts and not [f for f in check_resolution(res) if f.severity == "error"]
    compared, of_main = compare(res, orc, binary)
    assert of_main > 10
    if build_root and build_root.startswith("bullseye") and run_root.startswith("bookworm"):
        # __libc_start_main@GLIBC_2.17 (2.4 on armhf) is bookworm's compatibility version: S004
        compat = {b.symbol for b in res.bindings if b.default is False and b.version}
        assert "__libc_start_main" in compat
        assert "S004" in {f.rule for f in check_resolution(res)}
    print(f"{_id(case)}: {len(res.libraries)} libraries, {compared} bindings agree ({of_main} of the binary)")


# --- the version oracle -----------------------------------------------------------------

_VERSION_ERR = re.compile(r"version `([^']+)' not found \(required by ([^)]+)\)")


@pytest.mark.parametrize(
    "target,new,old",
    [("linux/arm64", "bookworm-arm64", "bullseye-arm64"), ("linux/arm/v7", "bookworm-armhf", "bullseye-armhf")],
)
@pytest.mark.fires("S002", "S003")
def test_glibc_version_verdict_matches_the_loader(target: str, new: str, old: str, builder: Builder) -> None:
    """Built against bookworm (glibc 2.36), run on bullseye (2.31): ld.so refuses to start it
    with "version `GLIBC_2.34' not found" exactly when resolve says S002, for the same nodes;
    built against bullseye, it starts on bookworm and resolve says it will."""
    tgt = parse_target(target)
    new_root, old_root = sysroot(new), sysroot(old)
    bad = build_in(builder, "clean/netuser", target, new_root)
    res = resolve(str(bad), FsRoot(old_root), target=tgt, glibc_floor="2.31")
    run = qemu_run(tgt.arch.qemu, old_root, bad)
    assert run.returncode != 0
    loader_says = {(v, Path(r).name) for v, r in _VERSION_ERR.findall(run.stderr)}
    assert ("GLIBC_2.34", bad.name) in loader_says
    assert {(m.version, Path(m.requester).name) for m in res.missing_versions} == loader_says
    rules = {f.rule for f in check_resolution(res)}
    assert {"S002", "S003"} <= rules and not res.starts
    assert res.glibc.required == "GLIBC_2.34" and "__libc_start_main" in res.glibc.forcing

    # (Go 1.27's net package needs res_search from libc, glibc 2.34+: the libc fixture here.)
    good = build_in(builder, "clean/libc", target, old_root)
    res = resolve(str(good), FsRoot(new_root), target=tgt, glibc_floor="2.31")
    run = qemu_run(tgt.arch.qemu, new_root, good)
    assert run.returncode == 0, run.stderr[-2000:]
    assert res.starts and not res.missing_versions and not res.glibc.above_floor
    assert not [f for f in check_resolution(res) if f.severity == "error"]
