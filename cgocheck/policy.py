"""Policy: which findings count, and what a result's exit code and verdict are.

One place for each decision every command makes the same way:

- **suppressions and the baseline** (:func:`filter_findings`, the one filter; :func:`apply`
  for a typed report, :func:`apply_json` for a saved one): a suppressed finding leaves the
  findings and comes back as a :class:`Suppressed`, with its reason, which every format shows;
- **whether a finding fails** (:func:`fails`): at or above the failing severity;
- **exit codes** (:func:`report_exit`, :func:`worst`) and their **verdicts** (:data:`VERDICTS`).

The policy itself (:class:`Policy`) comes from the settings (cgocheck.settings).
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cgocheck.core.errors import EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_OK
from cgocheck.core.rules import SEVERITIES, SEVERITY_RANK, Finding
from cgocheck.results import FileReport, Report, Suppressed

EXIT_INTERRUPTED = 130
# every exit code a command can end with, worst first, and the word reports use for it
VERDICTS: dict[int, str] = {
    EXIT_INTERRUPTED: "interrupted",
    EXIT_ENVIRONMENT: "environment problem",
    EXIT_BAD_INPUT: "bad input",
    EXIT_FINDINGS: "fail",
    EXIT_OK: "pass",
}


def verdict(code: int) -> str:
    return VERDICTS.get(code, f"exit {code}")


def fails(finding: Finding, fail_on: str) -> bool:
    """The one test of whether a finding fails: its severity is at or above ``fail_on``."""
    return SEVERITY_RANK.get(finding.severity, 0) >= SEVERITY_RANK[fail_on]


def failing(findings: Iterable[Finding], fail_on: str) -> list[Finding]:
    return [f for f in findings if fails(f, fail_on)]


def worst(codes: Iterable[int]) -> int:
    """The exit code of several results (matrix cells, the binaries of a package pattern)."""
    order = list(VERDICTS)
    seen = set(codes)
    for code in order:
        if code in seen:
            return code
    others = sorted(c for c in seen if c not in VERDICTS)
    return others[-1] if others else EXIT_OK


def report_exit(report: Report, fail_on: str) -> int:
    """A report's exit code: 2 when an input could not be read, 1 when a finding fails or the
    build it describes failed (even with its finding suppressed), else 0."""
    if report.errors:
        return EXIT_BAD_INPUT
    if failing(report.findings, fail_on):
        return EXIT_FINDINGS
    if report.build is not None and not report.build.ok:
        return EXIT_FINDINGS
    return EXIT_OK


@dataclass(frozen=True)
class Policy:
    fail_on: str = "error"
    suppressions: tuple[Suppression, ...] = ()
    baseline: Path | None = None
    baseline_keys: frozenset[FindingKey] = frozenset()

    def __post_init__(self) -> None:
        if self.fail_on not in SEVERITIES:
            raise ValueError(f"fail_on must be one of {SEVERITIES}")


FindingKey = tuple[str, str, tuple[str, ...]]  # rule, file basename, evidence (see finding_key)


@dataclass(frozen=True)
class Suppression:
    rule: str
    reason: str
    path: str | None = None  # glob on the finding's file (basename when it has no '/')
    symbol: str | None = None  # glob on the evidence: every evidence item must match
    expires: date | None = None
    origin: str = ""  # "cgocheck.toml:14"

    def matches(self, finding: Finding, file_path: str) -> bool:
        if finding.rule != self.rule:
            return False
        if self.path is not None and not _path_matches(self.path, finding.file or file_path):
            return False
        return self.symbol is None or (
            bool(finding.evidence) and all(_evidence_matches(self.symbol, ev) for ev in finding.evidence)
        )


# --- finding identity (shared with `cgocheck diff` and the baseline) --------------------


def finding_key(rule: str, file: str | None, evidence: Iterable[str], report_file: str) -> FindingKey:
    """rule + file basename + evidence, with the file's own path reduced to its basename.

    Stable across build folders: the same finding in /tmp/a/app and /work/b/app is one key.
    """
    own = file or report_file
    name = posixpath.basename(own)
    ev = tuple(evidence)
    for long in (report_file, own):
        if long and long != posixpath.basename(long):
            ev = tuple(e.replace(long, posixpath.basename(long)) for e in ev)
    return (rule, name, ev)


def keys_of_json_report(data: Mapping[str, Any]) -> frozenset[FindingKey]:
    out = set()
    for f in data.get("files", ()):
        for x in f.get("findings", ()):
            out.add(finding_key(x["rule"], x.get("file"), x.get("evidence", ()), f["path"]))
    for x in data.get("build_findings", ()):
        out.add(finding_key(x["rule"], x.get("file"), x.get("evidence", ()), ""))
    return frozenset(out)


# --- policy -----------------------------------------------------------------------------


def filter_findings(
    findings: Iterable[Finding], file_path: str, policy: Policy
) -> tuple[list[Finding], list[Suppressed]]:
    """The one place suppressions and the baseline act: (kept, suppressed) for one file.

    A suppression wins over the baseline; the first matching suppression wins.
    """
    kept: list[Finding] = []
    taken: list[Suppressed] = []
    base_name = policy.baseline.name if policy.baseline else ""
    for f in findings:
        sup = next((s for s in policy.suppressions if s.matches(f, file_path)), None)
        if sup is not None:
            taken.append(Suppressed(f, file_path, sup.reason, f"suppression {sup.origin}", sup.expires))
        elif policy.baseline_keys and finding_key(f.rule, f.file, f.evidence, file_path) in policy.baseline_keys:
            taken.append(Suppressed(f, file_path, f"accepted in the baseline {base_name}", f"baseline {base_name}"))
        else:
            kept.append(f)
    return kept, taken


def apply(report: Report, policy: Policy) -> tuple[Report, tuple[Suppressed, ...]]:
    """Move suppressed and baselined findings out of a typed REPORT (see filter_findings).

    Returns a new report, every other field kept as it was, and what was taken out.
    """
    taken: list[Suppressed] = []
    build_kept, out = filter_findings(report.build_findings, "", policy)  # the build's own: no file
    taken += out
    files: list[FileReport] = []
    for fr in report.files:
        kept, out = filter_findings(fr.findings, fr.facts.path, policy)
        taken += out
        files.append(dataclasses.replace(fr, findings=tuple(kept)) if out else fr)
    return dataclasses.replace(report, files=files, build_findings=build_kept), tuple(taken)


def apply_json(report: dict[str, Any], policy: Policy) -> tuple[dict[str, Any], tuple[Suppressed, ...]]:
    """The same for a report in its JSON form (a saved report, a cached matrix cell): the
    same filter, on the same Finding objects, written back as JSON. REPORT is not changed."""
    out = copy.deepcopy(report)
    taken: list[Suppressed] = []
    holders: list[tuple[dict[str, Any], str, str]] = [(out, "build_findings", "")]
    holders += [(fr, "findings", str(fr.get("path", ""))) for fr in out.get("files", []) if isinstance(fr, dict)]
    for holder, key, path in holders:
        if not holder.get(key):
            continue
        kept, gone = filter_findings([Finding.from_json(f) for f in holder[key]], path, policy)
        holder[key] = [f.to_json() for f in kept]
        taken += gone
    return out, tuple(taken)


def _path_matches(glob: str, path: str) -> bool:
    if "/" not in glob:
        return fnmatch.fnmatchcase(posixpath.basename(path), glob)
    return fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(path.lstrip("./"), glob.lstrip("./"))


def _evidence_matches(glob: str, evidence: str) -> bool:
    """Any token of the evidence item (or its name without @VERSION) matches the glob."""
    for token in re.split(r"[\s,;:()\[\]=]+", evidence):
        if not token:
            continue
        if fnmatch.fnmatchcase(token, glob) or fnmatch.fnmatchcase(token.split("@", 1)[0], glob):
            return True
    return fnmatch.fnmatchcase(evidence, glob)


