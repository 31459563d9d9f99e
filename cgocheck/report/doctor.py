"""`cgocheck doctor`'s own table and JSON (its findings, `go env` compared, the shell's build
against the hermetic one); the other formats show it as a report of the build."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from tabulate import tabulate

from cgocheck.report import formats
from cgocheck.report.jsonfmt import plain
from cgocheck.report.table import findings_table
from cgocheck.results import Report

if TYPE_CHECKING:
    from cgocheck.report.formats import RenderContext


def render(name: str, report: Report, ctx: RenderContext) -> str:
    env = report.environment
    diffs = env.diffs if env else []
    if name == "json":
        data = {
            "command": "doctor",
            "findings": plain(report.build_findings),
            "go_env": {"shell": env.go_env_shell if env else {}, "hermetic": env.go_env_hermetic if env else {}},
            "build_diff": [{"fact": k, "shell": a, "hermetic": b} for k, a, b in diffs],
            "shell_build_ok": env.shell_build_ok if env else None,
            "notes": report.notes,
            "suppressed": [s.to_json() for s in ctx.suppressed],
            "exit_code": ctx.exit_code,
        }
        return json.dumps(data, indent=2) + "\n"
    if name != "table":  # junit, sarif, markdown, html: the findings as a report of the build
        notes = [*(f"{k}: shell build {a} | hermetic build {b}" for k, a, b in diffs), *report.notes]
        return formats.render(name, dataclasses.replace(report, notes=notes), ctx)
    parts = []
    if report.build_findings:
        parts.append(findings_table(report.build_findings))
    else:
        parts.append("nothing in this shell would change a cgo cross build")
    if diffs:
        parts.append("")
        parts.append(tabulate(diffs, headers=["fact", "shell build", "hermetic build"], tablefmt="simple"))
    if env is not None and env.shell_build_ok is False:
        parts.append("\nthe shell's build failed:\n" + env.shell_build_log.strip()[-1500:])
    for n in report.notes:
        parts.append(f"note: {n}")
    if ctx.suppressed:
        parts.append(f"{len(ctx.suppressed)} finding(s) suppressed: "
                     + ", ".join(f"{s.finding.rule} ({s.reason})" for s in ctx.suppressed))
    return "\n".join(parts) + "\n"
