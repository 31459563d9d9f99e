"""`sysroot info` on folders cgocheck did not make: this machine's own root, an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cgocheck.core.errors import BadInput, EnvironmentProblem
from cgocheck.sysroot import find_sysroot
from cgocheck.sysroot.info import inspect_sysroot, musl_version


def dpkg_version(pkg: str) -> str | None:
    if shutil.which("dpkg-query") is None:
        return None
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def test_host_root_as_a_sysroot() -> None:
    libc6 = dpkg_version("libc6")
    if libc6 is None or not Path("/lib64/ld-linux-x86-64.so.2").exists():
        pytest.skip("not a Debian amd64 machine")
    info = inspect_sysroot("/")
    assert not info.created_by_cgocheck and info.digest is None
    assert info.libc == "glibc"
    assert info.libc_version == libc6.split("-")[0]  # 2.36-9+deb12u14 -> 2.36
    assert info.libc_banner is not None and libc6 in info.libc_banner
    assert info.targets == ("linux/amd64",) and info.machine == "EM_X86_64"
    assert info.loader == "/lib64/ld-linux-x86-64.so.2"
    assert info.glibc_versions[0] == "GLIBC_2.2.5"
    z = info.module("zlib")
    if shutil.which("pkg-config") and z is not None:
        out = subprocess.run(["pkg-config", "--modversion", "zlib"], capture_output=True, text=True)
        assert z.version == out.stdout.strip()


def test_host_musl_version_string() -> None:
    musl = dpkg_version("musl")
    p = Path("/usr/lib/x86_64-linux-musl/libc.so")
    if musl is None or not p.is_file():
        pytest.skip("musl is not installed here")
    version, doubts = musl_version(p.read_bytes())
    assert version == musl.split("-")[0] and doubts == []


def test_a_folder_without_libc(tmp_path: Path) -> None:
    info = inspect_sysroot(tmp_path)
    assert info.libc is None and info.targets == () and info.pkgconfig == ()
    assert any("no glibc" in w for w in info.warnings)


def test_links_never_lead_out(tmp_path: Path) -> None:
    """A sysroot whose libc link points at the host's libc finds nothing outside itself."""
    (tmp_path / "lib/x86_64-linux-gnu").mkdir(parents=True)
    os.symlink("/lib/x86_64-linux-gnu/libc.so.6", tmp_path / "lib/x86_64-linux-gnu/libc.so.6")
    os.symlink("../../../../../../usr/lib/x86_64-linux-gnu/libc.so.6", tmp_path / "lib/x86_64-linux-gnu/libc.so")
    info = inspect_sysroot(tmp_path)
    assert info.libc is None
    assert any("symlink loop" in w for w in info.warnings)


def test_unfinished_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".cgocheck").mkdir()
    (tmp_path / ".cgocheck/creating").write_text("1\n")
    with pytest.raises(EnvironmentProblem, match="incomplete"):
        inspect_sysroot(tmp_path)
    with pytest.raises(EnvironmentProblem, match="incomplete"):
        find_sysroot(str(tmp_path))
    (tmp_path / ".cgocheck/complete").write_text("x\n")
    assert find_sysroot(str(tmp_path)) == tmp_path
    with pytest.raises(BadInput, match="does not exist"):
        find_sysroot(str(tmp_path / "nope"))
