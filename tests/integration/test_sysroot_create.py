"""Real sysroots from Debian's archive: create, inspect, lock, interrupt.

Uses the default cache (``folders.home()``) so reruns take seconds; tests that need an empty
or private home make one under tmp_path and link the shared download cache and apt state
into it, so they do not download again either.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cgocheck.core import folders
from cgocheck.core.errors import BadInput, EnvironmentProblem
from cgocheck.sysroot import find_sysroot
from cgocheck.sysroot.create import CreateResult, content_digest, create, debs_dir, read_lock
from cgocheck.sysroot.info import inspect_sysroot, list_sysroots
from cgocheck.sysroot.recipe import Recipe, find_recipe, recipes_dir
from tests.support.cli import cgocheck, child_env
from tests.support.home import private_home
from tests.support.need import need_tool

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

CASES = {
    # name: (glibc version, loader, zlib version, gcc, qemu)
    "bookworm-arm64": ("2.36", "/lib/ld-linux-aarch64.so.1", "1.2.13", "aarch64-linux-gnu-gcc", "qemu-aarch64"),
    "bullseye-armhf": ("2.31", "/lib/ld-linux-armhf.so.3", "1.2.11", "arm-linux-gnueabihf-gcc", "qemu-arm"),
}

_made: dict[str, CreateResult] = {}


def recipe(name: str) -> Recipe:
    r = find_recipe(name)
    assert r is not None
    return r


def ensure(name: str) -> CreateResult:
    need_tool("apt-get")
    need_tool("dpkg-deb")
    if name not in _made:
        _made[name] = create(recipe(name))
    return _made[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_info_reads_libc_loader_and_pkgconfig(name: str) -> None:
    version, loader, zlib, _, _ = CASES[name]
    res = ensure(name)
    info = inspect_sysroot(res.path)
    assert info.libc == "glibc" and info.libc_version == version
    assert info.loader == loader and info.loader_target is not None
    assert info.recipe == name and info.digest == res.digest
    assert f"GLIBC_{version}" in info.glibc_versions or name.startswith("bullseye")  # 2.31 adds no node
    z = info.module("zlib")
    assert z is not None and z.version == zlib
    # oracle: pkg-config itself, confined to the sysroot
    need_tool("pkg-config")
    triplet = recipe(name).triplet()
    env = {
        "PATH": "/usr/bin:/bin",
        "PKG_CONFIG_LIBDIR": f"{res.path}/usr/lib/{triplet}/pkgconfig:{res.path}/usr/share/pkgconfig",
        "PKG_CONFIG_SYSROOT_DIR": str(res.path),
    }
    for m in info.pkgconfig:
        out = subprocess.run(["pkg-config", "--modversion", m.module], capture_output=True, text=True, env=env)
        assert out.returncode == 0 and out.stdout.strip() == m.version, m


@pytest.mark.parametrize("name", sorted(CASES))
def test_sysroot_links_and_runs_a_program(name: str, tmp_path: Path) -> None:
    """End to end: a C program linked against the sysroot's zlib runs under qemu with it."""
    _, _, zlib, gcc, qemu = CASES[name]
    res = ensure(name)
    need_tool(gcc)
    need_tool(qemu)
    src = tmp_path / "z.c"
    src.write_text("#include <stdio.h>\n#include <zlib.h>\nint main(void){puts(zlibVersion());return 0;}\n")
    t = recipe(name).triplet()
    s = res.path
    # Debian's cross gcc searches its own /usr/<triplet>/lib before the sysroot: -B/-L make
    # the sysroot's crt files and libc win, as a sysroot-only build must.
    build = subprocess.run(
        [gcc, f"--sysroot={s}", f"-B{s}/usr/lib/{t}", f"-L{s}/usr/lib/{t}", str(src), "-lz", "-o", str(tmp_path / "z")],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run([qemu, "-L", str(s), str(tmp_path / "z")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == zlib


def test_absolute_symlinks_become_relative_inside(tmp_path: Path) -> None:
    res = ensure("bookworm-arm64")
    lock = read_lock(res.path / ".cgocheck/lock.json")
    (zdev,) = [p for p in lock.packages if p.name == "zlib1g-dev"]
    deb = debs_dir() / Path(zdev.filename).name
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./usr/lib/aarch64-linux-gnu/libz.so -> /lib/aarch64-linux-gnu/libz.so.1.2.13" in listing
    link = res.path / "usr/lib/aarch64-linux-gnu/libz.so"
    assert os.readlink(link) == "libz.so.1.2.13"
    top = str(res.path.resolve())
    links = 0
    for dirpath, dirnames, filenames in os.walk(res.path):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                links += 1
                assert not os.readlink(p).startswith("/"), p
                real = os.path.realpath(p)
                assert real == top or real.startswith(top + os.sep), (p, real)
    assert links > 10
    # usrmerge: the loader path resolves inside through lib -> usr/lib
    assert os.readlink(res.path / "lib") == "usr/lib"
    assert (res.path / "lib/ld-linux-aarch64.so.1").resolve().is_file()


def test_digest_is_reproducible() -> None:
    first = ensure("bookworm-arm64")
    again = create(recipe("bookworm-arm64"), force=True)
    _made["bookworm-arm64"] = again
    assert not again.reused and again.downloaded == 0
    assert again.digest == first.digest
    assert content_digest(again.path) == again.digest
    assert (again.path / ".cgocheck/complete").read_text().strip() == again.digest


def test_locked_recreates_the_same_sysroot(tmp_path: Path) -> None:
    base = ensure("bullseye-armhf")
    rfile = tmp_path / "bullseye-armhf.toml"
    shutil.copy(recipes_dir() / "bullseye-armhf.toml", rfile)
    r = find_recipe(str(rfile))
    assert r is not None
    written = create(r, force=True, write_lock=True)
    lock_path = tmp_path / "bullseye-armhf.lock.json"
    assert written.lock_written == lock_path and lock_path.is_file()
    assert written.digest == base.digest
    again = create(r, force=True, locked=True)
    assert again.digest == base.digest
    assert read_lock(again.path / ".cgocheck/lock.json").packages == read_lock(lock_path).packages
    _made["bullseye-armhf"] = again

    # a version the archive does not have: exit 3, naming the package and the version
    data = json.loads(lock_path.read_text())
    for p in data["packages"]:
        if p["name"] == "zlib1g":
            p["version"] = "1:1.2.11.dfsg-0nosuch1"
    lock_path.write_text(json.dumps(data))
    with pytest.raises(EnvironmentProblem, match=r"no longer has zlib1g 1:1.2.11.dfsg-0nosuch1"):
        create(r, force=True, locked=True)
    out = cgocheck("sysroot", "create", str(rfile), "--locked", "--force")
    assert out.returncode == 3, out.stderr
    assert out.stderr.count("\n") == 1 and "zlib1g 1:1.2.11.dfsg-0nosuch1" in out.stderr
    assert "Traceback" not in out.stderr
    # the sysroot that was there is untouched
    assert inspect_sysroot(again.path).digest == base.digest


def test_interrupted_creation_is_never_listed(tmp_path: Path) -> None:
    ensure("bookworm-arm64")  # warm the shared download cache
    env = dict(os.environ, CGOCHECK_HOME=str(private_home(tmp_path / "home")))  # downloads and apt lists shared
    home = Path(env["CGOCHECK_HOME"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "cgocheck", "sysroot", "create", "bookworm-arm64"],
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    tmps: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        tmps = list((home / "sysroots").glob(".tmp-bookworm-arm64-*")) if (home / "sysroots").is_dir() else []
        if tmps and any((tmps[0] / "usr").glob("*")):
            break
        time.sleep(0.005)
    assert proc.poll() is None, f"create finished before it could be interrupted: {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tmps and tmps[0].is_dir()  # the half-made folder is still there ...
    # ... and nothing reports it
    out = cgocheck("sysroot", "list", "--format", "json", env=env)
    assert out.returncode == 0 and json.loads(out.stdout) == []
    assert list_sysroots(home / "sysroots") == []
    out = cgocheck("sysroot", "info", "bookworm-arm64", env=env)
    assert out.returncode == 3 and "run: cgocheck sysroot create bookworm-arm64" in out.stderr
    out = cgocheck("sysroot", "info", str(tmps[0]), env=env)  # even by path
    assert out.returncode == 3 and "incomplete" in out.stderr
    # the next create cleans it up (and any other name's leftovers no process holds) and finishes
    other = home / "sysroots" / ".tmp-bullseye-armhf-0123abcd"
    (other / "usr").mkdir(parents=True)
    out = cgocheck("sysroot", "create", "bookworm-arm64", "--format", "json", env=env)
    assert out.returncode == 0, out.stderr
    done = json.loads(out.stdout)
    assert not tmps[0].exists() and not other.exists()
    assert done["digest"] == ensure("bookworm-arm64").digest  # same content in another home
    listed = json.loads(cgocheck("sysroot", "list", "--format", "json", env=env).stdout)
    assert [e["name"] for e in listed] == ["bookworm-arm64"]


def test_failed_creation_leaves_nothing(tmp_path: Path) -> None:
    ensure("bookworm-arm64")
    env = dict(os.environ, CGOCHECK_HOME=str(private_home(tmp_path / "home")))  # downloads and apt lists shared
    rfile = tmp_path / "bookworm-arm64.toml"
    rfile.write_text((recipes_dir() / "bookworm-arm64.toml").read_text().replace('"2.36"', '"2.99"'))
    out = cgocheck("sysroot", "create", str(rfile), env=env)
    assert out.returncode == 3
    assert "expects glibc 2.99, the packages gave 2.36" in out.stderr
    sysroots = Path(env["CGOCHECK_HOME"]) / "sysroots"
    assert [p.name for p in sysroots.iterdir() if not p.name.startswith(".locks")] == []


def test_unreachable_archive_is_an_environment_problem(tmp_path: Path) -> None:
    need_tool("apt-get")
    env = dict(os.environ, CGOCHECK_HOME=str(tmp_path / "home"))
    rfile = tmp_path / "bookworm-arm64.toml"
    rfile.write_text(
        (recipes_dir() / "bookworm-arm64.toml").read_text()
        + '[source]\nuris = ["http://127.0.0.1:9/debian"]\ncomponents = ["main"]\n'
        + 'signed_by = "/usr/share/keyrings/debian-archive-keyring.gpg"\n'
    )
    out = cgocheck("sysroot", "create", str(rfile), env=env)
    assert out.returncode == 3, out.stderr
    assert out.stderr.startswith("cgocheck: error: apt-get update for bookworm/arm64 failed")
    assert out.stderr.count("\n") == 1
    # nothing of the host's apt state was used or touched: the sources file is ours
    src = tmp_path / "home/apt/bookworm-arm64/sources.list.d/cgocheck.sources"
    assert "URIs: http://127.0.0.1:9/debian" in src.read_text()


def test_recipes_cover_exactly_the_arches_each_suite_has() -> None:
    """'riscv64 only in trixie' and friends, read from each suite's signed InRelease."""
    need_tool("apt-get")
    from cgocheck.sysroot.apt import Apt, host_source
    from cgocheck.sysroot.recipe import all_recipes

    wanted = {"amd64", "arm64", "armhf", "armel", "riscv64"}
    by_suite: dict[str, set[str]] = {}
    for r in all_recipes():
        if r.libc == "glibc":
            by_suite.setdefault(r.suite, set()).add(r.arch)
    for suite, arches in sorted(by_suite.items()):
        apt = Apt(folders.home() / "apt" / f"{suite}-amd64", "amd64", host_source(suite))
        apt.update()
        (release,) = list(apt.lists.glob("*_dists_*_InRelease"))
        line = next(ln for ln in release.read_text().splitlines() if ln.startswith("Architectures:"))
        archive = set(line.split(":", 1)[1].split())
        assert arches == archive & wanted, (suite, sorted(archive))


def test_find_sysroot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = ensure("bookworm-arm64")
    assert find_sysroot("bookworm-arm64") == res.path
    assert find_sysroot(str(res.path)) == res.path
    with pytest.raises(BadInput, match="neither a sysroot recipe"):
        find_sysroot("no-such-thing")
    monkeypatch.setenv("CGOCHECK_HOME", str(tmp_path / "empty"))
    with pytest.raises(EnvironmentProblem, match="run: cgocheck sysroot create bookworm-arm64"):
        find_sysroot("bookworm-arm64")


def test_musl_sysroot() -> None:
    res = ensure("bookworm-arm64-musl")
    info = inspect_sysroot(res.path)
    assert (info.libc, info.libc_version) == ("musl", "1.2.3")
    assert info.loader == "/lib/ld-musl-aarch64.so.1"
    assert info.targets == ("linux/arm64/musl",)
    assert info.glibc_versions == () and info.triplet == "aarch64-linux-musl"
    assert (res.path / "usr/include/aarch64-linux-musl/stdio.h").is_file()
    lock = read_lock(res.path / ".cgocheck/lock.json")
    assert sorted(p.name for p in lock.packages) == ["musl", "musl-dev"]
    assert lock.skipped and lock.skipped[0]["dependency"] == "gcc-aarch64-linux-gnu"


def test_cli_list_and_info() -> None:
    res = ensure("bookworm-arm64")
    out = cgocheck("sysroot", "list")
    assert out.returncode == 0
    row = [ln for ln in out.stdout.splitlines() if ln.startswith("bookworm-arm64 ")]
    assert row and "glibc 2.36" in row[0] and res.digest[:12] in row[0]
    assert str(res.path) in row[0].replace("~/", os.path.expanduser("~/"))  # the home folder is shown as ~
    out = cgocheck("sysroot", "info", "bookworm-arm64", "--format", "json")
    data = json.loads(out.stdout)
    assert data["libc_version"] == "2.36" and data["targets"] == ["linux/arm64"]
    out = cgocheck("sysroot", "info", "bookworm-arm64")
    assert "zlib" in out.stdout and "1.2.13" in out.stdout
