"""One self-contained HTML page: inline CSS, no script, no external fonts, images or styles
(a Content-Security-Policy meta tag forbids them, so a stray reference fails loudly).

A page is a title and a list of ``Section``s; ``report_sections`` makes the sections of
one report (overview, findings with evidence and fix, suppressed findings, the facts of
each file, unreadable files, the rules that fired). Other views (the matrix overview, the
cross-version table) add their own sections and call ``page``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cgocheck import __version__
from cgocheck.core.rules import SEVERITY_RANK, Finding, rules
from cgocheck.policy import verdict
from cgocheck.report.formats import (
    BUILD_LABEL,
    RenderContext,
    build_rows,
    counts,
    display_path,
    rule_url,
)
from cgocheck.results import FileReport, Report

if TYPE_CHECKING:
    from cgocheck.results import Suppressed
    from cgocheck.results.diff import Diff


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class Section:
    id: str  # the anchor (letters, digits, '-')
    title: str  # plain text
    body: str  # HTML, built with esc() for everything that came from outside


CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#ffffff;--soft:#f6f8fa;
--err:#cf222e;--errbg:#ffebe9;--warn:#9a6700;--warnbg:#fff8c5;--info:#0969da;--infobg:#ddf4ff;--ok:#1a7f37;--okbg:#dafbe1}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 32px;border-bottom:1px solid var(--line);background:var(--soft)}
header h1{margin:0 0 4px;font-size:22px}
header .sub{color:var(--muted)}
nav{padding:8px 32px;border-bottom:1px solid var(--line);font-size:13px}
nav a{margin-right:16px;color:var(--info);text-decoration:none}
main{padding:8px 32px 40px;max-width:1400px}
section{margin-top:24px}
h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 8px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.k{width:220px;color:var(--muted);white-space:nowrap}
code,pre{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:var(--soft);padding:1px 4px;border-radius:4px;word-break:break-all}
pre{background:var(--soft);padding:8px;overflow:auto;border:1px solid var(--line)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.error,.tile.error{color:var(--err);background:var(--errbg)}
.badge.warning,.tile.warning{color:var(--warn);background:var(--warnbg)}
.badge.info,.tile.info{color:var(--info);background:var(--infobg)}
.badge.pass,.tile.pass{color:var(--ok);background:var(--okbg)}
.badge.fail,.tile.fail{color:var(--err);background:var(--errbg)}
.badge.other,.tile.other{color:var(--warn);background:var(--warnbg)}
.verdict{font-size:16px;padding:4px 14px}
.tiles{display:flex;gap:12px;margin:12px 0}
.tile{border:1px solid var(--line);border-radius:8px;padding:8px 16px;min-width:110px}
.tile b{display:block;font-size:22px}
.finding{border:1px solid var(--line);border-left:4px solid var(--line);border-radius:6px;padding:8px 12px;margin:8px 0}
.finding.error{border-left-color:var(--err)}.finding.warning{border-left-color:var(--warn)}
.finding.info{border-left-color:var(--info)}
.finding .msg{font-weight:600}
.finding ul{margin:4px 0 4px 18px;padding:0}
.fix{color:var(--ok)}
.muted{color:var(--muted)}
details{margin:8px 0}
summary{cursor:pointer;font-weight:600}
footer{padding:16px 32px;color:var(--muted);border-top:1px solid var(--line);font-size:12px}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def page(title: str, sections: Sequence[Section], *, subtitle: str = "", status: str = "") -> str:
    """The whole document. STATUS is pass | fail | other (the banner's colour)."""
    nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>{s.body}</section>' for s in sections)
    badge = f' <span class="badge verdict {esc(status)}">{esc(status)}</span>' if status else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f'<body><header><h1>{esc(title)}{badge}</h1><div class="sub">{esc(subtitle)}</div></header>'
        f"<nav>{nav}</nav><main>{body}</main>"
        f"<footer>cgocheck {esc(__version__)}</footer></body></html>\n"
    )


def kv_table(rows: Sequence[tuple[str, str]]) -> str:
    return "<table>" + "".join(f'<tr><td class="k">{esc(k)}</td><td>{esc(v)}</td></tr>' for k, v in rows) + "</table>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table whose cells are already HTML."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def badge(severity: str) -> str:
    return f'<span class="badge {esc(severity)}">{esc(severity)}</span>'


def finding_card(f: Finding, *, suppressed: Suppressed | None = None) -> str:
    ev = "".join(f"<li><code>{esc(e)}</code></li>" for e in f.evidence)
    parts = [
        f'<div class="finding {esc(f.severity)}" data-rule="{esc(f.rule)}">',
        f'{badge(f.severity)} <a href="#rule-{esc(f.rule)}"><b>{esc(f.rule)}</b></a> '
        f'<span class="muted">{esc(f.name)}</span>',
        f'<div class="msg">{esc(f.message)}</div>',
    ]
    if f.file:
        parts.append(f'<div class="muted">file: <code>{esc(f.file)}</code></div>')
    if ev:
        parts.append(f"<div>evidence:<ul>{ev}</ul></div>")
    parts.append(f'<div class="fix">fix: {esc(f.fix)}</div>')
    if suppressed is not None:
        until = f", until {suppressed.expires.isoformat()}" if suppressed.expires else ""
        parts.append(f'<div class="muted">suppressed: {esc(suppressed.reason)} ({esc(suppressed.source)}{until})</div>')
    parts.append("</div>")
    return "".join(parts)


