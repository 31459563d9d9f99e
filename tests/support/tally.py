"""The counts of the differential runs (cgocheck against readelf, the target's loader and
``go version -m``): files compared, fields compared, disagreements and known differences,
per check and corpus. The tests add to it; tests/conftest.py's ``pytest_terminal_summary``
prints it at the end of the run (the README's reliability section quotes those lines).

Also the corpus helpers the differential tests share: which files of a folder are ELF
files, a deterministic sample of them, and the time box of the default run.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


@dataclass
class Count:
    files: int = 0  # files compared
    fields: int = 0  # facts compared (one field of one file, one binding, one library ...)
    disagreements: int = 0  # unexplained: each fails its test
    known: int = 0  # named, explained known differences
    of: int = 0  # files in the corpus (the sample's population)
    stopped: str = ""  # why the run compared fewer files than it sampled (the time box)
    notes: list[str] = field(default_factory=list)


_TALLY: dict[tuple[str, str], Count] = {}


def count(check: str, corpus: str) -> Count:
    """The counter of CHECK (``inspect/readelf``, ``resolve/ld.so``, ``buildinfo/go``) on CORPUS."""
    return _TALLY.setdefault((check, corpus), Count())


def entries() -> list[tuple[str, str, Count]]:
    return [(check, corpus, c) for (check, corpus), c in sorted(_TALLY.items())]


def summary_lines() -> list[str]:
    """One line per check and corpus, then a total per check."""
    out: list[str] = []
    totals: dict[str, Count] = {}
    for check, corpus, c in entries():
        t = totals.setdefault(check, Count())
        t.files += c.files
        t.fields += c.fields
        t.disagreements += c.disagreements
        t.known += c.known
        t.of += c.of
        of = f" of {c.of}" if c.of else ""
        stop = f" ({c.stopped})" if c.stopped else ""
        out.append(
            f"{check:18} {corpus:34} files {c.files:5}{of:9} fields {c.fields:7} "
            f"disagreements {c.disagreements} known {c.known}{stop}"
        )
        if c.notes:
            shown = "; ".join(c.notes[:6]) + (f"; ... {len(c.notes) - 6} more" if len(c.notes) > 6 else "")
            out.append(f"{'':18} {'':34} known: {shown}")
    for check, t in sorted(totals.items()):
        out.append(
            f"{check:18} {'TOTAL':34} files {t.files:5}{'':9} fields {t.fields:7} "
            f"disagreements {t.disagreements} known {t.known}"
        )
    return out


@dataclass
class Hostile:
    """What the hostile-input runs fed cgocheck and how each input ended (a crash, a hang or
    a blown memory limit fails its test, so they are not counted here: the test run says)."""

    inputs: int = 0
    facts: int = 0  # ended in facts
    errors: int = 0  # ended in one error line (exit 2 / BadInput)
    slowest: float = 0.0  # seconds, the slowest input
    peak_mb: float = 0.0  # the largest peak RSS measured (inputs run in a process of their own)

    def add(self, *, error: bool, seconds: float, peak_mb: float = 0.0) -> None:
        self.inputs += 1
        self.errors += error
        self.facts += not error
        self.slowest = max(self.slowest, seconds)
        self.peak_mb = max(self.peak_mb, peak_mb)


_HOSTILE: dict[str, Hostile] = {}


def hostile(kind: str) -> Hostile:
    """The counter of one kind of hostile run (``ELF mutations in-process`` ...)."""
    return _HOSTILE.setdefault(kind, Hostile())


def hostile_lines() -> list[str]:
    out = []
    for kind, h in sorted(_HOSTILE.items()):
        peak = f", peak {h.peak_mb:.0f} MB" if h.peak_mb else ""
        out.append(f"{kind:40} inputs {h.inputs:6}: facts {h.facts}, one-line errors {h.errors}; "
                   f"slowest {h.slowest:.2f} s{peak}")
    return out


def is_elf(path: Path) -> bool:
    """A regular file (not a symlink) starting with the ELF magic."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        with path.open("rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def elf_files(top: Path, *, recursive: bool = True) -> list[Path]:
    """Every ELF file under TOP (symlinks not followed), sorted."""
    found: list[Path] = []
    if recursive:
        for dirpath, _dirs, names in os.walk(top):
            found += [p for n in names if is_elf(p := Path(dirpath, n))]
    else:
        found = [p for p in top.iterdir() if is_elf(p)]
    return sorted(found)


def sample(files: Iterable[Path], n: int | None, top: Path) -> list[Path]:
    """A deterministic sample of N files (all when N is None): ordered by the sha256 of
    their path under TOP, the same files on every machine that has them."""

    def key(p: Path) -> str:
        return hashlib.sha256(str(p.relative_to(top)).encode()).hexdigest()

    ordered = sorted(files, key=key)
    return ordered if n is None else ordered[:n]


@dataclass
class TimeBox:
    """The default run's limit: ``within(items)`` yields until SECONDS have passed (None:
    never stops, --exhaustive) and records in COUNTER where it stopped."""

    seconds: float | None
    counter: Count
    start: float = field(default_factory=time.monotonic)

    def within(self, items: list[Path]) -> Iterator[Path]:
        for i, item in enumerate(items):
            if self.seconds is not None and time.monotonic() - self.start > self.seconds:
                self.counter.stopped = f"time box {self.seconds:.0f} s: {i} of {len(items)} sampled"
                return
            yield item
