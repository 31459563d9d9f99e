"""Split-debug files are a supported input: `objcopy --only-keep-debug` output (PT_LOAD and
PT_INTERP with p_filesz 0, allocated sections SHT_NOBITS) is read as what it is, and the
facts say so (``debug_only``), with the build id, the DWARF and its producers.

The debug files are made at test time with the target's own binutils (the cross objcopy)
from real files: the libc, libm and loader of every Debian sysroot in the cache, and cgo
programs cross-built by Go; the oracle is binutils' readelf (interpreter, type, build id,
dynamic section) and the file the debug file was split from (DWARF, symbols). The host's
libc6-dbg package, when installed, is read too: its files are named by their build id.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from cgocheck.elf import read_elf, read_shared_object
from tests.support.builder import GO_NEW, Builder
from tests.support.cli import run
from tests.support.elfedit import cli, read_in_child
from tests.support.need import need, need_tool
from tests.support.oracles import readelf

pytestmark = pytest.mark.integration

OBJCOPY = {"AArch64": "aarch64-linux-gnu-objcopy", "ARM": "arm-linux-gnueabihf-objcopy",
           "Advanced Micro Devices X86-64": "x86_64-linux-gnu-objcopy", "RISC-V": "riscv64-linux-gnu-objcopy",
           "IBM S/390": "s390x-linux-gnu-objcopy", "Intel 80386": "i686-linux-gnu-objcopy"}
SYSROOT_LIBS = ("libc.so.6", "libm.so.6", "ld-linux-aarch64.so.1", "ld-linux-armhf.so.3", "ld-linux.so.3",
                "ld-linux-x86-64.so.2")
GO_TARGETS = ("linux/arm64", "linux/arm/v7", "linux/riscv64", "linux/amd64", "linux/s390x")
LIBC6_DBG = Path("/usr/lib/debug/.build-id")


@dataclass(frozen=True)
class Split:
    original: Path
    debug: Path


def build_id(path: Path) -> str | None:
    m = re.search(r"Build ID: ([0-9a-f]+)", run(["readelf", "-n", "-W", str(path)]).stdout)
    return m.group(1) if m else None


def split(src: Path, dest: Path) -> Split:
    """DEST: SRC's debug file, made by the objcopy of SRC's own machine."""
    machine = readelf(src).machine
    tool = need_tool(OBJCOPY[machine]) if machine in OBJCOPY else need_tool("objcopy")
    subprocess.run([tool, "--only-keep-debug", str(src), str(dest)], check=True, capture_output=True)
    return Split(src, dest)


@pytest.fixture(scope="module")
def sysroot_debug_files(tmp_path_factory: pytest.TempPathFactory) -> list[Split]:
    from cgocheck.core import folders

    top = folders.sysroots()
    need(top.is_dir() and any(top.iterdir()), "Debian sysroots (cgocheck sysroot create)")
    out = tmp_path_factory.mktemp("sysroot-debug")
    made = []
    for root in sorted(p for p in top.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for lib in sorted((root / "usr" / "lib").glob("*-linux-*/*.so*")):
            if lib.name in SYSROOT_LIBS and lib.resolve().is_file():
                made.append(split(lib.resolve(), out / f"{root.name}-{lib.name}.debug"))
    need(len(made) >= 3, "sysroot libraries to split")
    return made


@pytest.fixture(scope="module")
def go_debug_files(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> list[Split]:
    out = tmp_path_factory.mktemp("go-debug")
    made = []
    for target in GO_TARGETS:
        built = builder.build("clean/libc", target, GO_NEW, "gcc").path
        made.append(split(built, out / f"{target.replace('/', '_')}.debug"))
    lib = builder.build("clean/cshared", "linux/arm/v7", GO_NEW, go_flags=("-buildmode=c-shared",)).path
    made.append(split(lib, out / "cshared_arm_v7.debug"))
    return made


def assert_matches_readelf(s: Split) -> None:
    ref = readelf(s.debug)
    facts = read_elf(str(s.debug))
    assert facts.debug_only, s.debug.name
    assert facts.interpreter is None and ref.interpreter is None
    assert {"exec": "EXEC", "pie": "DYN", "shared": "DYN"}[facts.header.file_type] == ref.file_type
    assert facts.header.machine_code == read_elf(str(s.original), dwarf=False, go=False).header.machine_code
    assert facts.header.flags == ref.flags and facts.header.elf_class == ref.elf_class
    assert facts.build_id is not None and facts.build_id == build_id(s.debug) == build_id(s.original)
    assert list(facts.needed) == ref.needed == [] and facts.soname == ref.soname
    assert not facts.undefined and not facts.verneed  # the dynamic tables are not in a debug file


def test_sysroot_library_debug_files(sysroot_debug_files: list[Split]) -> None:
    for s in sysroot_debug_files:
        assert_matches_readelf(s)
        original = read_elf(str(s.original))
        assert not original.debug_only
        assert read_elf(str(s.debug)).static == original.static
        so = read_shared_object(str(s.debug))  # resolve reads it without refusal too
        assert so.header == read_elf(str(s.debug)).header and so.defined == ()


def test_go_program_debug_files(go_debug_files: list[Split]) -> None:
    for s in go_debug_files:
        assert_matches_readelf(s)
        facts, original = read_elf(str(s.debug)), read_elf(str(s.original))
        assert not original.debug_only
        assert facts.dwarf == original.dwarf and facts.dwarf  # DWARF, producers, C files: all there
        assert {u.producer for u in facts.dwarf if u.language == "C"} and facts.has_debug_info
        assert facts.go is not None and original.go is not None
        assert facts.go.cgo_linked == original.go.cgo_linked  # from .symtab, which the debug file keeps
        assert facts.go.buildinfo is None and original.go.buildinfo is not None
        assert any("split-debug" in w for w in facts.warnings), facts.warnings
        assert not any("damaged" in w or "Error" in w for w in facts.warnings), facts.warnings


def test_debug_files_within_budget(sysroot_debug_files: list[Split], go_debug_files: list[Split]) -> None:
    for s in (sysroot_debug_files[:2] + go_debug_files[:2]):
        got = read_in_child(s.debug)
        assert got["elf"]["debug_only"] and "error" not in got["so"]


def test_directory_walk_of_debug_files(sysroot_debug_files: list[Split], go_debug_files: list[Split]) -> None:
    """`inspect DIR` over a folder of debug files: every file reported, none refused."""
    folders = {s.debug.parent for s in sysroot_debug_files + go_debug_files}
    for folder in folders:
        proc = cli(folder, "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr
        report = json.loads(proc.stdout)
        assert report["errors"] == []
        assert len(report["files"]) == len(list(folder.iterdir()))
        assert all(f["facts"]["debug_only"] for f in report["files"])


def test_libc6_dbg_files() -> None:
    """The host's libc6-dbg (a real -dbg package): every file is read, none refused, and its
    build id is the one its path names (.build-id/xx/yyyy.debug)."""
    files = sorted(LIBC6_DBG.glob("*/*.debug")) if LIBC6_DBG.is_dir() else []
    need(bool(files), "the host's libc6-dbg package (/usr/lib/debug/.build-id)")
    proc = cli(LIBC6_DBG, "--format", "json", seconds=300)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert report["errors"] == [], report["errors"][:3]
    for f in report["files"]:
        p = Path(f["path"])
        if p.suffix == ".debug" and p.resolve().parent.parent == LIBC6_DBG.resolve():
            assert f["facts"]["build_id"] == p.parent.name + p.stem, p
            assert f["facts"]["debug_only"] and f["facts"]["interpreter"] is None
