"""The .pc parser, checked against pkg-config itself on the real .pc files of this machine."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cgocheck.sysroot.pkgconfig import Requirement, parse_pc, parse_requires

HOST_DIRS = [Path("/usr/lib/x86_64-linux-gnu/pkgconfig"), Path("/usr/share/pkgconfig")]


def host_pc_files() -> list[Path]:
    return sorted(p for d in HOST_DIRS if d.is_dir() for p in d.glob("*.pc"))


def pkg_config(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PKG_CONFIG_LIBDIR": ":".join(str(d) for d in HOST_DIRS)}
    return subprocess.run(["pkg-config", *args], capture_output=True, text=True, env=env, check=False)


def test_host_zlib() -> None:
    p = Path("/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc")
    if not p.is_file():
        pytest.skip("no zlib.pc on this machine")
    pc = parse_pc(p.read_text(), str(p))
    assert pc.module == "zlib" and pc.name == "zlib"
    assert pc.version and pc.version.startswith("1.")
    assert pc.variables["libdir"] == "/usr/lib/x86_64-linux-gnu"
    assert pc.libs == "-L/usr/lib/x86_64-linux-gnu -L/usr/lib/x86_64-linux-gnu -lz"
    assert pc.cflags == "-I/usr/include"
    assert pc.variables["pcfiledir"] == str(p.parent)
    assert not pc.warnings


def test_every_host_pc_file_agrees_with_pkg_config() -> None:
    """Differential: Version and Requires of each real .pc file as pkg-config reads them."""
    if shutil.which("pkg-config") is None:
        pytest.skip("pkg-config not installed")
    files = host_pc_files()
    if not files:
        pytest.skip("no .pc files on this machine")
    checked = 0
    for f in files:
        module = f.stem
        if any(f2.stem == module for f2 in files if f2 != f):
            continue  # shadowed: pkg-config answers for the first one
        pc = parse_pc(f.read_text(errors="replace"), str(f))
        mv = pkg_config("--modversion", module)
        if mv.returncode != 0:
            continue  # pkg-config refuses it (a missing Requires): nothing to compare
        assert pc.version == mv.stdout.strip(), f
        req = pkg_config("--print-requires", module)
        if req.returncode == 0:
            theirs = [" ".join(line.split()) for line in req.stdout.splitlines() if line.strip()]
            assert [str(r) for r in pc.requires] == theirs, f
        var = pkg_config("--variable=libdir", module)
        if var.returncode == 0 and "libdir" in pc.variables:
            assert pc.variables["libdir"] == var.stdout.strip(), f
        checked += 1
    assert checked >= 1


def test_syntax_corners() -> None:
    text = (
        "# a comment\n"
        "prefix=/opt/x   \n"
        "libdir=${prefix}/lib\n"
        "money=$$HOME\n"
        "Name: demo\n"
        "Description: has a \\# hash # and a comment\n"
        "Version: 2.5.1\n"
        "Requires: glib-2.0 >= 2.50, zlib,libffi  gio-2.0>=2.0\n"
        "Requires.private: foo = 1\n"
        "Libs: -L${libdir} \\\n"
        "  -ldemo\n"
        "Cflags: -I${includedir}\n"
    )
    pc = parse_pc(text, "/usr/lib/pkgconfig/demo.pc")
    assert pc.module == "demo" and pc.version == "2.5.1"
    assert pc.description == "has a # hash"
    assert pc.variables["libdir"] == "/opt/x/lib"
    assert pc.variables["money"] == "$HOME"
    assert pc.libs == "-L/opt/x/lib   -ldemo"
    assert pc.cflags == "-I"
    assert any("includedir" in w for w in pc.warnings)
    assert pc.requires == (
        Requirement("glib-2.0", ">=", "2.50"),
        Requirement("zlib"),
        Requirement("libffi"),
        Requirement("gio-2.0", ">=", "2.0"),
    )
    assert pc.requires_private == (Requirement("foo", "=", "1"),)


def test_define_variable_override() -> None:
    pc = parse_pc("prefix=/usr\nlibdir=${prefix}/lib\nVersion: 1\n", "/x/a.pc", extra_vars={"prefix": "/sr/usr"})
    assert pc.variables["libdir"] == "/sr/usr/lib"


def test_parse_requires_edge_cases() -> None:
    assert parse_requires("") == ()
    assert parse_requires("a<1 b != 2") == (Requirement("a", "<", "1"), Requirement("b", "!=", "2"))
