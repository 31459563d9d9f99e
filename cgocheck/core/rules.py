"""The rule registry (cgocheck/data/rules.toml) and the Finding type."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "error")
# Rule id families, by first letter, in the order docs and reports list them.
FAMILY_TITLES = {
    "A": "ELF and ABI",
    "G": "Go build settings",
    "R": "Run paths",
    "L": "Libraries",
    "S": "Symbols and versions",
    "P": "pkg-config",
    "H": "Host contamination",
    "C": "Compiler",
    "B": "Build",
    "D": "Dynamic (the target's loader)",
}
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_ID = re.compile(r"^[A-Z]\d{3}$")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    summary: str
    fix: str


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    severity: str
    message: str
    fix: str
    evidence: tuple[str, ...] = ()
    file: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "evidence": list(self.evidence),
            "file": self.file,
            "extra": [list(x) for x in self.extra],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        """A finding of a saved report (rule, severity and message required; the rest may
        be missing from reports of older versions)."""
        return cls(
            rule=str(data["rule"]),
            name=str(data.get("name", "")),
            severity=str(data["severity"]),
            message=str(data["message"]),
            fix=str(data.get("fix", "")),
            evidence=tuple(str(e) for e in data.get("evidence") or ()),
            file=data.get("file"),
            extra=tuple((str(e[0]), str(e[1])) for e in data.get("extra") or ()),
        )


@functools.cache
def rules() -> dict[str, Rule]:
    from cgocheck.core import packagedata

    table: dict[str, Rule] = {}
    for rid, row in packagedata.read_toml("rules.toml").items():
        if not _ID.match(rid):
            raise ValueError(f"rules.toml: bad rule id {rid!r}")
        if row.get("severity") not in SEVERITIES:
            raise ValueError(f"rules.toml: {rid}: bad severity")
        for key in ("name", "summary", "fix"):
            if not isinstance(row.get(key), str) or not row[key]:
                raise ValueError(f"rules.toml: {rid}: missing {key}")
        table[rid] = Rule(rid, row["name"], row["severity"], row["summary"], row["fix"])
    return table


def finding(
    rule_id: str,
    message: str,
    *,
    evidence: tuple[str, ...] | list[str] = (),
    file: str | None = None,
    fix: str | None = None,
    severity: str | None = None,
) -> Finding:
    rule = rules()[rule_id]
    return Finding(
        rule=rule.id,
        name=rule.name,
        severity=severity or rule.severity,
        message=message,
        fix=fix or rule.fix,
        evidence=tuple(evidence),
        file=file,
    )
