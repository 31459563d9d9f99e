from __future__ import annotations

import importlib.util
from pathlib import Path

from cgocheck.core.rules import SEVERITIES, rules

REPO = Path(__file__).resolve().parents[2]


def test_rules_doc_is_generated_from_rules_toml() -> None:
    spec = importlib.util.spec_from_file_location("gen", REPO / "scripts" / "gen_rules_doc.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (REPO / "docs" / "rules.md").read_text() == mod.render(), "run: python scripts/gen_rules_doc.py"


def test_every_rule_is_complete() -> None:
    table = rules()
    assert table
    for r in table.values():
        assert r.severity in SEVERITIES and r.summary.endswith(".") and r.fix
