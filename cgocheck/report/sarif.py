"""SARIF 2.1.0 (validated in the tests against cgocheck/data/sarif-2.1.0.schema.json, the
OASIS schema with its approved errata).

One run; ``tool.driver.rules`` is every rule of cgocheck/data/rules.toml with its summary,
fix and ``helpUri`` (docs/rules.md#<id>). Each finding is a result: ``ruleId``/``ruleIndex``,
``level`` (error, warning, note for info), the message, and a location: the binary (or the
library a resolve finding names), or, when the evidence names a file that a C unit's DWARF
line table lists, that C unit's source file with the binary as a related location.
Suppressed findings are results too, with ``suppressions`` carrying the reason, as code
scanning expects. ``partialFingerprints`` uses the same identity as the baseline and
`cgocheck diff` (rule + file basename + evidence), so alerts stay stable across build folders.

Locations carry ``region.startLine = 1``: cgocheck's findings concern a whole file, and
GitHub code scanning only shows results whose location has a start line.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cgocheck import __version__
from cgocheck.core import files, redact
from cgocheck.core.rules import FAMILY_TITLES, Finding, rules
from cgocheck.elf.model import DwarfUnit, ElfFacts
from cgocheck.policy import verdict
from cgocheck.report import jsontext
from cgocheck.report.formats import (
    RenderContext,
    display_path,
    docs_url,
    rule_url,
)
from cgocheck.results import FileReport, Report

if TYPE_CHECKING:
    from cgocheck.results import Suppressed
    from cgocheck.results.diff import Change, Diff

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SRCROOT = "%SRCROOT%"


def _artifact(path: str) -> dict[str, Any]:
    """A relative path (or one under the current folder) is relative to %SRCROOT%; others are file: URIs."""
    p = Path(path)
    rel: PurePosixPath | None = None
    if not p.is_absolute():
        rel = PurePosixPath(posixpath.normpath(p.as_posix()))
    else:
        try:
            rel = PurePosixPath(p.relative_to(Path.cwd()).as_posix())
        except ValueError:
            rel = None
    if rel is not None and not str(rel).startswith(".."):
        return {"uri": quote(str(rel)), "uriBaseId": SRCROOT}
    return redact.sarif_location(str(p.absolute())) or {"uri": p.absolute().as_uri()}


def _location(path: str, text: str | None = None, loc_id: int | None = None, line: int = 1) -> dict[str, Any]:
    loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": _artifact(path), "region": {"startLine": line}}}
    if text:
        loc["message"] = {"text": text}
    if loc_id is not None:
        loc["id"] = loc_id
    return loc


def go_source_dirs(report: Report) -> list[str]:
    """Folders of the Go packages a verify build compiled with cgo (theirs first, then the module's)."""
    build = report.build
    dirs = [p.dir for p in build.cgo_packages if not p.std] if build else []
    src = build.source_dir if build else None
    return [d for d in [*dirs, *([str(src)] if src else [])] if d]


def unit_source(unit: DwarfUnit, go_dirs: list[str]) -> str:
    """The file a C unit stands for: for cgo's generated X.cgo2.c, the package's X.go when the
    build says where the package is; otherwise the unit's own path."""
    src = unit.name if posixpath.isabs(unit.name) or not unit.comp_dir else posixpath.join(unit.comp_dir, unit.name)
    base = posixpath.basename(unit.name)
    if base.endswith(".cgo2.c"):
        for d in go_dirs:
            cand = Path(d) / (base[: -len(".cgo2.c")] + ".go")
            if cand.is_file():
                return str(cand)
    return src


_INCLUDE = re.compile(r"^\s*(?://)?\s*#\s*include\s*[<\"]([^>\"]+)[>\"]")


def include_line(source: str, header: str) -> int:
    """The line of SOURCE (a cgo preamble or C file) that #includes HEADER directly, else 1."""
    try:  # a regular file only (a source path from DWARF may name a FIFO or a device)
        text = files.read_head(source, files.SOURCE.max_bytes).decode("utf-8", "replace")
    except files.FileProblem:
        return 1
    for n, line in enumerate(text.splitlines(), 1):
        m = _INCLUDE.match(line)
        if m and (header == m.group(1) or header.endswith("/" + m.group(1))):
            return n
        if n > 20_000:
            break
    return 1


def dwarf_sources(facts: ElfFacts, finding: Finding, go_dirs: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(source file, C unit, file named by the evidence) for evidence naming a file that a C
    unit's DWARF line table lists (a header it read)."""
    out: list[tuple[str, str, str]] = []
    tokens = {t.strip(";,") for ev in finding.evidence for t in ev.split()}
    for unit in facts.dwarf:
        if unit.language not in ("C", "C++"):
            continue
        own = unit.name if posixpath.isabs(unit.name) else posixpath.join(unit.comp_dir or "", unit.name)
        for named in unit.files:
            if named != own and named in tokens:
                out.append((unit_source(unit, go_dirs or []), unit.name, named))
                break
    return out


def fingerprint(finding: Finding, report_file: str) -> str:
    from cgocheck.policy import finding_key

    key = finding_key(finding.rule, finding.file, finding.evidence, report_file)
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]


def _result(finding: Finding, fr: FileReport | None, report_path: str, index: dict[str, int],
            target: str | None, suppressed: Suppressed | None = None, go_dirs: list[str] | None = None
            ) -> dict[str, Any]:
    go_dirs = go_dirs or []
    file = finding.file or report_path
    msg = finding.message.rstrip(".") + "."
    if finding.evidence:
        msg += " Evidence: " + "; ".join(finding.evidence) + "."
    msg += f" Fix: {finding.fix}"
    res: dict[str, Any] = {"ruleId": finding.rule, "level": LEVEL.get(finding.severity, "warning"), "kind": "fail",
                           "message": {"text": msg}}
    if finding.rule in index:
        res["ruleIndex"] = index[finding.rule]
    sources = dwarf_sources(fr.facts, finding, go_dirs) if fr is not None else []
    if sources:
        src, unit, named = sources[0]
        res["locations"] = [_location(src, f"its C code ({unit}, per DWARF) read {named}", None,
                                      include_line(src, named))]
        res["relatedLocations"] = [_location(file, "the binary whose DWARF says so", 1),
                                   _location(named, "the file that was read", 2)]
    elif file:
        res["locations"] = [_location(file)]
    res["partialFingerprints"] = {"cgocheckFinding/v1": fingerprint(finding, report_path)}
    props: dict[str, Any] = {"severity": finding.severity, "name": finding.name, "fix": finding.fix,
                             "evidence": list(finding.evidence), "file": file}
    if target:
        props["target"] = target
    if finding.extra:
        props["extra"] = [list(e) for e in finding.extra]
    res["properties"] = props
    if suppressed is not None:
        sup: dict[str, Any] = {"kind": "external", "status": "accepted", "justification": suppressed.reason,
                               "properties": {"source": suppressed.source}}
        if suppressed.expires:
            sup["properties"]["expires"] = suppressed.expires.isoformat()
        res["suppressions"] = [sup]
    return res


def _rule_descriptors() -> tuple[list[dict[str, Any]], dict[str, int]]:
    out = []
    index = {}
    for i, rule in enumerate(sorted(rules().values(), key=lambda r: r.id)):
        index[rule.id] = i
        url = rule_url(rule.id)
        out.append({
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": f"{rule.summary}\nFix: {rule.fix}\nSee {url}",
                     "markdown": f"{rule.summary}\n\n**Fix:** {rule.fix}\n\n[{rule.id} in docs/rules.md]({url})"},
            "helpUri": url,
            "defaultConfiguration": {"level": LEVEL[rule.severity]},
            "properties": {"tags": ["cgo", "cross-build", FAMILY_TITLES.get(rule.id[0], rule.id[0])],
                           "precision": "high"},
        })
    return out, index


