"""Install hints name packages that exist: every Debian package a hint can print is found by
`apt-cache show` on this Debian 12 machine, and no other module spells an install command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cgocheck.core import hints
from tests.support.need import need

PACKAGE_DIR = Path(hints.__file__).resolve().parent


def test_every_hinted_package_exists_in_apt() -> None:
    need(shutil.which("apt-cache") is not None, "apt-cache")
    names = sorted(hints.all_apt_packages())
    assert len(names) > 20  # every cross gcc/g++ of targets.toml, clang/lld, the tools
    proc = subprocess.run(["apt-cache", "show", "--no-all-versions", *names], capture_output=True, text=True)
    found = {ln.split(":", 1)[1].strip() for ln in proc.stdout.splitlines() if ln.startswith("Package:")}
    assert not set(names) - found, f"no such Debian package: {sorted(set(names) - found)}"


@pytest.mark.parametrize(
    ("cc", "hint"),
    [
        ("aarch64-linux-gnu-gcc", "run: apt-get install gcc-aarch64-linux-gnu"),
        ("arm-linux-gnueabihf-g++", "run: apt-get install g++-arm-linux-gnueabihf"),
        ("/usr/bin/riscv64-linux-gnu-gcc -O2", "run: apt-get install gcc-riscv64-linux-gnu"),
        ("x86_64-linux-gnu-g++", "run: apt-get install g++"),
        ("clang", "run: apt-get install clang lld"),
    ],
)
def test_compiler_hints(cc: str, hint: str) -> None:
    assert hints.compiler(cc) == hint


def test_musl_cross_compilers_have_no_made_up_package() -> None:
    h = hints.compiler("aarch64-linux-musl-gcc")
    assert "apt-get" not in h and "--cc clang" in h and "ziglang" in h


def test_no_other_module_spells_an_install_command() -> None:
    offenders = [
        str(p.relative_to(PACKAGE_DIR))
        for p in PACKAGE_DIR.rglob("*.py")
        if p.name != "hints.py" and "apt-get install" in p.read_text()
    ]
    assert not offenders
