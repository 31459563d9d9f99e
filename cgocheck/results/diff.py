"""What ``cgocheck diff`` found: the pairs of files compared and every change, each marked
as a regression or not (the model the renderers take; computed by cgocheck.commands.diff)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cgocheck.core.errors import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from cgocheck.results import Suppressed

DIFF_SCHEMA_VERSION = "1.0"

CHANGE_KINDS = {
    "file": "files",
    "finding": "findings",
    "library": "libraries (DT_NEEDED)",
    "runpath": "run paths (DT_RPATH/DT_RUNPATH)",
    "glibc": "highest GLIBC version",
    "interpreter": "interpreter (PT_INTERP)",
    "abi": "ABI",
    "symbol": "dynamic symbols",
    "go": "Go build",
}


@dataclass(frozen=True)
class Change:
    kind: str  # a key of CHANGE_KINDS
    file: str  # the pair's name
    change: str  # added | removed | raised | lowered | changed
    subject: str  # "libfoo.so.1", "pthread_getattr_np@GLIBC_2.34", "machine", "R001 runpath-absolute"
    before: str | None = None
    after: str | None = None
    regression: bool = False
    detail: str = ""
    rule: str | None = None
    severity: str | None = None
    evidence: tuple[str, ...] = ()
    path: str | None = None  # the file on the side that has it (HEAD when both)

    def text(self) -> str:
        if self.change in ("added", "removed"):
            s = f"{self.change} {self.subject}"
        else:
            s = f"{self.subject} {self.change}: {self.before or '-'} -> {self.after or '-'}"
        return s + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Pair:
    name: str
    base: str | None  # path on the BASE side (None: the file is new)
    head: str | None  # path on the HEAD side (None: the file is gone)


@dataclass(frozen=True)
class Diff:
    base_label: str
    head_label: str
    base_target: str | None
    head_target: str | None
    fail_on: str
    strict: bool
    pairs: tuple[Pair, ...]
    changes: tuple[Change, ...]
    suppressed: tuple[Suppressed, ...] = field(default=())

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regression]

    def summary(self) -> str:
        """One line: how many regressions of which kinds, how many other changes."""
        reg = self.regressions
        other = len(self.changes) - len(reg)
        if reg:
            kinds = sorted({CHANGE_KINDS[c.kind] for c in reg})
            return f"{len(reg)} regression(s) ({'; '.join(kinds)}), {other} other change(s)"
        return f"no regression, {other} change(s)" if other else "no change"

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.regressions else EXIT_OK


