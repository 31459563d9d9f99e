"""The lowest versions pyproject.toml allows really work: a fresh venv with every runtime
dependency pinned to its lower bound runs the unit tests, and resolves a real sysroot
library (lief's and pyelftools' dynamic readers) to the same JSON as the current versions."""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest

from cgocheck.core import folders
from tests.support.cli import run
from tests.support.install import fresh_venv
from tests.support.need import need
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

# what the unit tests need beside cgocheck's own dependencies (any version)
TEST_DEPS = ["pytest", "hypothesis", "jsonschema", "pyyaml"]


def floors() -> list[str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = []
    for d in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)(,.*)?", d.strip())
        assert m, f"{d!r}: every runtime dependency declares a lower bound"
        pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


def _norm(v: str) -> tuple[int, ...]:
    parts = [int(x) for x in re.findall(r"\d+", v)]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@pytest.fixture(scope="module")
def lowest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    py = fresh_venv(tmp_path_factory.mktemp("floor") / "venv") / "python"
    inst = run([str(py), "-m", "pip", "install", "-q", *floors(), *TEST_DEPS])
    need(inst.returncode == 0, f"the lowest allowed dependencies from PyPI ({inst.stderr[-800:]})")
    return py


def test_pins_are_the_lower_bounds(lowest: Path) -> None:
    got = run([str(lowest), "-m", "pip", "list", "--format", "json"])
    have = {p["name"].lower(): p["version"] for p in json.loads(got.stdout)}
    for pin in floors():
        name, version = pin.split("==")
        assert _norm(have[name.lower()]) == _norm(version), (name, have.get(name.lower()))


def test_unit_tests_pass_on_the_lowest_versions(lowest: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = run([str(lowest), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"], cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert re.search(r"\b\d+ passed\b", proc.stdout)


def test_resolve_agrees_between_lowest_and_current(lowest: Path) -> None:
    sysroot = folders.sysroots() / "bookworm-arm64"
    need((sysroot / ".cgocheck" / "complete").is_file(), "sysroot bookworm-arm64")
    lib = "usr/lib/aarch64-linux-gnu/libsqlite3.so.0"
    args = ["-m", "cgocheck", "resolve", str(sysroot / lib), "--sysroot", str(sysroot), "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    old = run([str(lowest), *args], cwd=REPO, env=env)
    new = run([sys.executable, *args], cwd=REPO, env=env)
    assert old.returncode == new.returncode == 0, old.stderr + new.stderr
    a, b = json.loads(old.stdout), json.loads(new.stdout)
    for report in (a, b):
        report.pop("cgocheck", None)
        report.pop("generated", None)
    assert a == b