def _file_row(i: int, fr: FileReport, ctx: RenderContext) -> list[str]:
    c = counts(fr.findings)
    top, _ = fr.facts.max_glibc()
    worst = max((SEVERITY_RANK.get(f.severity, 0) for f in fr.findings), default=-1)
    state = "fail" if worst >= SEVERITY_RANK[ctx.fail_on] else "pass"
    return [
        f'<a href="#file-{i}"><code>{esc(display_path(fr.facts.path))}</code></a>',
        esc(fr.facts.header.machine),
        esc("static" if fr.facts.static else (fr.facts.interpreter or "dynamic")),
        esc(top or "-"),
        str(c["error"]),
        str(c["warning"]),
        str(c["info"]),
        f'<span class="badge {state}">{state}</span>',
    ]


def overview_section(report: Report, ctx: RenderContext) -> Section:
    c = counts(report.findings)
    tiles = "".join(f'<div class="tile {s}"><b>{c[s]}</b>{s}</div>' for s in ("error", "warning", "info"))
    tiles += f'<div class="tile"><b>{len(ctx.suppressed)}</b>suppressed</div>'
    tiles += f'<div class="tile"><b>{len(report.files)}</b>file(s)</div>'
    if report.errors:
        tiles += f'<div class="tile fail"><b>{len(report.errors)}</b>unreadable</div>'
    meta = [("command", report.command), ("target", report.target or "- (no --target: only run paths checked)"),
            ("sysroot", report.sysroot or "-"), ("fails on", f"{ctx.fail_on} and above"),
            ("exit code", f"{ctx.exit_code} ({verdict(ctx.exit_code)})")]
    meta += [(k, "-" if v is None else v if isinstance(v, str) else json.dumps(v))
             for k, v in sorted(report.options.items())]
    files = table(["file", "machine", "loader", "highest glibc", "errors", "warnings", "info", "verdict"],
                  [_file_row(i, fr, ctx) for i, fr in enumerate(report.files, 1)]) if report.files else ""
    return Section("overview", "Overview", f'<div class="tiles">{tiles}</div>{kv_table(meta)}{files}')


def findings_section(report: Report, ctx: RenderContext) -> Section:
    parts = []
    built = report.build_findings
    if built or report.build is not None:
        cards = "".join(finding_card(f) for f in _by_severity(built)) or '<p class="muted">No findings.</p>'
        parts.append(f"<h3>{esc(BUILD_LABEL)}</h3>{cards}")
    for fr in report.files:
        cards = "".join(finding_card(f) for f in _by_severity(fr.findings)) or '<p class="muted">No findings.</p>'
        parts.append(f"<h3><code>{esc(display_path(fr.facts.path))}</code></h3>{cards}")
    if not report.files:
        parts.append('<p class="muted">No file was inspected.</p>')
    return Section("findings", "Findings", "".join(parts))


def _by_severity(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), f.rule))


def suppressed_section(ctx: RenderContext) -> Section:
    cards = "".join(f"<h3><code>{esc(display_path(s.file) if s.file else BUILD_LABEL)}</code></h3>"
                    + finding_card(s.finding, suppressed=s) for s in ctx.suppressed)
    return Section("suppressed", f"Suppressed ({len(ctx.suppressed)})", cards)


def facts_section(report: Report, ctx: RenderContext) -> Section:
    from cgocheck.report.table import facts_rows, resolution_rows

    parts = []
    brows = build_rows(report, verbose=ctx.verbose)
    if brows is not None:
        parts.append(f'<details open id="build"><summary>{esc(BUILD_LABEL)}</summary>{kv_table(brows)}</details>')
    for i, fr in enumerate(report.files, 1):
        rows = facts_rows(fr.facts, verbose=ctx.verbose)
        if fr.resolution is not None:
            rows += resolution_rows(fr.resolution, verbose=ctx.verbose)
        parts.append(f'<details open id="file-{i}"><summary><code>'
                     f"{esc(display_path(fr.facts.path))}</code></summary>{kv_table(rows)}</details>")
    return Section("facts", "Facts", "".join(parts))


