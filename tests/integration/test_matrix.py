"""cgocheck matrix on real builds: same verdicts as single verify runs, fan-out equal to
one process, a cache that re-runs exactly the cells whose inputs changed, concurrent runs
sharing one cache, and a failing cell reported rather than crashing the run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cgocheck.commands.matrix import MatrixOptions, results_dir, run_matrix
from cgocheck.commands.verify import VerifyOptions, verify
from cgocheck.core.targets import parse_target
from cgocheck.policy import report_exit as exit_code_for
from cgocheck.results.matrix import Cell, CellResult
from tests.support.builder import GO_NEW, GO_OLD
from tests.support.cli import cgocheck, child_env
from tests.support.need import need, need_tool
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration

TARGETS = ["linux/arm64", "linux/arm/v7", "linux/amd64"]
COMPILERS = ["gcc", "clang"]
GOS = [GO_OLD, GO_NEW]
MATRIX_TIMEOUT = 1800  # seconds: a whole matrix of real builds


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """A private copy of a fixture: its tree digest is this test's own, so is its cache."""
    dst = tmp_path / "mod"
    shutil.copytree(FIXTURES / "clean" / "libc", dst)
    (dst / "salt.txt").write_text(str(tmp_path))  # a unique tree whatever the test
    return dst


def matrix_args(*extra: str) -> list[str]:
    args = ["matrix", "--format", "json"]
    for g in GOS:
        args += ["--go", g]
    for t in TARGETS:
        args += ["-t", t]
    for c in COMPILERS:
        args += ["--cc", c]
    return [*args, *extra]


def verdicts(data: dict[str, Any]) -> dict[str, tuple[int, frozenset[str]]]:
    out = {}
    for c in data["cells"]:
        rules = frozenset(f["rule"] for fr in (c["report"] or {}).get("files", []) for f in fr["findings"])
        out[c["id"]] = (c["exit_code"], rules)
    return out


def test_matrix_equals_single_verifies_and_fan_out(module: Path, tmp_path: Path) -> None:
    need_tool("clang")
    proc = cgocheck(*matrix_args(), cwd=module, timeout=MATRIX_TIMEOUT)
    assert proc.returncode in (0, 1), proc.stderr
    whole = json.loads(proc.stdout)
    assert len(whole["cells"]) == len(GOS) * len(TARGETS) * len(COMPILERS) == 12
    assert not any(c["cached"] for c in whole["cells"])
    mine = verdicts(whole)
    # each cell against a single in-process verify of the same inputs
    for c in whole["cells"]:
        cell = Cell(**c["cell"])
        res = verify(
            VerifyOptions(
                packages=(".",),
                target=parse_target(cell.target),
                go=cell.go,
                compiler=cell.compiler,
                cwd=module,
                output=tmp_path / "single" / cell.id,
            )
        )
        code = exit_code_for(res.report, "error")
        rules = frozenset(f.rule for f in res.report.findings)
        assert mine[c["id"]] == (code, rules), c["id"]
    # fan-out: list, one process per cell, merge
    listing = json.loads(cgocheck(*matrix_args("--list"), cwd=module, timeout=MATRIX_TIMEOUT).stdout)
    assert [x["id"] for x in listing] == [c["id"] for c in whole["cells"]]
    parts = []
    for x in listing:
        out = tmp_path / f"{x['id']}.json"
        p = cgocheck(*matrix_args("--cell", x["id"], "-o", str(out)), cwd=module, timeout=MATRIX_TIMEOUT)
        assert p.returncode in (0, 1), p.stderr
        parts.append(str(out))
    merged = cgocheck("report", "merge", "--format", "json", *parts, cwd=module, timeout=MATRIX_TIMEOUT)
    assert merged.returncode == proc.returncode
    assert verdicts(json.loads(merged.stdout)) == mine
    gh = json.loads(cgocheck(*matrix_args("--list"), "--format", "github", cwd=module, timeout=MATRIX_TIMEOUT).stdout)
    assert [x["cell"] for x in gh["include"]] == [c["id"] for c in whole["cells"]]


