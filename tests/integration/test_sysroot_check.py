"""`cgocheck sysroot check` on the real test sysroots, on broken copies of one, and at the end
of `sysroot create`; sysroots made by other creation code are flagged and re-made."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cgocheck.core import folders
from cgocheck.sysroot.creator import creation_digest
from tests.support.cli import cgocheck, one_error_line
from tests.support.home import private_home
from tests.support.need import need, need_tool

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

# what scripts/bootstrap creates for the tests, each must pass as created
TEST_SYSROOTS = [
    "bookworm-arm64",
    "bullseye-arm64",
    "bookworm-armhf",
    "bullseye-armhf",
    "bookworm-armel",
    "bookworm-amd64",
    "bookworm-arm64-musl",
    "trixie-arm64",
]


def created(name: str) -> Path:
    p = folders.sysroots() / name
    need((p / ".cgocheck" / "complete").is_file(), f"sysroot {name}")
    return p


def check_json(ref: str | Path, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    proc = cgocheck("sysroot", "check", str(ref), "--format", "json", env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("name", TEST_SYSROOTS)
def test_every_test_sysroot_passes_as_created(name: str) -> None:
    p = created(name)
    rc, data = check_json(name)
    assert rc == 0 and data["ok"], data["problems"]
    assert data["counts"]["loaders"] >= 1 and data["counts"]["links"] > 0
    assert data["counts"]["crt"] >= 1  # every test sysroot has libc6-dev or musl-dev
    # made by this checkout's creation code (what CI proves before it uses them)
    meta = json.loads((p / ".cgocheck" / "meta.json").read_text())
    assert meta["creator"] == creation_digest()
    # the defect this check was made for: the amd64 loader link dangled after usrmerge
    loader = {"bookworm-amd64": "lib64/ld-linux-x86-64.so.2"}.get(name)
    if loader:
        assert (p / loader).resolve().is_file()


@pytest.fixture(scope="module")
def arm64_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = created("bookworm-arm64")
    dst = tmp_path_factory.mktemp("copy") / "sysroot"
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".cgocheck"))
    return dst


def _fresh(arm64_copy: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "sr"
    shutil.copytree(arm64_copy, dst, symlinks=True)
    return dst


LIB = "usr/lib/aarch64-linux-gnu"


def _dangle_loader(root: Path) -> tuple[str, str]:
    (root / LIB / "ld-linux-aarch64.so.1").unlink()
    return "loader", "/lib/ld-linux-aarch64.so.1"


def _absolute_link(root: Path) -> tuple[str, str]:
    link = root / LIB / "libz.so"
    link.unlink()
    os.symlink("/usr/lib/aarch64-linux-gnu/libz.so.1", link)  # what packages ship; ld follows it onto the host
    return "link", f"/{LIB}/libz.so"


def _escaping_link(root: Path) -> tuple[str, str]:
    os.symlink("../../../../../../etc/passwd", root / LIB / "escape")
    return "link", f"/{LIB}/escape"


def _dangling_link(root: Path) -> tuple[str, str]:
    os.symlink("libnothere.so.9", root / LIB / "libnothere.so")
    return "link", f"/{LIB}/libnothere.so"


def _no_crti(root: Path) -> tuple[str, str]:
    (root / LIB / "crti.o").unlink()
    return "crt", f"/{LIB}"


def _script_names_missing(root: Path) -> tuple[str, str]:
    script = root / LIB / "libc.so"
    script.write_text(script.read_text().replace("libc_nonshared.a", "libc_gone.a"))
    return "ldscript", f"/{LIB}/libc.so"


def _bad_pc(root: Path) -> tuple[str, str]:
    pc = root / LIB / "pkgconfig" / "zlib.pc"
    pc.write_text("\n".join(ln for ln in pc.read_text().splitlines() if not ln.startswith("Version:")) + "\n")
    return "pkgconfig", f"/{LIB}/pkgconfig/zlib.pc"


def _wrong_loader(root: Path) -> tuple[str, str]:
    target = root / LIB / "ld-linux-aarch64.so.1"
    target.unlink()
    armhf = created("bookworm-armhf") / "usr/lib/arm-linux-gnueabihf/ld-linux-armhf.so.3"
    shutil.copy(armhf.resolve(), target)
    return "loader", "/lib/ld-linux-aarch64.so.1"


@pytest.mark.parametrize(
    "breakage",
    [
        _dangle_loader,
        _absolute_link,
        _escaping_link,
        _dangling_link,
        _no_crti,
        _script_names_missing,
        _bad_pc,
        _wrong_loader,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_broken_sysroot_fails_naming_the_path(arm64_copy: Path, tmp_path: Path, breakage) -> None:  # type: ignore[no-untyped-def]
    root = _fresh(arm64_copy, tmp_path)
    rc, data = check_json(root)
    assert rc == 0, data["problems"]  # the twin: the same copy unbroken is clean
    kind, where = breakage(root)
    rc, data = check_json(root)
    assert rc == 1 and not data["ok"]
    assert (kind, where) in {(p["kind"], p["path"]) for p in data["problems"]}, data["problems"]
    table = cgocheck("sysroot", "check", str(root))
    assert table.returncode == 1 and where in table.stdout


def test_check_reads_nothing_outside(arm64_copy: Path, tmp_path: Path) -> None:
    """Links out of the sysroot are judged, never followed: strace sees no open outside."""
    strace = need_tool("strace")
    root = _fresh(arm64_copy, tmp_path)
    _absolute_link(root)
    _escaping_link(root)
    os.symlink("/etc", root / "usr/lib/etc-abs")
    log = tmp_path / "trace"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [
            strace,
            "-f",
            "-qq",
            "-e",
            "trace=open,openat,stat,lstat,newfstatat,readlink,readlinkat",
            "-o",
            str(log),
            sys.executable,
            "-m",
            "cgocheck",
            "sysroot",
            "check",
            str(root),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 1 and "escape" in proc.stdout, proc.stderr  # it ran and judged the links
    trace = log.read_text().splitlines()
    assert any(f"{root}/{LIB}/libz.so" in ln for ln in trace)  # the trace saw the check at work
    # the path each call was asked about (its first quoted argument)
    asked = [m.group(1) for ln in trace if (m := re.search(r'\((?:AT_FDCWD, )?"([^"]*)"', ln))]
    leads_to = {"/etc", "/etc/passwd", "/usr/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/aarch64-linux-gnu"}
    touched = [a for a in asked if a in leads_to]
    assert not touched, touched[:5]


def test_create_refuses_a_sysroot_that_fails_its_check(tmp_path: Path) -> None:
    """zlib1g-dev without zlib1g: its libz.so link dangles. create ends in exit 3 naming the
    offending path, and leaves no sysroot behind."""
    need_tool("apt-get")
    home = private_home(tmp_path / "cgocheck-home")
    recipe = tmp_path / "sysroots" / "nolibc-arm64.toml"
    recipe.parent.mkdir()
    recipe.write_text(
        'name = "nolibc-arm64"\nsuite = "bookworm"\narch = "arm64"\nlibc = "glibc"\n'
        'packages = ["libc6-dev", "zlib1g-dev"]\nexclude = ["zlib1g"]\n'
        'exclude_reason = "a test: a sysroot that must fail"\n'
    )
    env = {**os.environ, "CGOCHECK_HOME": str(home)}
    proc = cgocheck("sysroot", "create", str(recipe), env=env)
    assert proc.returncode == 3, proc.stderr
    line = one_error_line(proc)
    assert "failed its check" in line and "/usr/lib/aarch64-linux-gnu/libz.so: -> " in line and "dangles" in line
    assert not (home / "sysroots" / "nolibc-arm64").exists()
    assert not list((home / "sysroots").glob(".tmp-*"))
    listed = cgocheck("sysroot", "list", "--format", "json", env=env)
    assert "nolibc-arm64" not in listed.stdout


def test_other_creation_code_is_flagged_and_remade(tmp_path: Path) -> None:
    need_tool("apt-get")
    home = private_home(tmp_path / "cgocheck-home")
    env = {**os.environ, "CGOCHECK_HOME": str(home)}
    first = cgocheck("sysroot", "create", "bookworm-arm64", "--format", "json", env=env)
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert not made["reused"]
    meta_path = home / "sysroots" / "bookworm-arm64" / ".cgocheck" / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert meta["creator"] == creation_digest()
    # what an older cgocheck would have left: another creation digest
    meta["creator"] = "0" * 16
    meta_path.write_text(json.dumps(meta))
    listed = cgocheck("sysroot", "list", env=env)
    assert "OTHER CODE" in listed.stdout and "bookworm-arm64" in listed.stderr
    info = cgocheck("sysroot", "info", "bookworm-arm64", "--format", "json", env=env)
    assert json.loads(info.stdout)["creator_current"] is False
    again = cgocheck("sysroot", "create", "bookworm-arm64", "--format", "json", env=env)
    assert again.returncode == 0, again.stderr
    remade = json.loads(again.stdout)
    assert not remade["reused"] and remade["downloaded"] == 0  # from the cached packages
    assert remade["digest"] == made["digest"]  # the same packages, the same tree
    assert "other creation code" in again.stderr
    assert json.loads(meta_path.read_text())["creator"] == creation_digest()
    # and now it counts: a third create reuses it
    third = cgocheck("sysroot", "create", "bookworm-arm64", "--format", "json", env=env)
    assert json.loads(third.stdout)["reused"]
