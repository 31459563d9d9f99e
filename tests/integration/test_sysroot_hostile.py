"""Hostile sysroots and recipes, for real.

`sysroot info` on a folder whose libc candidates, pkg-config folders and metadata are
traps (FIFOs, a device, 8 GiB sparse files, symlink loops, absolute links and '..' escapes
to the host's /etc, /dev and /proc, a folder link to the host's '/'): findings and
warnings, never a hang or a traceback, and under strace nothing outside the sysroot is
touched, the FIFO is never opened, no byte of the sparse file is read.

`sysroot create` against a Debian mirror served on 127.0.0.1 (tests/support/mirror.py: the real
signed InRelease and Packages index, the real .debs):
- a recipe naming a package that does not exist: one line, exit 2, nothing left;
- a .deb cut off halfway by the server, and one corrupted in flight: one line, exit 3,
  nothing left that `sysroot list` shows, no partial file in the download cache;
- a truncated .deb already in the download cache: the sha256 check catches it, it is
  downloaded again and the sysroot is created;
- an archive signed by its own key (a recipe's [source] may name any keyring) whose
  packages ship links out of the sysroot and then files through them (tests/support/hostile_debs.py):
  no byte is written outside.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from cgocheck.core import folders
from tests.support import hostile_debs
from tests.support.cli import cgocheck, one_error_line
from tests.support.host import HOST_LIBC, HOST_LOADER, HOST_TRIPLET
from tests.support.mirror import Mirror, bookworm_arm64, serve, serve_tree
from tests.support.need import need, need_tool
from tests.support.strace import DRIVER, bytes_read, trace, traced_paths, under

pytestmark = pytest.mark.integration

BAIT = ("/etc/passwd", "/etc/shadow", "/dev/zero", "/proc/self/exe", f"/usr/lib/{HOST_TRIPLET}/libc.so.6")


# --- sysroot info ----------------------------------------------------------------------


def hostile_sysroot(top: Path) -> Path:
    """The host's real libc and loader, surrounded by traps at every other place info looks."""
    root = top / "sysroot"
    lib = root / "usr" / "lib"
    (lib / HOST_TRIPLET).mkdir(parents=True)
    shutil.copy2(HOST_LIBC, lib / HOST_TRIPLET / "libc.so.6")
    shutil.copy2(os.path.realpath(HOST_LOADER), lib / HOST_TRIPLET / "ld-linux-x86-64.so.2")
    os.symlink("usr/lib", root / "lib")
    (root / "lib64").mkdir()
    os.symlink(f"/lib/{HOST_TRIPLET}/ld-linux-x86-64.so.2", root / "lib64" / "ld-linux-x86-64.so.2")

    def at(triplet: str) -> Path:
        (lib / triplet).mkdir(exist_ok=True)
        return lib / triplet / "libc.so.6"

    os.mkfifo(at("aarch64-linux-gnu"))  # a FIFO: opening it would block
    os.symlink("libc.so.6.b", at("arm-linux-gnueabihf"))  # a loop
    os.symlink("libc.so.6", lib / "arm-linux-gnueabihf" / "libc.so.6.b")
    os.symlink("/etc/passwd", at("riscv64-linux-gnu"))  # absolute: re-rooted, absent
    os.symlink("../../../../../../../../../etc/shadow", at("powerpc64le-linux-gnu"))  # '..' clamped
    os.symlink("/dev/zero", at("mips64el-linux-gnuabi64"))
    at("arm-linux-gnueabi").mkdir()  # a directory
    with open(at("s390x-linux-gnu"), "wb") as f:  # 8 GiB, holes after a real ELF header
        f.write(HOST_LIBC.read_bytes()[:4096])
        f.truncate(8 << 30)
    if os.geteuid() == 0:
        os.mknod(at("i686-linux-gnu"), stat.S_IFCHR | 0o600, os.makedev(1, 5))  # like /dev/zero
    else:
        os.symlink("/dev/zero", at("i686-linux-gnu"))
    os.mkfifo(root / "lib" / "ld-musl-aarch64.so.1")  # musl's libc is its loader
    (lib / "aarch64-linux-musl").mkdir()
    os.symlink("/proc/self/exe", lib / "aarch64-linux-musl" / "libc.so")
    os.symlink("evil-root", lib / "libc.so")
    os.symlink("/", lib / "evil-root")  # a folder link to the host's top
    # pkg-config: traps among the .pc files, folders that loop or lead to the host's '/'
    pc = lib / HOST_TRIPLET / "pkgconfig"
    pc.mkdir()
    (pc / "zz-real.pc").write_text("Name: zz\nVersion: 1.2.3\nDescription: real\n")
    os.mkfifo(pc / "fifo.pc")
    os.symlink("/etc/passwd", pc / "passwd.pc")
    os.symlink("/dev/zero", pc / "zero.pc")
    os.symlink("loop.pc", pc / "loop.pc")
    with open(pc / "huge.pc", "wb") as f:
        f.write(b"Name: huge\nVersion: 9\nDescription: 8 GiB of holes\n")
        f.truncate(8 << 30)
    os.symlink("/", lib / "pkgconfig")
    (root / "usr" / "share").mkdir()
    os.symlink("pkgconfig", root / "usr" / "share" / "pkgconfig")
    # cgocheck's own metadata, as if it had made this sysroot: also traps
    meta = root / ".cgocheck"
    meta.mkdir()
    (meta / "complete").write_text("x\n")
    os.mkfifo(meta / "meta.json")
    os.symlink("/etc/passwd", meta / "lock.json")
    return root


