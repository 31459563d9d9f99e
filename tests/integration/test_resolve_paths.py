"""Run paths and musl, against the real loaders under qemu.

A Go program links a C library libgreet.so that needs libhelper.so; both live next to the
program in /opt/app/lib of a small sysroot assembled at test time (the cross libc's loader
and libc plus the two libraries), found through $ORIGIN/../lib:
- as DT_RPATH, the executable's run path also serves libgreet's own needs (inherited);
- as DT_RUNPATH, it does not: libhelper.so is not found and the program does not start.
glibc's ld.so must agree with cgocheck on both. The musl case runs a program linked against
Debian's musl and a musl-built library found through /etc/ld-musl-aarch64.path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cgocheck.checks import check_resolution
from cgocheck.core.targets import parse_target
from cgocheck.loader.resolve import resolve
from cgocheck.sysroot.fsroot import FsRoot
from tests.support.builder import GO_NEW, Builder
from tests.support.need import need, need_tool, sysroot
from tests.support.resolve import compare, oracle

pytestmark = pytest.mark.integration

CROSS = Path("/usr/aarch64-linux-gnu")
T = "aarch64-linux-gnu"
GREET_GO = """package main

// #cgo LDFLAGS: -lgreet
// int greet(void);
import "C"

import "fmt"