def _driver(extra_rules: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], dict[str, int]]:
    descs, index = _rule_descriptors()
    for r in extra_rules or []:
        index[r["id"]] = len(descs)
        descs.append(r)
    driver = {"name": "cgocheck", "version": __version__, "semanticVersion": __version__,
              "informationUri": docs_url(), "rules": descs}
    return driver, index


def _log(run: dict[str, Any]) -> str:
    return jsontext.dumps({"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [with_home_base(run)]}) + "\n"


def with_home_base(run: dict[str, Any]) -> dict[str, Any]:
    """Declare the HOME base id (cgocheck.core.redact) in a run whose locations use it."""
    if f'"uriBaseId": "{redact.HOME_BASE_ID}"' in json.dumps(run):
        run.setdefault("originalUriBaseIds", {})[redact.HOME_BASE_ID] = redact.sarif_home_base()
    return run


def _base_ids() -> dict[str, Any]:
    """%SRCROOT% is the current folder; under the home folder, it and every location there are
    relative to a HOME base whose value is not shown (see cgocheck.core.redact)."""
    cwd = str(Path.cwd()).rstrip("/") + "/"
    src = redact.sarif_location(cwd) or {"uri": Path.cwd().as_uri().rstrip("/") + "/"}
    return {SRCROOT: src}


def sarif_run(report: Report, ctx: RenderContext) -> dict[str, Any]:
    driver, index = _driver()
    results = []
    by_path: dict[str, FileReport | None] = {fr.facts.path: fr for fr in report.files}
    # findings about the build itself point at the built file (verify builds one), whose DWARF
    # names the C sources
    built = report.files[0] if report.files else None
    by_path[""] = built
    dirs = go_source_dirs(report)
    for f in report.build_findings:
        results.append(_result(f, built, built.facts.path if built else "", index, report.target, go_dirs=dirs))
    for file_report in report.files:
        for f in file_report.findings:
            results.append(_result(f, file_report, file_report.facts.path, index, report.target, go_dirs=dirs))
    for s in ctx.suppressed:
        owner = by_path.get(s.file)
        path = s.file or (owner.facts.path if owner is not None else "")
        results.append(_result(s.finding, owner, path, index, report.target, s, dirs))
    bad = [{"level": "error", "message": {"text": e.message}, "locations": [_location(e.path)],
            "descriptor": {"id": "bad-input"}} for e in report.errors]
    invocation: dict[str, Any] = {"executionSuccessful": ctx.exit_code in (0, 1), "exitCode": ctx.exit_code,
                                  "exitCodeDescription": verdict(ctx.exit_code)}
    if bad:
        invocation["toolExecutionNotifications"] = bad
    props: dict[str, Any] = {"command": report.command, "failOn": ctx.fail_on,
                             "files": [display_path(fr.facts.path) for fr in report.files]}
    if report.notes:
        props["notes"] = list(report.notes)
    if report.runs:
        from cgocheck.report.runs import test_counts
        from cgocheck.report.runs import verdict as run_verdict

        props["programRuns"] = [{"file": display_path(r.file), "mode": r.mode, "result": run_verdict(r),
                                 "exitCode": r.returncode, "signal": r.signal, "started": r.started,
                                 "qemu": r.qemu.version if r.qemu else None, "args": list(r.args),
                                 **({"goTests": test_counts(r.tests)} if r.test_package else {})}
                                for r in report.runs]
    if report.target:
        props["target"] = report.target
    if report.sysroot:
        props["sysroot"] = report.sysroot
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "originalUriBaseIds": _base_ids(),
        "artifacts": [{"location": _artifact(fr.facts.path), "length": fr.facts.size,
                       "roles": ["analysisTarget"]} for fr in report.files],
        "results": results,
        "automationDetails": {"id": f"cgocheck/{report.command}/{report.target or 'any'}/"},
        "properties": props,
    }
    return run


def render_report(report: Report, ctx: RenderContext) -> str:
    return _log(sarif_run(report, ctx))


# --- cgocheck diff -----------------------------------------------------------------------

_DIFF_RULES = {
    "library": ("new-library", "A new DT_NEEDED library: the device must provide it."),
    "runpath": ("new-run-path", "A new DT_RPATH/DT_RUNPATH folder the loader searches."),
    "glibc": ("glibc-raised", "The highest GLIBC_x.y version needed went up: older devices cannot run it."),
    "interpreter": ("interpreter-changed", "PT_INTERP (the dynamic loader) changed."),
    "abi": ("abi-changed", "The ELF ABI (machine, class, byte order, float ABI) changed."),
    "symbol": ("new-symbol", "A new undefined dynamic symbol (or symbol version) is needed."),
    "go": ("go-build-changed", "A Go build property changed (cgo, link mode, settings)."),
    "file": ("file-changed", "A file appeared or a target changed between the two builds."),
}


def _diff_rule_id(kind: str) -> str:
    return f"diff/{_DIFF_RULES[kind][0]}"


def _diff_result(c: Change, index: dict[str, int]) -> dict[str, Any]:
    rid = c.rule if c.kind == "finding" and c.rule else _diff_rule_id(c.kind)
    level = LEVEL.get(c.severity or "", "warning") if c.kind == "finding" else ("error" if c.regression else "note")
    res: dict[str, Any] = {"ruleId": rid, "level": level, "kind": "fail", "message": {"text": f"{c.file}: {c.text()}"},
                           "baselineState": "new" if c.change == "added" else "updated"}
    if rid in index:
        res["ruleIndex"] = index[rid]
    if c.path:
        res["locations"] = [_location(c.path)]
    fp = hashlib.sha256(json.dumps([rid, c.file, c.subject, c.after, list(c.evidence)]).encode()).hexdigest()[:32]
    res["partialFingerprints"] = {"cgocheckChange/v1": fp}
    res["properties"] = {"regression": c.regression, "change": c.change, "subject": c.subject,
                         "before": c.before, "after": c.after, "evidence": list(c.evidence)}
    return res


def render_diff(diff: Diff, ctx: RenderContext) -> str:
    extra = [{"id": _diff_rule_id(k), "name": name, "shortDescription": {"text": text},
              "fullDescription": {"text": text}, "defaultConfiguration": {"level": "error"}}
             for k, (name, text) in _DIFF_RULES.items()]
    driver, index = _driver(extra)
    results = [_diff_result(c, index) for c in diff.changes if c.change not in ("removed", "lowered")]
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True, "exitCode": ctx.exit_code,
                         "exitCodeDescription": "regression" if ctx.exit_code == 1 else "no regression"}],
        "originalUriBaseIds": _base_ids(),
        "results": results,
        "automationDetails": {"id": "cgocheck/diff/"},
        "properties": {"base": diff.base_label, "head": diff.head_label, "failOn": diff.fail_on,
                       "regressions": len(diff.regressions)},
    }
    return _log(run)