@pytest.fixture(scope="module")
def info_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need(HOST_LIBC.is_file() and HOST_LOADER.exists(), "an x86-64 Debian host's libc")
    return hostile_sysroot(tmp_path_factory.mktemp("info"))


def test_info_on_a_hostile_sysroot(info_root: Path) -> None:
    t0 = time.monotonic()
    proc = cgocheck("sysroot", "info", str(info_root), "--format", "json", timeout=60)
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    info = json.loads(proc.stdout)
    assert info["libc"] == "glibc" and info["libc_path"] == f"/usr/lib/{HOST_TRIPLET}/libc.so.6"
    assert info["targets"] == ["linux/amd64"] and info["loader"] == "/lib64/ld-linux-x86-64.so.2"
    warnings = "\n".join(info["warnings"])
    assert "symlink loop" in warnings
    assert f"/usr/lib/s390x-linux-gnu/libc.so.6: {8 << 30} bytes" in warnings and "not read" in warnings
    assert [m["module"] for m in info["pkgconfig"]] == ["zz-real"]  # traps skipped
    assert f"huge.pc: {8 << 30} bytes, larger than the 1 MiB a .pc file may have" in warnings  # refused, unread
    assert info["digest"] is None and info["recipe"] is None  # the metadata traps give nothing
    table = cgocheck("sysroot", "info", str(info_root), timeout=60)
    assert table.returncode == 0 and "Traceback" not in table.stderr and "glibc" in table.stdout