func main() { fmt.Println("greet", C.greet()) }
"""


def cc(*args: str, cwd: Path, compiler: str = f"{T}-gcc") -> None:
    need_tool(compiler)
    proc = subprocess.run([compiler, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def app_sysroot(tmp: Path) -> Path:
    """The cross libc's loader and libc in Debian's multiarch place, plus /opt/app/lib."""
    need((CROSS / "lib" / "libc.so.6").is_file(), "libc6-arm64-cross")
    root = tmp / "sysroot"
    lib = root / "lib" / T
    lib.mkdir(parents=True)
    for name in ("ld-linux-aarch64.so.1", "libc.so.6"):
        shutil.copy2(CROSS / "lib" / name, lib / name)
    os.symlink(f"{T}/ld-linux-aarch64.so.1", root / "lib" / "ld-linux-aarch64.so.1")
    app = root / "opt" / "app" / "lib"
    app.mkdir(parents=True)
    (tmp / "helper.c").write_text("int helper(void) { return 41; }\n")
    (tmp / "greet.c").write_text("int helper(void);\nint greet(void) { return helper() + 1; }\n")
    cc("-shared", "-fPIC", "-o", str(app / "libhelper.so"), "-Wl,-soname,libhelper.so", "helper.c", cwd=tmp)
    cc(
        "-shared",
        "-fPIC",
        "-o",
        str(app / "libgreet.so"),
        "-Wl,-soname,libgreet.so",
        "greet.c",
        f"-L{app}",
        "-lhelper",
        cwd=tmp,
    )
    return root


@pytest.mark.parametrize("dtags", ["rpath", "runpath"])
def test_origin_rpath_inheritance_matches_the_loader(dtags: str, builder: Builder, tmp_path: Path) -> None:
    root = app_sysroot(tmp_path)
    mod = tmp_path / "greet"
    mod.mkdir()
    (mod / "go.mod").write_text("module example.com/greet\n\ngo 1.19\n")
    (mod / "main.go").write_text(GREET_GO)
    new_dtags = "--disable-new-dtags" if dtags == "rpath" else "--enable-new-dtags"
    built = builder.build(
        str(mod),
        "linux/arm64",
        GO_NEW,
        ldflags_c=f"-L{root}/opt/app/lib -Wl,-rpath,$ORIGIN/../lib -Wl,{new_dtags}",
    )
    binary = root / "opt" / "app" / "bin" / "prog"
    binary.parent.mkdir(parents=True)
    shutil.copy2(built.path, binary)

    res = resolve(str(binary), FsRoot(root), target=parse_target("linux/arm64"))
    assert res.setup.install_dir == "/opt/app/bin"
    orc = oracle("qemu-aarch64", root, binary)
    found = [(n, p[len(str(root)) :] if p and p.startswith(str(root)) else p) for n, p in orc.libraries]
    greet = res.library("libgreet.so")
    assert greet is not None and greet.path == "/opt/app/bin/../lib/libgreet.so"
    assert ("libgreet.so", greet.path) in found
    if dtags == "rpath":
        helper = res.library("libhelper.so")
        assert helper is not None and (helper.found_via, helper.source) == ("rpath", str(binary))
        assert orc.run.returncode == 0 and "greet 42" in orc.run.stdout
        compare(res, orc, binary, strip=str(root))
        assert res.starts
    else:
        assert ("libhelper.so", None) in found  # ldd: "libhelper.so => not found"
        assert [m.name for m in res.missing_libraries] == ["libhelper.so"]
        assert res.missing_libraries[0].needed_by == ("libgreet.so",)
        assert "L001" in {f.rule for f in check_resolution(res)}
        assert orc.run.returncode != 0 and "libhelper.so: cannot open shared object file" in orc.run.stderr


def test_musl_loader_and_path_file_match_musl(tmp_path: Path) -> None:
    musl = sysroot("bookworm-arm64-musl")
    need_tool("qemu-aarch64")
    m = musl / "usr" / "lib" / "aarch64-linux-musl"
    inc = musl / "usr" / "include" / "aarch64-linux-musl"
    gcc_inc = subprocess.run([f"{T}-gcc", "-print-file-name=include"], capture_output=True, text=True).stdout.strip()
    libgcc = subprocess.run([f"{T}-gcc", "-print-libgcc-file-name"], capture_output=True, text=True).stdout.strip()
    musl_cc = ("-nostdinc", "-nostdlib", "-isystem", str(inc), "-isystem", gcc_inc)
    # A small sysroot: musl's libc (its own loader) and a musl-built library in /opt/musl/lib.
    root = tmp_path / "sysroot"
    (root / "lib").mkdir(parents=True)
    shutil.copy2(m / "libc.so", root / "lib" / "ld-musl-aarch64.so.1")
    (root / "etc").mkdir()
    (root / "etc" / "ld-musl-aarch64.path").write_text("/opt/musl/lib\n/lib\n")
    (root / "opt" / "musl" / "lib").mkdir(parents=True)
    (tmp_path / "greet.c").write_text('#include <stdio.h>\nint greet(void) { puts("hi from musl"); return 1; }\n')
    cc(
        *musl_cc,
        "-shared",
        "-fPIC",
        "-o",
        str(root / "opt/musl/lib/libgreet.so"),
        "-Wl,-soname,libgreet.so",
        "greet.c",
        f"-L{m}",
        "-lc",
        cwd=tmp_path,
    )
    (tmp_path / "main.c").write_text(
        "#include <math.h>\nint greet(void);\nint main(int c, char **v) { return greet() && sqrt(c) > 0 ? 0 : 1; }\n"
    )
    prog = tmp_path / "prog"
    cc(
        *musl_cc,
        "-fPIE",
        "-pie",
        "-o",
        str(prog),
        str(m / "Scrt1.o"),
        str(m / "crti.o"),
        "main.c",
        f"-L{root}/opt/musl/lib",
        "-lgreet",
        f"-L{m}",
        "-lc",
        "-lm",
        libgcc,
        str(m / "crtn.o"),
        "-Wl,-dynamic-linker,/lib/ld-musl-aarch64.so.1",
        cwd=tmp_path,
    )

    res = resolve(str(prog), FsRoot(root), target=parse_target("linux/arm64/musl"))
    assert res.setup.flavour == "musl"
    assert res.setup.default_dirs == ("/opt/musl/lib", "/lib")
    assert [(lib.name, lib.path, lib.found_via) for lib in res.libraries] == [
        ("libgreet.so", "/opt/musl/lib/libgreet.so", "default"),
        ("/lib/ld-musl-aarch64.so.1", "/lib/ld-musl-aarch64.so.1", "loader"),  # libc.so is musl's loader
    ]
    assert res.starts and not [f for f in check_resolution(res) if f.severity == "error"]
    run = subprocess.run(["env", "-i", "qemu-aarch64", "-L", str(root), str(prog)], capture_output=True, text=True)
    assert run.returncode == 0 and "hi from musl" in run.stdout
    # musl's own ldd mode (argv[0] "ldd"): the same libraries at the same paths
    ldd = subprocess.run(
        [
            "env",
            "-i",
            "qemu-aarch64",
            "-L",
            str(root),
            "-0",
            "ldd",
            str(root / "lib" / "ld-musl-aarch64.so.1"),
            str(prog),
        ],
        capture_output=True,
        text=True,
    )
    paths = {line.split("=>")[-1].split("(")[0].strip() for line in ldd.stdout.splitlines() if line.strip()}
    assert paths == {lib.path for lib in res.libraries}
    # every symbol of the program binds where musl would: libgreet or libc (the loader)
    provs = {b.symbol: b.provider_path for b in res.bindings if b.requester == str(prog)}
    assert provs["greet"] == "/opt/musl/lib/libgreet.so" and provs["sqrt"] == "/lib/ld-musl-aarch64.so.1"