def _ran(results: list[CellResult]) -> set[str]:
    return {r.cell.id for r in results if not r.cached}


def test_cache_reruns_exactly_the_affected_cells(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(FIXTURES / "clean" / "libc", a)
    shutil.copytree(FIXTURES / "clean" / "netuser", b)
    for m in (a, b):
        (m / "salt.txt").write_text(str(tmp_path))
    sysroot = tmp_path / "sysroot"  # a folder cgocheck did not make: identity by folder stamps
    src = Path(os.path.expanduser("~/.cache/cgocheck/sysroots/bookworm-arm64"))
    need(src.is_dir(), "sysroot bookworm-arm64")
    shutil.copytree(src, sysroot, symlinks=True, ignore=shutil.ignore_patterns(".cgocheck"))

    def cells(gos: list[str], floor: str | None = None) -> tuple[list[Cell], MatrixOptions]:
        cs = [
            Cell(go=g, target=t, compiler="gcc", package=str(m), sysroot=str(sysroot) if t == "linux/arm64" else None)
            for m in (a, b)
            for t in ("linux/arm64", "linux/arm/v7")
            for g in gos
        ]
        return cs, MatrixOptions(glibc_floor=floor, cwd=tmp_path)

    cs, opts = cells([GO_NEW])
    assert _ran(run_matrix(cs, opts)) == {c.id for c in cs}
    assert _ran(run_matrix(cs, opts)) == set()  # unchanged: all cached
    # one source file of module a
    (a / "main.go").write_text((a / "main.go").read_text() + "\n// changed\n")
    assert _ran(run_matrix(cs, opts)) == {c.id for c in cs if c.package == str(a)}
    # the sysroot: only the cells that use it
    (sysroot / "usr" / "share").touch()
    os.utime(sysroot, None)
    assert _ran(run_matrix(cs, opts)) == {c.id for c in cs if c.sysroot}
    # a new Go version: only its cells
    cs2, opts2 = cells([GO_NEW, GO_OLD])
    assert _ran(run_matrix(cs2, opts2)) == {c.id for c in cs2 if c.go == GO_OLD}
    # an option: every cell
    cs3, opts3 = cells([GO_NEW], floor="2.31")
    assert _ran(run_matrix(cs3, opts3)) == {c.id for c in cs3}


def test_concurrent_runs_share_one_cache(module: Path) -> None:
    args = ["matrix", "--format", "json", "--go", GO_NEW, "-t", "linux/arm64", "-t", "linux/arm/v7", "--cc", "gcc"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cgocheck", *args],
            cwd=module,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=MATRIX_TIMEOUT) for p in procs]
    assert all(p.returncode in (0, 1) for p in procs), [o[1] for o in outs]
    first, second = (json.loads(o[0]) for o in outs)
    assert verdicts(first) == verdicts(second)
    keys = {c["key"] for c in first["cells"]} | {c["key"] for c in second["cells"]}
    for key in keys:  # one complete result per cell, no torn or temporary files
        assert json.loads((results_dir() / key / "result.json").read_text())["key"] == key
        assert not list((results_dir() / key).glob(".tmp-*"))


def test_a_failing_cell_is_a_result_not_a_crash(module: Path) -> None:
    (module / "broken.go").write_text("package main\n\nfunc broken( {\n")
    proc = cgocheck(
        "matrix",
        "--format",
        "json",
        "--go",
        GO_NEW,
        "--go",
        "0.1",
        "-t",
        "linux/arm64",
        cwd=module,
        timeout=MATRIX_TIMEOUT,
    )
    data = json.loads(proc.stdout)
    codes = {c["cell"]["go"]: c for c in data["cells"]}
    assert (codes["0.1"]["exit_code"] == 2 and "not a Go version" in (codes["0.1"]["error"] or "")) or codes["0.1"][
        "exit_code"
    ] == 3
    assert codes[GO_NEW]["exit_code"] != 0
    assert proc.returncode in (1, 2, 3) and "Traceback" not in proc.stderr
