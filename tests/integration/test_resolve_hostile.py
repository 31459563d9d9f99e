"""A hostile sysroot (tests/support/resolve_hostile.py) gives findings, never a read outside it,
never a hang, never a traceback, proved by tracing every file system call under strace."""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from pathlib import Path

import pytest

import cgocheck as cgocheck_package
from cgocheck.loader import index as libindex
from tests.support.cli import cgocheck
from tests.support.host import HOST_LIBC, HOST_LOADER
from tests.support.need import need, need_tool
from tests.support.resolve_hostile import HOST_BAIT, Hostile, build
from tests.support.strace import bytes_read, trace, traced_paths, under

pytestmark = pytest.mark.integration

HANG = 120  # seconds: a hostile sysroot must not make cgocheck hang


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    need_tool("gcc")
    need(HOST_LIBC.exists() and HOST_LOADER.exists(), "an x86-64 Debian host's libc")
    return build(tmp_path_factory.mktemp("hostile"))


def test_hostile_sysroot_gives_findings_not_tracebacks(hostile: Hostile) -> None:
    proc = cgocheck("resolve", str(hostile.binary), "--sysroot", str(hostile.root), "--format", "json", timeout=HANG)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    data = json.loads(proc.stdout)
    (f,) = data["files"]
    missing = {m["name"]: m for m in f["resolution"]["missing_libraries"]}
    by_lib: dict[str, str] = {}
    for finding in f["findings"]:
        for name in hostile.traps:
            if finding["message"].startswith(name + " "):
                by_lib[name] = finding["rule"]
    assert by_lib == hostile.traps
    assert set(missing) == set(hostile.traps)
    assert "FIFO" in missing["libfifo.so.1"]["detail"]
    assert "link loop" in missing["libloop.so.1"]["detail"]
    assert "sparse" in missing["libsparse.so.1"]["detail"]
    # libc and the loader are real and resolve through re-rooted absolute links
    libs = {lib["name"]: lib for lib in f["resolution"]["libraries"]}
    assert libs["libc.so.6"]["real_path"] == "/usr/lib/x86_64-linux-gnu/libc.so.6"
    assert f["resolution"]["loader_path"] == "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    # the table and inspect --sysroot survive it too
    table = cgocheck("resolve", str(hostile.binary), "--sysroot", str(hostile.root), "-v", timeout=HANG)
    assert table.returncode == 1 and "Traceback" not in table.stderr
    insp = cgocheck("inspect", str(hostile.binary), "--sysroot", str(hostile.root), "--format", "json", timeout=HANG)
    assert insp.returncode == 1 and "Traceback" not in insp.stderr
    assert {x["rule"] for x in json.loads(insp.stdout)["files"][0]["findings"]} >= {"L001", "L003"}


def test_no_file_outside_the_sysroot_is_touched(hostile: Hostile, tmp_path: Path) -> None:
    """strace -f -e trace=%file: after the marker, every path the command touches is inside
    the sysroot, the binary itself, a parent folder of either (realpath), or Python code."""
    need_tool("strace")
    proc, log = trace(tmp_path, "resolve", str(hostile.binary), "--sysroot", str(hostile.root), "--format", "json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    before, after = traced_paths(log)
    root = os.path.realpath(hostile.root)
    code = {
        sys.prefix,
        sys.base_prefix,
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        os.path.dirname(cgocheck_package.__file__),
    }
    inside = [p for _, p, _ in after if under(p, root)]
    # the settings look for their file from the working folder up (cgocheck.toml,
    # pyproject.toml, up to a .git): the user's folders, not the sysroot's outside
    folders = [str(tmp_path), *map(str, tmp_path.parents)]
    markers = ("cgocheck.toml", "pyproject.toml", ".git")
    settings = {*folders, *(f"{d.rstrip('/')}/{n}" for d in folders for n in markers)}
    # the sysroot library index: cgocheck's own cache (cgocheck/loader/index.py), not the sysroot's outside
    index = str(libindex.folder_for(root))
    outside = [
        line
        for _, p, line in after
        if not under(p, root)
        and not under(root, p)
        and not under(str(hostile.binary), p)
        and p != str(hostile.binary)
        and not any(under(p, c) for c in code)
        and p not in settings
        and not under(p, index)
        and not under(index, p)
    ]
    assert not outside, "\n".join(outside[:40])
    # The traps were really reached, inside the sysroot...
    lib = f"{root}/usr/lib/x86_64-linux-gnu"
    for name in ("libfifo.so.1", "libetc.so.1", "libloop.so.1", "libhuge.so.1", "libdev.so.1"):
        assert f"{lib}/{name}" in inside, name
    # ... the FIFO and the directory were never opened, of the 8 GiB and 1 GiB files no more
    # than their ELF header was read, and no host bait was ever touched.
    opened = [p for call, p, _ in after if call in ("open", "openat", "openat2")]
    for name in ("libfifo.so.1", "libdir.so.1"):
        assert f"{lib}/{name}" not in opened, name
    got = bytes_read(log)
    for name in ("libhuge.so.1", "libsparse.so.1", "libzero.so.1"):
        assert got.get(f"{lib}/{name}", 0) <= 4096, (name, got.get(f"{lib}/{name}"))
    for bait in HOST_BAIT:
        assert all(p != bait for _, p, _ in before + after), bait


def test_hostile_run_is_fast(hostile: Hostile) -> None:
    """No hang: the whole hostile resolve (8 GiB sparse files, a FIFO, loops) is quick."""
    import time

    t0 = time.monotonic()
    proc = cgocheck("resolve", str(hostile.binary), "--sysroot", str(hostile.root), timeout=60)
    assert proc.returncode == 1
    assert time.monotonic() - t0 < 30
