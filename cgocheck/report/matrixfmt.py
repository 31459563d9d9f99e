"""Matrix reports in every format: the cells (each a cached verify JSON report), the
overview, per-cell findings with evidence and the cross-version table.

The cells are JSON (they come from the result cache or from `report merge`), so these
renderers read findings from the JSON and reuse the HTML page, cards and SARIF rule
descriptors of the single-report renderers.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from tabulate import tabulate

from cgocheck import __version__
from cgocheck.core.rules import SEVERITIES, SEVERITY_RANK, Finding
from cgocheck.policy import fails, verdict
from cgocheck.report import jsontext
from cgocheck.results import tool_info
from cgocheck.results.matrix import MATRIX_SCHEMA_VERSION, CellResult, VersionTable, cross_version_tables

FORMATS = ("table", "json", "junit", "sarif", "markdown", "html")
def _counts(r: CellResult) -> dict[str, int]:
    c = dict.fromkeys(SEVERITIES, 0)
    for f in r.findings:
        c[f.severity] += 1
    return c


def matrix_json(results: Sequence[CellResult], exit_code: int) -> dict[str, Any]:
    return {
        "schema_version": MATRIX_SCHEMA_VERSION,
        "tool": tool_info(),
        "command": "matrix",
        "cells": [r.to_json() for r in results],
        "cross_version": [
            {"group": t.group, "rows": [asdict(row) for row in t.rows]} for t in cross_version_tables(results)
        ],
        "summary": {
            "cells": len(results),
            "exit_code": exit_code,
            "by_exit_code": {
                str(c): sum(1 for r in results if r.exit_code == c) for c in sorted({r.exit_code for r in results})
            },
            "cached": sum(1 for r in results if r.cached),
        },
    }


def matrix_table(results: Sequence[CellResult]) -> str:
    rows = []
    for r in results:
        counts = {s: 0 for s in SEVERITIES}
        for f in r.findings:
            counts[f.severity] += 1
        rules = ", ".join(sorted({f.rule for f in r.findings if f.severity != "info"}))
        rows.append(
            [
                r.cell.id,
                r.exit_code,
                counts["error"],
                counts["warning"],
                counts["info"],
                r.error or rules or "-",
                "cached" if r.cached else f"{r.seconds:.1f}s",
            ]
        )
    out = [tabulate(rows, headers=["cell", "exit", "errors", "warnings", "info", "rules / error", "time"])]
    for t in cross_version_tables(results):
        out.append(f"\nGo versions for {t.group}:")
        vrows = [
            [
                row.go_version,
                row.max_glibc or "-",
                len(row.libc_symbols),
                ", ".join(row.libraries),
                ("+" + " +".join(row.added)) if row.added else "",
                ("-" + " -".join(row.removed)) if row.removed else "",
                ", ".join(row.findings) or "-",
            ]
            for row in t.rows
        ]
        out.append(
            tabulate(vrows, headers=["go", "max glibc", "libc symbols", "libraries", "added", "removed", "findings"])
        )
    return "\n".join(out) + "\n"


# --- JUnit: a suite per cell, a case per rule checked -----------------------------------


def render_junit(results: Sequence[CellResult], fail_on: str) -> str:
    root = ET.Element("testsuites", name="cgocheck matrix")
    total = failures = errors = 0
    for r in results:
        suite = ET.SubElement(root, "testsuite", name=r.cell.id)
        cases = failed = errored = 0
        build = ET.SubElement(suite, "testcase", classname=r.cell.id, name="verify")
        cases += 1
        if r.error is not None or r.exit_code not in (0, 1):
            ET.SubElement(
                build,
                "error",
                message=r.error or verdict(r.exit_code),
                type=f"exit {r.exit_code}",
            )
            errored += 1
        by_rule: dict[str, list[Finding]] = {}
        for f in r.findings:
            by_rule.setdefault(f.rule, []).append(f)
        for rule, fs in sorted(by_rule.items()):
            case = ET.SubElement(suite, "testcase", classname=r.cell.id, name=f"{rule} {fs[0].name}")
            cases += 1
            text = "\n".join(
                f"{f.severity}: {f.message}\n  evidence: {'; '.join(f.evidence)}\n  fix: {f.fix}" for f in fs
            )
            if any(fails(f, fail_on) for f in fs):
                ET.SubElement(case, "failure", message=fs[0].message, type=rule).text = text
                failed += 1
            else:
                ET.SubElement(case, "system-out").text = text
        suite.set("tests", str(cases))
        suite.set("failures", str(failed))
        suite.set("errors", str(errored))
        suite.set("time", f"{r.seconds:.3f}")
        total, failures, errors = total + cases, failures + failed, errors + errored
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- SARIF: one run, results tagged with their cell -------------------------------------


def render_sarif(results: Sequence[CellResult], exit_code: int) -> str:
    from cgocheck.report.sarif import LEVEL, SARIF_SCHEMA_URI, _driver, with_home_base

    driver, index = _driver()
    out: list[dict[str, Any]] = []
    for r in results:
        binary = r.cell.package
        if r.report and r.report.get("files"):
            binary = r.report["files"][0]["path"]
        for f in r.findings:
            res: dict[str, Any] = {
                "ruleId": f.rule,
                "level": LEVEL[f.severity],
                "message": {"text": f"[{r.cell.id}] {f.message}"},
                "locations": [
                    {"physicalLocation": {"artifactLocation": _artifact(binary), "region": {"startLine": 1}}}
                ],
                "properties": {"cell": r.cell.id, "evidence": list(f.evidence), "fix": f.fix},
            }
            if f.rule in index:
                res["ruleIndex"] = index[f.rule]
            out.append(res)
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": exit_code in (0, 1), "exitCode": exit_code}],
        "results": out,
        "automationDetails": {"id": "cgocheck/matrix/"},
        "properties": {"cells": [r.cell.id for r in results]},
    }
    return jsontext.dumps({"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [with_home_base(run)]}) + "\n"


def _artifact(path: str) -> dict[str, Any]:
    from pathlib import PurePosixPath
    from urllib.parse import quote

    from cgocheck.core import redact

    if path.startswith("/"):
        return redact.sarif_location(path) or {"uri": PurePosixPath(path).as_uri()}
    return {"uri": quote(path, safe="/.-_~")}


# --- Markdown --------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: Sequence[CellResult], exit_code: int) -> str:
    failing = sum(1 for r in results if r.exit_code != 0)
    lines = [
        f"## cgocheck matrix: {verdict(exit_code)}",
        "",
        f"{len(results)} cell(s), {failing} not passing, {sum(1 for r in results if r.cached)} from the cache.",
        "",
        "| cell | verdict | errors | warnings | info | rules |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        c = _counts(r)
        rules = ", ".join(sorted({f.rule for f in r.findings})) or (r.error or "-")
        lines.append(
            f"| `{r.cell.id}` | {verdict(r.exit_code)} | {c['error']} | {c['warning']} | "
            f"{c['info']} | {_md(rules)} |"
        )
    for t in cross_version_tables(results):
        lines += [
            "",
            f"### Go versions: {_md(t.group)}",
            "",
            "| go | max glibc | libc symbols | libraries | added | removed | findings |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in t.rows:
            lines.append(
                f"| {row.go_version} | {row.max_glibc or '-'} | {len(row.libc_symbols)} | "
                f"{_md(', '.join(row.libraries))} | {_md(' '.join(row.added)) or '-'} | "
                f"{_md(' '.join(row.removed)) or '-'} | {', '.join(row.findings) or '-'} |"
            )
    for r in results:
        fs = r.findings
        if not fs:
            continue
        lines += ["", f"<details><summary>{r.cell.id}: {len(fs)} finding(s)</summary>", ""]
        lines += [
            f"- **{f.severity} {f.rule}** {_md(f.message)} (evidence: {_md('; '.join(f.evidence))}; fix: {_md(f.fix)})"
            for f in fs
        ]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


# --- HTML ------------------------------------------------------------------------------


def _version_table_html(t: VersionTable) -> str:
    from cgocheck.report import html as H

    rows = []
    prev_glibc: str | None = None
    for row in t.rows:
        raised = prev_glibc is not None and row.max_glibc != prev_glibc
        glibc = f"<b>{H.esc(row.max_glibc or '-')}</b>" if raised else H.esc(row.max_glibc or "-")
        added = " ".join(f'<code class="added">+{H.esc(s)}</code>' for s in row.added)
        removed = " ".join(f'<code class="removed">-{H.esc(s)}</code>' for s in row.removed)
        rows.append(
            [
                H.esc(row.go_version),
                glibc,
                str(len(row.libc_symbols)),
                H.esc(", ".join(row.libraries)),
                added or '<span class="muted">-</span>',
                removed or '<span class="muted">-</span>',
                H.esc(", ".join(row.findings) or "-"),
            ]
        )
        prev_glibc = row.max_glibc
    return f"<h3>{H.esc(t.group)}</h3>" + H.table(
        ["go", "max glibc", "libc symbols", "libraries", "added", "removed", "findings"], rows
    )


def render_html(results: Sequence[CellResult], exit_code: int, fail_on: str) -> str:
    from cgocheck.report import html as H

    state = H.status_class(exit_code)
    overview_rows = []
    for r in results:
        c = _counts(r)
        status = H.status_class(r.exit_code)
        overview_rows.append(
            [
                f'<a href="#cell-{H.esc(r.cell.id)}">{H.esc(r.cell.id)}</a>',
                f'<span class="badge {status}">{H.esc(verdict(r.exit_code))}</span>',
                str(c["error"]),
                str(c["warning"]),
                str(c["info"]),
                H.esc(r.error or ", ".join(sorted({f.rule for f in r.findings})) or "-"),
                "cached" if r.cached else f"{r.seconds:.1f}s",
            ]
        )
    tiles = "".join(
        f'<div class="tile {k}"><b>{n}</b>{H.esc(label)}</div>'
        for k, n, label in (
            ("pass", sum(1 for r in results if r.exit_code == 0), "cells pass"),
            ("fail", sum(1 for r in results if r.exit_code == 1), "cells fail"),
            ("other", sum(1 for r in results if r.exit_code not in (0, 1)), "cells could not run"),
        )
    )
    sections = [
        H.Section(
            "overview",
            "Matrix overview",
            tiles + H.table(["cell", "verdict", "errors", "warnings", "info", "rules / error", "time"], overview_rows),
        )
    ]
    tables = cross_version_tables(results)
    if tables:
        sections.append(
            H.Section(
                "go-versions",
                "Across Go versions",
                '<p class="muted">libc symbols each Go version needs, and what it adds or drops '
                "compared with the previous one.</p>" + "".join(_version_table_html(t) for t in tables),
            )
        )
    cells_html = []
    for r in results:
        fs = sorted(r.findings, key=lambda f: -SEVERITY_RANK[f.severity])
        body = "".join(H.finding_card(f) for f in fs) or '<p class="muted">no findings</p>'
        if r.error:
            body = f'<p class="badge other">{H.esc(r.error)}</p>' + body
        cells_html.append(f'<div id="cell-{H.esc(r.cell.id)}"><h3>{H.esc(r.cell.id)}</h3>{body}</div>')
    sections.append(H.Section("cells", "Findings per cell", "".join(cells_html)))
    return H.page(
        "cgocheck matrix",
        sections,
        subtitle=f"{len(results)} cells, failing at {fail_on}, cgocheck {__version__}",
        status=state,
    )


def render(fmt: str, results: Sequence[CellResult], exit_code: int, fail_on: str) -> str:
    if fmt == "json":
        return jsontext.dumps(matrix_json(results, exit_code)) + "\n"
    if fmt == "table":
        return matrix_table(results)
    if fmt == "junit":
        return render_junit(results, fail_on)
    if fmt == "sarif":
        return render_sarif(results, exit_code)
    if fmt == "markdown":
        return render_markdown(results, exit_code)
    if fmt == "html":
        return render_html(results, exit_code, fail_on)
    raise ValueError(fmt)
