"""Results: the typed models a command produces and the renderers (cgocheck.report) take.

- :class:`Report`: files (their facts, findings and resolution), errors, and for verify the
  build record and the findings about the build itself; doctor's shell comparison; the runs
  of files under the target's loader (cgocheck.loader.runmodel.ProgramRun);
- cgocheck.results.diff: what changed between two builds (``cgocheck diff``);
- cgocheck.results.matrix: the cells of a matrix and their reports (``cgocheck matrix``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from cgocheck import __version__
from cgocheck.core.errors import one_line
from cgocheck.core.rules import SEVERITIES, Finding

if TYPE_CHECKING:
    from cgocheck.build.record import BuildRecord
    from cgocheck.elf.model import ElfFacts
    from cgocheck.loader.model import Resolution
    from cgocheck.loader.runmodel import ProgramRun
    from cgocheck.results.doctor import ShellEnvironment

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Suppressed:
    """A finding taken out of a report by a suppression or the baseline, and why."""

    finding: Finding
    file: str  # the report file it was found in
    reason: str
    source: str  # "suppression cgocheck.toml:14" | "baseline base.json"
    expires: date | None = None

    def to_json(self) -> dict[str, Any]:
        """The one JSON form (reports, diffs and matrix cells alike)."""
        return {
            "rule": self.finding.rule,
            "path": self.file,
            "finding": self.finding.to_json(),
            "reason": self.reason,
            "source": self.source,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclass(frozen=True)
class FileReport:
    facts: ElfFacts
    findings: tuple[Finding, ...]
    resolution: Resolution | None = None  # when the file was resolved in a sysroot


@dataclass(frozen=True)
class FileError:
    path: str
    message: str  # one line: control characters (a newline in the file's name) are escaped

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", one_line(self.message))


@dataclass
class Report:
    command: str
    target: str | None = None
    sysroot: str | None = None
    files: list[FileReport] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    # verify: the build that made the files and the findings about the build itself
    # (pkg-config, host paths, compiler), which belong to no single file
    build: BuildRecord | None = None
    build_findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    environment: ShellEnvironment | None = None  # doctor: what the shell and the hermetic build see
    # run, verify --run, test: each file run under the target's loader in the sysroot (D findings in its file's)
    runs: list[ProgramRun] = field(default_factory=list)

    def run_of(self, path: str) -> ProgramRun | None:
        return next((r for r in self.runs if r.file == path), None)

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
