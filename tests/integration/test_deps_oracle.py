"""`cgocheck deps` against dpkg-shlibdeps' own answer, on the same binaries and sysroots.

dpkg-shlibdeps runs rootless: in a scratch folder with a fake debian/control, the sysroot's
packages' symbols and shlibs files (what creation keeps in .cgocheck/dpkg) concatenated into
debian/<pkg>/DEBIAN/, the binary installed in that package tree, ``-S<sysroot>`` so the
libraries are found inside the sysroot (DEB_HOST_ARCH names the multiarch folders) and
``-O`` to print the substitution variable. Every binary compared: a sample of the sysroots'
own executables and libraries, and Go programs built against them (SQLite, the cgo
resolver, zlib)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.builder import Builder
from tests.support.cli import cgocheck
from tests.support.home import private_home
from tests.support.need import need, need_tool

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

SYSROOTS = {"bookworm-arm64": "arm64", "bullseye-armhf": "armhf"}
TARGETS = {"bookworm-arm64": "linux/arm64", "bullseye-armhf": "linux/arm/v7"}
STRIDE = 9  # every 9th ELF file of a sysroot: ~35 of its ~300 (all of them: scripts in the report)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_tool("dpkg-shlibdeps")
    h = private_home(tmp_path_factory.mktemp("deps") / "cgocheck-home")
    for name in SYSROOTS:
        proc = cgocheck("sysroot", "create", name, env={**os.environ, "CGOCHECK_HOME": str(h)})
        need(proc.returncode == 0, f"sysroot {name} from the download cache ({proc.stderr[-300:]})")
    return h


def dpkg_shlibdeps(sysroot: Path, arch: str, binary: Path, work: Path) -> str:
    pkg = work / "debian" / "cgocheck-oracle"
    if not (work / "debian" / "control").is_file():
        (pkg / "DEBIAN").mkdir(parents=True)
        (work / "debian" / "control").write_text(
            "Source: cgocheck-oracle\n\nPackage: cgocheck-oracle\nArchitecture: any\n")
        info = sysroot / ".cgocheck" / "dpkg" / "info"
        for kind in ("symbols", "shlibs"):
            (pkg / "DEBIAN" / kind).write_text("".join(p.read_text() for p in sorted(info.glob(f"*.{kind}"))))
    dst = pkg / "usr" / "bin" / binary.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(binary, dst)
    try:
        proc = subprocess.run(["dpkg-shlibdeps", "-O", f"-S{sysroot}", "--warnings=0", str(dst.relative_to(work))],
                              cwd=work, env={**os.environ, "DEB_HOST_ARCH": arch, "LC_ALL": "C"},
                              capture_output=True, text=True, timeout=300, check=False)
    finally:
        dst.unlink()
    assert proc.returncode == 0, proc.stderr
    lines = [ln.split("=", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("shlibs:Depends=")]
    return lines[0] if lines else ""


def elf_files(root: Path) -> list[Path]:
    out = []
    for d in ("usr/lib", "usr/bin", "usr/sbin", "usr/libexec"):
        for dp, _, fn in os.walk(root / d):
            for n in sorted(fn):
                f = Path(dp, n)
                if f.is_symlink() or not f.is_file():
                    continue
                with open(f, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        out.append(f)
    return sorted(out)


def ours(home: Path, binary: Path, sysroot: str) -> str:
    proc = cgocheck("deps", str(binary), "--sysroot", sysroot, env={**os.environ, "CGOCHECK_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize("name", list(SYSROOTS))
def test_sysroot_files_agree_with_dpkg_shlibdeps(name: str, home: Path, tmp_path: Path) -> None:
    root = home / "sysroots" / name
    files = elf_files(root)[::STRIDE]
    assert len(files) >= 20
    from cgocheck.commands.deps import deps

    os.environ["CGOCHECK_HOME"] = str(home)  # in-process: the same code as the command, without 35 starts
    try:
        differ = []
        for f in files:
            want = dpkg_shlibdeps(root, SYSROOTS[name], f, tmp_path)
            got = deps(str(f), str(root)).line
            if got != want:
                differ.append((str(f.relative_to(root)), want, got))
    finally:
        del os.environ["CGOCHECK_HOME"]
    assert not differ, differ


@pytest.mark.parametrize("fixture", ["clean/sqlite3", "clean/netuser", "clean/zlib"])
def test_go_programs_agree_with_dpkg_shlibdeps(fixture: str, home: Path, builder: Builder, tmp_path: Path) -> None:
    name = "bookworm-arm64"
    root = home / "sysroots" / name
    built = builder.build(fixture, TARGETS[name], sysroot=root)
    want = dpkg_shlibdeps(root, SYSROOTS[name], built.path, tmp_path)
    assert ours(home, built.path, str(root)) == want
    assert want.startswith("libc6 (>= 2.")


def test_json_names_the_symbols_that_set_each_version(home: Path, builder: Builder) -> None:
    root = home / "sysroots" / "bookworm-arm64"
    built = builder.build("clean/sqlite3", "linux/arm64", sysroot=root)
    proc = cgocheck("deps", str(built.path), "--sysroot", str(root), "--format", "json",
                    env={**os.environ, "CGOCHECK_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["complete"] and data["database"] == "/.cgocheck/dpkg"
    by_pkg = {d["dependency"].split()[0]: d for d in data["dependencies"]}
    libc = by_pkg["libc6"]
    assert libc["source"] == "symbols" and "libc.so.6" in libc["sonames"]
    assert libc["set_by"] and all(s["minver"] == libc["version"] for s in libc["set_by"])
    assert all("@GLIBC_" in s["symbol"] for s in libc["set_by"])
    libs = {x["soname"]: x for x in data["libraries"]}
    assert libs["libsqlite3.so.0"]["package"] == "libsqlite3-0" and libs["libsqlite3.so.0"]["info"] == "symbols"
    assert libs["libsqlite3.so.0"]["symbols_used"] >= 5


def test_missing_library_is_exit_1(home: Path, builder: Builder, tmp_path: Path) -> None:
    root = home / "sysroots" / "bookworm-arm64"
    built = builder.build("clean/sqlite3", "linux/arm64", sysroot=root)
    bare = tmp_path / "sr"
    shutil.copytree(root, bare, symlinks=True)
    for n in ("libsqlite3.so.0", "libsqlite3.so.0.8.6"):
        (bare / "usr/lib/aarch64-linux-gnu" / n).unlink()
    proc = cgocheck("deps", str(built.path), "--sysroot", str(bare), env={**os.environ, "CGOCHECK_HOME": str(home)})
    assert proc.returncode == 1
    assert "cannot find library libsqlite3.so.0" in proc.stderr
    assert proc.stdout.startswith("libc6 (>= 2.")
