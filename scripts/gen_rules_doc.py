#!/usr/bin/env python3
"""Write docs/rules.md from cgocheck/data/rules.toml, with each rule's check and the tests
that fire it (tests/unit/test_rules_doc.py checks the file is up to date).

Where a rule is produced and where it is proven are read from the code, not written by hand:

- its **check**: the function in ``cgocheck/checks/`` that calls ``finding("<id>", ...)``;
- the **tests that fire it**: test functions marked ``@pytest.mark.fires("<id>", ...)`` (on real
  facts, silent on a clean twin), and the contamination fixtures whose ``expect.toml`` names it
  (``fixtures/contaminated/<name>``, each with its clean twin).
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from cgocheck.core.rules import FAMILY_TITLES, rules

REPO = Path(__file__).resolve().parent.parent
CHECKS = REPO / "cgocheck" / "checks"


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            yield node


def producers() -> dict[str, set[str]]:
    """rule id -> {"cgocheck/checks/<module>.py:<function>"}: the functions of cgocheck/checks/ that
    call finding() and name the rule id (as finding's first argument or in a table they read)."""
    known = rules()
    out: dict[str, set[str]] = {}
    for f in sorted(CHECKS.glob("*.py")):
        tree = ast.parse(f.read_text())
        for fn in _functions(tree):
            calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                     and c.func.id == "finding"]
            if not calls:
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
                    out.setdefault(node.value, set()).add(f"{f.relative_to(REPO)}:{fn.name}")
    return out


def _fires(decorators: list[ast.expr]) -> list[str]:
    ids: list[str] = []
    for d in decorators:
        if (
            isinstance(d, ast.Call)
            and isinstance(d.func, ast.Attribute)
            and d.func.attr == "fires"
            and isinstance(d.func.value, ast.Attribute)
            and d.func.value.attr == "mark"
        ):
            ids += [a.value for a in d.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return ids


def firing_tests() -> dict[str, list[str]]:
    """rule id -> ["tests/...py::test_name"] of tests marked fires(<id>) (parametrised cases:
    marks=pytest.mark.fires(*rules) in their pytest.param count for their test)."""
    out: dict[str, list[str]] = {}
    for f in sorted(REPO.joinpath("tests").rglob("test_*.py")):
        src = f.read_text()
        tree = ast.parse(src)
        for fn in _functions(tree):
            if not fn.name.startswith("test_"):
                continue
            ids = _fires(fn.decorator_list) + _param_fires(fn, tree)
            for rid in dict.fromkeys(ids):
                out.setdefault(rid, []).append(f"{f.relative_to(REPO)}::{fn.name}")
    for expect in sorted(REPO.joinpath("fixtures", "contaminated").glob("*/expect.toml")):
        data = tomllib.loads(expect.read_text())
        for rid in data.get("expect", []):
            out.setdefault(rid, []).append(f"fixtures/contaminated/{expect.parent.name}")
    return out


def _param_fires(fn: ast.FunctionDef, tree: ast.Module) -> list[str]:
    """Rules of a test parametrised as ``[pytest.param(..., marks=pytest.mark.fires(*e)) for ... in
    TABLE]``: the sets of rule ids written in the module's TABLE."""
    ids: list[str] = []
    for comp in (n for d in fn.decorator_list for n in ast.walk(d) if isinstance(n, ast.ListComp)):
        has_mark = any(isinstance(k, ast.keyword) and k.arg == "marks" and "fires" in ast.unparse(k.value)
                       for k in ast.walk(comp.elt))
        table = comp.generators[0].iter
        if not has_mark or not isinstance(table, ast.Name):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == table.id for t in node.targets):
                for st in (n for n in ast.walk(node.value) if isinstance(n, ast.Set)):
                    ids += [e.value for e in st.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return ids


def render() -> str:
    table = rules()
    made, fired = producers(), firing_tests()
    out = [
        "# cgocheck rules",
        "",
        "Every finding carries one of these stable ids. Generated from `cgocheck/data/rules.toml` and the",
        "code by `python scripts/gen_rules_doc.py`; do not edit by hand. **check** is the function that",
        "produces the finding; **fired by** are the tests that make it fire on real facts (each with a clean",
        "twin on which it stays silent) and the contamination fixtures that do.",
        "",
    ]
    for prefix, title in FAMILY_TITLES.items():
        ids = sorted(r for r in table if r.startswith(prefix))
        if not ids:
            continue
        out += [f"## {prefix}: {title}", "",
                "| id | name | severity | what it means | fix | check | fired by |", "|---|---|---|---|---|---|---|"]
        for rid in ids:
            r = table[rid]
            checks = ", ".join(_link(c) for c in sorted(made.get(rid, ()))) or "-"
            tests = ", ".join(_link(t) for t in fired.get(rid, [])) or "-"
            cells = [f'<a id="{r.id}"></a>{r.id}', f"`{r.name}`", r.severity, r.summary, r.fix, checks, tests]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def _link(ref: str) -> str:
    """A check or test reference as a link relative to docs/."""
    path, _, name = ref.replace("::", ":").partition(":")
    label = f"{Path(path).stem}.{name}" if name else path
    return f"[`{label}`](../{path})"


if __name__ == "__main__":
    target = REPO / "docs" / "rules.md"
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if target.read_text() == text else 1)
    target.write_text(text)
