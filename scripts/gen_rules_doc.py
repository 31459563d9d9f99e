#!/usr/bin/env python3
"""Write docs/rules.md from cgocheck/data/rules.toml (tests check it is up to date)."""

from __future__ import annotations

import sys
from pathlib import Path

from cgocheck.core.rules import FAMILY_TITLES, rules


def render() -> str:
    out = [
        "# cgocheck rules",
        "",
        "Every finding carries one of these stable ids. Generated from `cgocheck/data/rules.toml`",
        "by `python scripts/gen_rules_doc.py`; do not edit by hand.",
        "",
    ]
    table = rules()
    for prefix, title in FAMILY_TITLES.items():
        ids = sorted(r for r in table if r.startswith(prefix))
        if not ids:
            continue
        out += [f"## {prefix}: {title}", "", "| id | name | severity | what it means | fix |", "|---|---|---|---|---|"]
        for rid in ids:
            r = table[rid]
            cells = [f'<a id="{r.id}"></a>{r.id}', f"`{r.name}`", r.severity, r.summary, r.fix]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if target.read_text() == text else 1)
    target.write_text(text)
