"""What ``cgocheck matrix`` found: its cells (Go version x target x sysroot x compiler x
package), each cell's verify report and exit code, and the cross-version tables derived
from them (the model the renderers take; run by cgocheck.commands.matrix)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cgocheck.core.rules import Finding
from cgocheck.results import Suppressed

MATRIX_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Cell:
    go: str
    target: str
    compiler: str
    package: str
    sysroot: str | None = None

    @property
    def id(self) -> str:
        go = f"go{self.go}" if self.go[:1].isdigit() else f"go-{self.go}"
        parts = [go, self.target, self.sysroot or "no-sysroot", self.compiler, self.package]
        return "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", p).strip(".-") or "root" for p in parts)


@dataclass
class CellResult:
    cell: Cell
    exit_code: int
    report: dict[str, Any] | None  # the verify JSON report (schema_version 1.0)
    error: str | None = None  # one line when the cell could not run (exit 2/3)
    seconds: float = 0.0
    cached: bool = False
    key: str = ""
    suppressed: tuple[Suppressed, ...] = ()
    _stored: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # before any policy

    def stored_report(self) -> dict[str, Any]:
        """The report as the cell produced it, before a policy took findings out."""
        if self._stored is None:
            self._stored = self.report or {}
        return self._stored

    @property
    def findings(self) -> list[Finding]:
        if not self.report:
            return []
        build = list(self.report.get("build_findings") or [])
        raw = build + [f for fr in self.report.get("files", []) for f in fr.get("findings", [])]
        return [Finding.from_json(f) for f in raw]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.cell.id,
            "cell": asdict(self.cell),
            "exit_code": self.exit_code,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
            "key": self.key,
            "suppressed": [s.to_json() for s in self.suppressed],
            "report": self.report,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellResult:
        return cls(
            cell=Cell(**data["cell"]),
            exit_code=int(data["exit_code"]),
            report=data.get("report"),
            error=data.get("error"),
            seconds=float(data.get("seconds", 0.0)),
            cached=bool(data.get("cached", False)),
            key=str(data.get("key", "")),
        )  # what was suppressed is worked out again by the policy of whoever reads it


@dataclass(frozen=True)
class VersionRow:
    go: str
    go_version: str
    libc_symbols: tuple[str, ...]
    libraries: tuple[str, ...]
    max_glibc: str | None
    forcing: tuple[str, ...]
    findings: tuple[str, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionTable:
    group: str  # target / sysroot / compiler / package
    rows: tuple[VersionRow, ...]


def _main_facts(report: dict[str, Any]) -> dict[str, Any] | None:
    files = report.get("files") or []
    return files[0]["facts"] if files else None


def cross_version_tables(results: Sequence[CellResult]) -> list[VersionTable]:
    """Per target (x sysroot x compiler x package), one row per Go version, with what each
    adds or drops in libc symbols compared with the previous version."""
    from cgocheck.build.toolchains import version_key

    groups: dict[tuple[str, str | None, str, str], list[CellResult]] = {}
    for r in results:
        c = r.cell
        groups.setdefault((c.target, c.sysroot, c.compiler, c.package), []).append(r)
    tables: list[VersionTable] = []
    for (target, sysroot, compiler, package), rs in groups.items():
        rows: list[VersionRow] = []
        for r in rs:
            facts = _main_facts(r.report) if r.report else None
            if facts is None:
                continue
            bi = (facts.get("go") or {}).get("buildinfo") or {}
            syms = tuple(
                sorted(
                    {
                        s["name"] + (f"@{s['version']}" if s.get("version") else "")
                        for s in facts.get("undefined", [])
                        if s.get("library") in (None, "libc.so.6")
                        or str(s.get("library", "")).startswith(("libc.", "libpthread", "libdl", "libresolv", "libm."))
                    }
                )
            )
            rows.append(
                VersionRow(
                    go=r.cell.go,
                    go_version=str(bi.get("go_version", "?")),
                    libc_symbols=syms,
                    libraries=tuple(facts.get("needed", [])),
                    max_glibc=(facts.get("max_glibc") or {}).get("version"),
                    forcing=tuple((facts.get("max_glibc") or {}).get("symbols", [])),
                    findings=tuple(sorted({f.rule for f in r.findings})),
                )
            )
        rows.sort(key=lambda row: version_key(row.go_version.removeprefix("go")) or (0,))
        diffed: list[VersionRow] = []
        prev: set[str] | None = None
        for row in rows:
            cur = set(row.libc_symbols)
            added = tuple(sorted(cur - prev)) if prev is not None else ()
            removed = tuple(sorted(prev - cur)) if prev is not None else ()
            diffed.append(VersionRow(**{**asdict(row), "added": added, "removed": removed}))
            prev = cur
        if len(diffed) > 1:
            tables.append(VersionTable(f"{target} / {sysroot or 'no sysroot'} / {compiler} / {package}", tuple(diffed)))
    return tables
