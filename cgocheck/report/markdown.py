"""Markdown for a CI job summary ($GITHUB_STEP_SUMMARY): a summary line, a findings table,
and collapsible details (suppressed findings, the build, each file's facts, unreadable files)."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from cgocheck.core.rules import SEVERITY_RANK, Finding
from cgocheck.policy import verdict
from cgocheck.report.formats import (
    BUILD_LABEL,
    RenderContext,
    build_rows,
    counts,
    display_path,
    rule_url,
)
from cgocheck.results import Report

if TYPE_CHECKING:
    from cgocheck.loader.runmodel import ProgramRun
    from cgocheck.results.diff import Diff

ICON = {"error": "🔴", "warning": "🟡", "info": "🔵"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def esc(text: str) -> str:
    """Text safe in a Markdown table cell: HTML-escaped, Markdown specials escaped, one line."""
    t = _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))
    return t.replace("\r", "").replace("\n", "<br>")


def code(text: str) -> str:
    return f"<code>{esc(text)}</code>"


def _rule_link(rule: str, name: str) -> str:
    return f"[{rule}]({rule_url(rule)}) {code(name)}" if name else f"[{rule}]({rule_url(rule)})"


def _head_line(report: Report, ctx: RenderContext) -> str:
    ok = ctx.exit_code == 0
    mark = "✅" if ok else ("❌" if ctx.exit_code == 1 else "⚠️")
    title = f"cgocheck {report.command}"
    if report.target:
        title += f" · {report.target}"
    return f"## {mark} {esc(title)}: {verdict(ctx.exit_code)}"


def summary_line(report: Report, ctx: RenderContext) -> str:
    c = counts(report.findings)
    parts = [f"**{len(report.files)} file(s)**"]
    parts += [f"{ICON[s]} {c[s]} {s}{'s' if c[s] != 1 and s != 'info' else ''}" for s in ("error", "warning", "info")]
    if ctx.suppressed:
        parts.append(f"{len(ctx.suppressed)} suppressed")
    if report.errors:
        parts.append(f"{len(report.errors)} unreadable")
    parts.append(f"exit {ctx.exit_code} (fails on {ctx.fail_on} and above)")
    return " · ".join(parts)


def _findings_table(rows: list[tuple[str, Finding]]) -> list[str]:
    out = ["| Severity | Rule | File | Finding | Fix |", "|---|---|---|---|---|"]
    for path, f in rows:
        finding = esc(f.message)
        if f.evidence:
            finding += "<br><sub>evidence: " + ", ".join(code(e) for e in f.evidence) + "</sub>"
        out.append(f"| {ICON.get(f.severity, '')} {f.severity} | {_rule_link(f.rule, f.name)} | "
                   f"{code(display_path(f.file or path))} | {finding} | {esc(f.fix)} |")
    return out


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _kv_table(rows: list[tuple[str, str]]) -> list[str]:
    out = ["| | |", "|---|---|"]
    out += [f"| {esc(k) or '&nbsp;'} | {esc(v)} |" for k, v in rows]
    return out


def render_report(report: Report, ctx: RenderContext) -> str:
    from cgocheck.report.table import facts_rows, resolution_rows

    lines = [_head_line(report, ctx), "", summary_line(report, ctx), ""]
    rows = [(BUILD_LABEL, f) for f in report.build_findings]
    rows += [(fr.facts.path, f) for fr in report.files for f in fr.findings]
    rows.sort(key=lambda r: (-SEVERITY_RANK.get(r[1].severity, 0), r[1].rule, r[0]))
    if rows:
        lines += [*_findings_table(rows), ""]
    elif report.files:
        lines += ["No findings." if report.target else "No findings (no --target given: only run paths checked).", ""]
    if ctx.suppressed:
        body = ["| Rule | File | Finding | Reason | Source |", "|---|---|---|---|---|"]
        for s in ctx.suppressed:
            where = code(display_path(s.finding.file or s.file or BUILD_LABEL))
            body.append(f"| {_rule_link(s.finding.rule, s.finding.name)} | {where}"
                        f" | {esc(s.finding.message)} | {esc(s.reason)} | {esc(s.source)} |")
        lines += _details(f"Suppressed findings ({len(ctx.suppressed)})", body)
    brows = build_rows(report, verbose=ctx.verbose)
    if brows is not None:
        lines += _details("Build", _kv_table(brows))
    for fr in report.files:
        kv = facts_rows(fr.facts, verbose=ctx.verbose)
        res = fr.resolution
        if res is not None:
            kv += resolution_rows(res, verbose=ctx.verbose)
        top, _ = fr.facts.max_glibc()
        brief = ", ".join(x for x in (fr.facts.header.machine, "static" if fr.facts.static else "dynamic", top) if x)
        body = _kv_table(kv)
        lines += _details(f"Facts: {code(display_path(fr.facts.path))} ({esc(brief)})", body)
        run = report.run_of(fr.facts.path)
        if run is not None:
            lines += _run_details(run, ctx)
    if report.notes:
        lines += [*(f"> {esc(n)}" for n in report.notes), ""]
    if report.errors:
        body = [f"- {code(e.path)}: {esc(e.message)}" for e in report.errors]
        lines += _details(f"Unreadable files ({len(report.errors)})", body)
    return "\n".join(lines).rstrip() + "\n"


def _run_details(run: ProgramRun, ctx: RenderContext) -> list[str]:
    from cgocheck.report.runs import run_rows, test_counts, verdict

    body = _kv_table(run_rows(run, verbose=ctx.verbose))
    if run.test_package is not None:
        c = test_counts(run.tests)
        body += ["", f"{len(run.tests)} Go test(s): ✅ {c['pass']} passed · ❌ {c['fail']} failed · "
                     f"⏭️ {c['skip']} skipped", "", "| | Test | Seconds |", "|---|---|---|"]
        mark = {"pass": "✅", "fail": "❌", "skip": "⏭️"}
        body += [f"| {mark.get(t.status, '')} {t.status} | {code(t.name)} | {t.seconds:.2f} |" for t in run.tests]
    return _details(f"Run: {code(display_path(run.file))} ({esc(verdict(run))})", body)


def render_diff(diff: Diff, ctx: RenderContext) -> str:
    from cgocheck.results.diff import CHANGE_KINDS

    mark = "❌" if diff.regressions else "✅"
    lines = [f"## {mark} cgocheck diff: {esc(diff.summary())}", "",
             f"base {code(diff.base_label)}" + (f" ({esc(diff.base_target)})" if diff.base_target else "")
             + f" → head {code(diff.head_label)}" + (f" ({esc(diff.head_target)})" if diff.head_target else ""), ""]
    reg = diff.regressions
    if reg:
        lines += ["| | Kind | File | Change |", "|---|---|---|---|"]
        lines += [f"| ❌ | {esc(CHANGE_KINDS[c.kind])} | {code(c.file)} | {esc(c.text())} |" for c in reg]
        lines.append("")
    other = [c for c in diff.changes if not c.regression]
    if other:
        body = ["| Kind | File | Change |", "|---|---|---|"]
        body += [f"| {esc(CHANGE_KINDS[c.kind])} | {code(c.file)} | {esc(c.text())} |" for c in other]
        lines += _details(f"Other changes ({len(other)})", body)
    if diff.suppressed:
        body = [f"- {code(s.finding.rule)} {esc(s.finding.message)}: {esc(s.reason)}" for s in diff.suppressed]
        lines += _details(f"Suppressed findings in head ({len(diff.suppressed)})", body)
    return "\n".join(lines).rstrip() + "\n"
