"""The test suite's own layout: what tests share lives in tests/support/, and nothing under
tests/ imports from a test module, from tests/conftest.py (pytest's, for its hooks and
fixtures), or by a bare module name that resolves only because pytest put a tests folder on
sys.path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
SUPPORT = TESTS / "support"


def local_names() -> set[str]:
    """Every module and folder name under tests/: imported bare, each one would be found only
    through a tests folder on sys.path."""
    names = {p.stem for p in TESTS.rglob("*.py") if p.stem != "__init__"}
    names |= {d.name for d in TESTS.rglob("*") if d.is_dir() and d.name != "__pycache__"}
    return names


def bad_imports(source: str, local: set[str]) -> list[str]:
    """The imports of SOURCE that break the layout, each as "line: why"."""
    out: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                out.append(f"{node.lineno}: relative import (name tests.support.<module>)")
                continue
            base = node.module or ""
            # `from tests import helpers` imports the module tests.helpers
            modules = [base] + ([f"{base}.{a.name}" for a in node.names] if base == "tests" else [])
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if any(p.startswith("test_") for p in parts):
                out.append(f"{node.lineno}: {module} is a test module: move what it shares to tests/support/")
            elif parts[0] in local:
                out.append(f"{node.lineno}: {module} is a bare helper name: import tests.support.<module>")
            elif parts[0] == "tests" and len(parts) > 1 and parts[1] != "support":
                out.append(f"{node.lineno}: {module} is not tests.support: shared helpers live there")
    return out


def python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_there_is_a_support_package() -> None:
    assert (SUPPORT / "__init__.py").is_file()
    assert len(list(SUPPORT.glob("*.py"))) > 1


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(TESTS)))
def test_imports_only_from_support(path: Path) -> None:
    """Every test module, conftest.py and every support module."""
    bad = bad_imports(path.read_text(), local_names())
    assert not bad, f"{path.relative_to(TESTS)}:\n" + "\n".join(bad)


def test_helpers_live_in_support() -> None:
    """Outside tests/support/ there are test modules and conftest.py, nothing else."""
    stray = [
        str(p.relative_to(TESTS))
        for p in python_files()
        if SUPPORT not in p.parents and p.name != "conftest.py" and not p.name.startswith("test_")
    ]
    assert not stray, stray


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from tests.integration.test_formats import cgocheck", True),
        ("from tests.unit.test_gobuildinfo import build_pure", True),
        ("import tests.integration.test_matrix", True),
        ("from resolve_tree import run", True),
        ("import support.cli", True),
        ("from test_formats import workdir", True),
        ("from tests.conftest import need", True),
        ("from tests.helpers import REPO", True),
        ("from tests import hostile_debs", True),
        ("from . import helpers", True),
        ("def f():\n    from tests.integration.test_contamination import run\n", True),
        ("from tests.support.cli import cgocheck", False),
        ("from tests.support import hostile_debs", False),
        ("import tests.support.formats", False),
        ("from tests import support", False),
        ("import json\nfrom cgocheck.cli import main", False),
    ],
)
def test_the_check_catches_what_it_should(source: str, bad: bool) -> None:
    assert bool(bad_imports(source, local_names())) is bad, source