def test_info_touches_nothing_outside(info_root: Path, tmp_path: Path) -> None:
    need_tool("strace")
    more = "import cgocheck.sysroot.info, cgocheck.cli.sysroot, cgocheck.commands.resolve"
    proc, log = trace(
        tmp_path,
        "sysroot",
        "info",
        str(info_root),
        "--format",
        "json",
        driver=DRIVER.replace("import cgocheck.commands.resolve", more),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, after = traced_paths(log)
    root = os.path.realpath(info_root)
    code = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.abspath(json.__file__)))}
    import cgocheck as cgocheck_package

    code.add(os.path.dirname(cgocheck_package.__file__))
    # the driver's own folder: the script's directory is sys.path[0], so a module imported
    # on first use (after the marker) is looked up there first
    code.add(os.path.realpath(tmp_path))
    outside = [
        line for _, p, line in after if not under(p, root) and not under(root, p) and not any(under(p, c) for c in code)
    ]
    assert not outside, "\n".join(outside[:40])
    lib = f"{root}/usr/lib"
    opens = [(p, line) for call, p, line in after if call in ("open", "openat", "openat2")]
    got = bytes_read(log)
    # libc candidates that are FIFOs or devices are never opened; a .pc file or metadata
    # that is a FIFO is opened non-blocking (it cannot block), found not regular, never read
    for trap in ("aarch64-linux-gnu/libc.so.6", "ld-musl-aarch64.so.1", "i686-linux-gnu/libc.so.6"):
        assert f"{lib}/{trap}" not in [p for p, _ in opens], trap
    for fifo in (f"{lib}/{HOST_TRIPLET}/pkgconfig/fifo.pc", f"{root}/.cgocheck/meta.json"):
        assert all("O_NONBLOCK" in line for p, line in opens if p == fifo), fifo
        assert got.get(fifo, 0) == 0
    assert got.get(f"{lib}/s390x-linux-gnu/libc.so.6", 0) == 0
    assert got.get(f"{lib}/{HOST_TRIPLET}/pkgconfig/huge.pc", 0) <= 1 << 20
    for bait in BAIT:
        assert all(p != bait for _, p, _ in after), bait


def test_info_on_a_looping_path(tmp_path: Path) -> None:
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    proc = cgocheck("sysroot", "info", str(tmp_path / "a"), timeout=60)
    assert proc.returncode == 2
    one_error_line(proc, alone=True)


# --- sysroot create against a local mirror ----------------------------------------------


@pytest.fixture(scope="module")
def mirror() -> Mirror:
    return bookworm_arm64()


@pytest.fixture
def served(mirror: Mirror) -> Iterator[Mirror]:
    mirror.faults.clear()
    mirror.requests.clear()
    with serve(mirror) as m:
        yield m


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CGOCHECK_HOME": str(tmp_path / "cgocheck-home")}


def create(m: Mirror, tmp: Path, env: dict[str, str], packages: list[str]) -> subprocess.CompletedProcess[str]:
    recipe = tmp / "t-libc.toml"
    recipe.write_text(m.recipe("t-libc", packages, "2.36"))
    return cgocheck("sysroot", "create", str(recipe), env=env, timeout=300)


