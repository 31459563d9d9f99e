"""Reports: the data a command produced, rendered as a table or JSON (more formats later)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cgocheck import __version__
from cgocheck.core.rules import SEVERITIES, Finding
from cgocheck.elf.model import ElfFacts

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class FileReport:
    facts: ElfFacts
    findings: tuple[Finding, ...]
    resolution: Any = None  # a resolve.Resolution when a sysroot was given


@dataclass(frozen=True)
class FileError:
    path: str
    message: str


@dataclass
class Report:
    command: str
    target: str | None = None
    sysroot: str | None = None
    files: list[FileReport] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    # verify: the build that made the files (a provenance.BuildRecord) and the findings about
    # the build itself (pkg-config, host paths, compiler), which belong to no single file
    build: Any = None
    build_findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [*self.build_findings, *(f for fr in self.files for f in fr.findings)]

    def counts(self) -> dict[str, int]:
        c = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            c[f.severity] += 1
        return c


def tool_info() -> dict[str, str]:
    return {"name": "cgocheck", "version": __version__}
