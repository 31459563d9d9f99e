"""`inspect DIR` over many files: a process pool reads them, and the report is the one the
same files give read one by one in this process (files and errors in the walk's order,
errors per file, resolution in a sysroot included)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cgocheck.commands.inspect import InspectOptions, inspect_paths
from cgocheck.results import Report
from cgocheck.sysroot.fsroot import FsRoot
from tests.support.resolve_tree import HOST, HOST_OK, HOST_REASON, T, base_tree, put

pytestmark = pytest.mark.skipif(not HOST_OK, reason=HOST_REASON)

HOST_LIBS = Path(f"/usr/lib/{T}")


def host_elves(limit: int) -> list[Path]:
    out = []
    for p in sorted(HOST_LIBS.iterdir()):
        if p.is_symlink() or not p.is_file() or ".so" not in p.name:
            continue
        with open(p, "rb") as f:
            if f.read(4) == b"\x7fELF":
                out.append(p)
        if len(out) >= limit:
            break
    return out


def folder(tmp_path: Path, n: int) -> Path:
    """N host libraries, a damaged ELF file among them and a folder of text only."""
    d = tmp_path / "elves"
    (d / "sub").mkdir(parents=True)
    for i, p in enumerate(host_elves(n)):
        shutil.copyfile(p, d / ("sub" if i % 3 else ".") / p.name)
    data = HOST["libz"].read_bytes()
    (d / "sub" / "libbroken.so").write_bytes(data[:200])  # ELF magic, tables cut off
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("no ELF here\n")
    return d


def shape(report: Report) -> tuple[list[object], list[tuple[str, str]], object, object]:
    return ([(f.facts, f.findings, f.resolution) for f in report.files],
            [(e.path, e.message) for e in report.errors], report.sysroot, report.options)


def test_a_pool_gives_the_report_one_process_gives(tmp_path: Path) -> None:
    d = folder(tmp_path, 60)
    paths = [str(tmp_path / "missing"), str(d), str(tmp_path / "texts")]
    one = inspect_paths(paths, InspectOptions(), jobs=1)
    two = inspect_paths(paths, InspectOptions(), jobs=2)
    assert len(one.files) >= 40
    assert shape(one) == shape(two)
    errors = [e.path for e in two.errors]
    assert errors == [str(tmp_path / "missing"), str(d / "sub" / "libbroken.so"), str(tmp_path / "texts")]
    names = [f.facts.path for f in two.files]
    assert names == sorted(names, key=lambda p: (os.path.dirname(p) != str(d), p))  # the walk's order


def test_resolution_in_a_sysroot_is_the_same_in_a_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CGOCHECK_HOME", str(tmp_path / "home"))
    root = base_tree(tmp_path)
    put(root, f"/usr/lib/{T}/libz.so.1", HOST["libz"])
    d = folder(tmp_path, 30)
    fs = FsRoot(root)
    one = inspect_paths([str(d)], InspectOptions(), root=fs, jobs=1)
    two = inspect_paths([str(d)], InspectOptions(), root=fs, jobs=2)
    assert all(f.resolution is not None for f in two.files)
    assert shape(one) == shape(two)


def test_few_files_stay_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = folder(tmp_path, 5)

    def no_pool(*args: object, **kw: object) -> None:
        raise AssertionError("a pool for a handful of files")

    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", no_pool)
    report = inspect_paths([str(d)], InspectOptions(), jobs=2)
    assert len(report.files) == 5