def nothing_left(env: dict[str, str], *, downloads: bool = True) -> None:
    """No sysroot listed, no folder (half-made or temporary) in sysroots/, and (DOWNLOADS)
    no file, whole or partial, in the download cache."""
    listed = cgocheck("sysroot", "list", "--format", "json", env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    home = Path(env["CGOCHECK_HOME"])
    assert not [p for p in (home / "sysroots").glob("*") if p.name != ".locks"]
    debs = home / "downloads" / "debs"
    if downloads and debs.is_dir():
        assert not [p for p in debs.iterdir() if p.name != ".lock"]


def libc_deb(m: Mirror) -> str:
    return next(n for n in m.debs if n.startswith("libc6_") and n.endswith("_arm64.deb"))


@pytest.mark.parametrize("packages", [["cgocheck-no-such-package"], ["libc6", "cgocheck-no-such-package"]])
def test_recipe_naming_a_missing_package(
    served: Mirror, tmp_path: Path, home: dict[str, str], packages: list[str]
) -> None:
    proc = create(served, tmp_path, home, packages)
    assert proc.returncode == 2, proc.stderr
    assert "cgocheck-no-such-package not available for bookworm/arm64" in one_error_line(proc, alone=True)
    assert not [p for p, _ in served.requests if "/pool/" in p]  # nothing was downloaded
    nothing_left(home)


@pytest.mark.parametrize(("fault", "apt_says"), [("cut", "Failed to fetch"), ("corrupt", "Hash Sum mismatch")])
def test_download_that_fails_halfway(
    served: Mirror, tmp_path: Path, home: dict[str, str], fault: str, apt_says: str
) -> None:
    name = libc_deb(served)
    served.faults[name] = fault
    proc = create(served, tmp_path, home, ["libc6"])
    assert proc.returncode == 3, proc.stderr
    line = one_error_line(proc, alone=True)
    assert "apt-get download failed" in line and apt_says in line
    assert served.fetched(name) and all(code == 200 for code in served.fetched(name))  # the fault was served
    nothing_left(home)
    # the same recipe once the mirror is healthy again: the control that the fault was all
    served.faults.clear()
    ok = create(served, tmp_path, home, ["libc6"])
    assert ok.returncode == 0, ok.stderr
    assert "t-libc" in cgocheck("sysroot", "list", env=home).stdout


def test_truncated_deb_in_the_cache_is_caught(served: Mirror, tmp_path: Path, home: dict[str, str]) -> None:
    name = libc_deb(served)
    cache = Path(home["CGOCHECK_HOME"]) / "downloads" / "debs"
    cache.mkdir(parents=True)
    whole = served.debs[name].read_bytes()
    (cache / name).write_bytes(whole[: len(whole) // 2])
    proc = create(served, tmp_path, home, ["libc6"])
    assert proc.returncode == 0, proc.stderr
    assert served.fetched(name) == [200]  # downloaded again: the cached half did not pass the sha256 check
    assert (cache / name).read_bytes() == whole
    info = json.loads(cgocheck("sysroot", "info", "t-libc", "--format", "json", env=home).stdout)
    assert info["libc"] == "glibc" and info["libc_version"] == "2.36"


def test_archive_whose_packages_link_out(tmp_path: Path) -> None:
    for tool in ("apt-get", "dpkg-deb", "gpg"):
        need_tool(tool)
    archive = hostile_debs.build(tmp_path)
    home = tmp_path / "home"  # the chain link in the archive climbs out of home/sysroots/.tmp-*
    env = {**os.environ, "CGOCHECK_HOME": str(home)}
    with serve_tree(archive.root) as uri:
        recipe = tmp_path / "evil.toml"
        recipe.write_text(
            f'name = "evil"\nsuite = "{hostile_debs.SUITE}"\narch = "{hostile_debs.ARCH}"\nlibc = "glibc"\n'
            f'packages = ["cgocheck-evil-d-file"]\n[source]\nuris = ["{uri}"]\ncomponents = ["main"]\n'
            f'signed_by = "{archive.keyring}"\n'
        )
        proc = cgocheck("sysroot", "create", str(recipe), "-v", env=env)
    assert "unpacking 4 packages" in proc.stderr, proc.stderr  # all four really got unpacked
    assert os.listdir(archive.outside) == []  # not one file written through the links
    assert proc.returncode == 3 and "found libc none" in proc.stderr.splitlines()[-1]
    nothing_left(env, downloads=False)  # the .debs were fine to download; they stay cached


def test_real_recipe_through_the_mirror_is_unchanged(served: Mirror, tmp_path: Path, home: dict[str, str]) -> None:
    """Control for the unpacking hardening (links made safe after each package): the
    bookworm-arm64 recipe's 26 packages, served by the local mirror, give a sysroot with
    the same content digest as the one created before the change."""
    real = folders.sysroots() / "bookworm-arm64" / ".cgocheck"
    need((real / "complete").is_file(), "sysroot bookworm-arm64")
    recipe_file = Path(__file__).resolve().parents[2] / "sysroots" / "bookworm-arm64.toml"
    packages = tomllib.loads(recipe_file.read_text())["packages"]
    recipe = tmp_path / "bookworm-arm64.toml"
    recipe.write_text(served.recipe("bookworm-arm64", packages, "2.36"))
    proc = cgocheck("sysroot", "create", str(recipe), env=home)
    assert proc.returncode == 0, proc.stderr
    made = Path(home["CGOCHECK_HOME"]) / "sysroots" / "bookworm-arm64" / ".cgocheck"
    versions = [
        [(p["name"], p["version"]) for p in json.loads((d / "lock.json").read_text())["packages"]] for d in (made, real)
    ]
    if versions[0] != versions[1]:
        pytest.skip("the archive moved on since bookworm-arm64 was created: digests differ for that reason")
    assert (made / "digest").read_text() == (real / "digest").read_text()