def runs_section(report: Report, ctx: RenderContext) -> Section:
    """Each file run under the target's loader: how, how it ended, what the loader said; Go tests."""
    from cgocheck.report.runs import run_rows, verdict

    parts = []
    for i, run in enumerate(report.runs, 1):
        body = kv_table(run_rows(run, verbose=ctx.verbose))
        if run.test_package is not None:
            state = {"pass": "pass", "fail": "fail", "skip": "other"}
            body += table(["status", "test", "seconds", "output"], [
                [f'<span class="badge {state.get(t.status, "other")}">{esc(t.status)}</span>',
                 f"<code>{esc(t.name)}</code>", f"{t.seconds:.2f}",
                 f"<pre>{esc(t.output)}</pre>" if t.output and t.status != "pass" else ""]
                for t in run.tests])
        parts.append(f'<details open id="run-{i}"><summary><code>{esc(display_path(run.file))}</code>: '
                     f"{esc(verdict(run))}</summary>{body}</details>")
    return Section("runs", "Runs (the target's loader)", "".join(parts))


def rules_section(found: Sequence[Finding]) -> Section:
    table_ = rules()
    ids = sorted({f.rule for f in found})
    rows = []
    for rid in ids:
        r = table_.get(rid)
        if r is None:
            continue
        rows.append(f'<tr id="rule-{esc(rid)}"><td><a href="{esc(rule_url(rid))}">{esc(rid)}</a></td>'
                    f"<td><code>{esc(r.name)}</code></td><td>{badge(r.severity)}</td><td>{esc(r.summary)}</td>"
                    f'<td class="fix">{esc(r.fix)}</td></tr>')
    body = ("<table><thead><tr><th>id</th><th>name</th><th>default</th><th>what it means</th><th>fix</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")
    return Section("rules", "Rules", body)


def report_sections(report: Report, ctx: RenderContext) -> list[Section]:
    sections = [overview_section(report, ctx), findings_section(report, ctx)]
    if ctx.suppressed:
        sections.append(suppressed_section(ctx))
    if report.files or report.build is not None:
        sections.append(facts_section(report, ctx))
    if report.runs:
        sections.append(runs_section(report, ctx))
    if report.notes:
        sections.append(Section("notes", "Notes", "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in report.notes)
                                + "</ul>"))
    if report.errors:
        items = "".join(f"<li><code>{esc(e.path)}</code>: {esc(e.message)}</li>" for e in report.errors)
        sections.append(Section("errors", "Unreadable files", f"<ul>{items}</ul>"))
    found = [*report.findings, *(s.finding for s in ctx.suppressed)]
    if found:
        sections.append(rules_section(found))
    return sections


def status_class(exit_code: int) -> str:
    """The page's and a badge's CSS class for an exit code: pass, fail, or other."""
    return {0: "pass", 1: "fail"}.get(exit_code, "other")


def render_report(report: Report, ctx: RenderContext) -> str:
    title = f"cgocheck {report.command}" + (f" for {report.target}" if report.target else "")
    c = counts(report.findings)
    sub = f"{len(report.files)} file(s): {c['error']} error(s), {c['warning']} warning(s), {c['info']} info"
    return page(title, report_sections(report, ctx), subtitle=sub, status=status_class(ctx.exit_code))


def diff_sections(diff: Diff) -> list[Section]:
    from cgocheck.results.diff import CHANGE_KINDS

    meta = kv_table([("base", diff.base_label + (f" ({diff.base_target})" if diff.base_target else "")),
                     ("head", diff.head_label + (f" ({diff.head_target})" if diff.head_target else "")),
                     ("fails on", f"new findings at {diff.fail_on} and above" + (" (strict)" if diff.strict else "")),
                     ("result", diff.summary())])
    pairs = table(["name", "base", "head"], [[f"<code>{esc(p.name)}</code>", esc(p.base or "-"), esc(p.head or "-")]
                                             for p in diff.pairs])

    several = len(diff.pairs) > 1

    def what(c: Any) -> str:
        if c.change in ("added", "removed"):
            return f"<code>{esc(c.subject)}</code>"
        return f"{esc(c.subject)}: <code>{esc(c.before or '-')}</code> → <code>{esc(c.after or '-')}</code>"

    def rows(changes: Sequence[Any]) -> str:
        headers = ["", "kind", *(["file"] if several else []), "change", "what", "detail"]
        return table(headers, [[
            '<span class="badge fail">regression</span>' if c.regression else "",
            esc(CHANGE_KINDS[c.kind]), *([f"<code>{esc(c.file)}</code>"] if several else []), esc(c.change),
            what(c), esc(c.detail),
        ] for c in changes])

    sections = [Section("overview", "Overview", meta + pairs)]
    reg = diff.regressions
    sections.append(Section("regressions", f"Regressions ({len(reg)})",
                            rows(reg) if reg else '<p class="muted">None.</p>'))
    other = [c for c in diff.changes if not c.regression]
    if other:
        sections.append(Section("changes", f"Other changes ({len(other)})", rows(other)))
    if diff.suppressed:
        sections.append(Section("suppressed", f"Suppressed ({len(diff.suppressed)})",
                                "".join(finding_card(s.finding, suppressed=s) for s in diff.suppressed)))
    return sections


def render_diff(diff: Diff, ctx: RenderContext) -> str:

    return page(f"cgocheck diff: {diff.head_label} against {diff.base_label}", diff_sections(diff),
                subtitle=diff.summary(), status=status_class(ctx.exit_code))
