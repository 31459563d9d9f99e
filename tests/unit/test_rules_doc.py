"""Every rule is traceable in one hop: docs/rules.md (generated) names its check and the tests
that fire it; each rule is produced by exactly one check, in its family's module, and fired
by at least one test on real facts or a contamination fixture (each with a clean twin)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from cgocheck.core.rules import FAMILY_TITLES, SEVERITIES, rules

REPO = Path(__file__).resolve().parents[2]
# rule family -> the module of cgocheck/checks/ that produces it (cgocheck/checks/__init__.py)
FAMILY_MODULE = {
    "A": "abi",
    "G": "gobuild",
    "R": "runpath",
    "L": "libraries",
    "S": "symbols",
    "P": "pkgconfig",
    "H": "host",
    "C": "compiler",
    "B": "build",
    "D": "dynamic",
}


def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen", REPO / "scripts" / "gen_rules_doc.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rules_doc_is_generated_from_rules_toml_and_the_code() -> None:
    assert (REPO / "docs" / "rules.md").read_text() == gen().render(), "run: python scripts/gen_rules_doc.py"


def test_every_rule_is_complete() -> None:
    table = rules()
    assert table
    assert set(FAMILY_MODULE) == set(FAMILY_TITLES)
    for r in table.values():
        assert r.severity in SEVERITIES and r.summary.endswith(".") and r.fix


def test_every_rule_is_produced_by_exactly_one_check_of_its_family() -> None:
    made = gen().producers()
    assert set(made) == set(rules()), f"produced by no check: {sorted(set(rules()) - set(made))}"
    for rid, where in made.items():
        assert len(where) == 1, (rid, where)
        (ref,) = where
        assert ref.startswith(f"cgocheck/checks/{FAMILY_MODULE[rid[0]]}.py:"), (rid, ref)


def test_every_rule_is_fired_by_a_test_that_names_it() -> None:
    fired = gen().firing_tests()
    missing = sorted(set(rules()) - set(fired))
    assert not missing, f"no test or fixture fires: {missing}"
    for rid, refs in fired.items():
        assert rid in rules(), f"a fires marker or expect.toml names an unknown rule {rid}: {refs}"
        for ref in refs:
            path = REPO / ref.split("::")[0]
            text = (path / "expect.toml").read_text() if path.is_dir() else path.read_text()
            assert re.search(rf"\b{rid}\b", text), (rid, ref)  # the marker is backed by what the test checks
