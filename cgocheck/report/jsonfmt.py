"""JSON rendering (schema: cgocheck/data/report.schema.json)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from cgocheck.core.glibc import cxx_versions
from cgocheck.elf.model import ElfFacts
from cgocheck.report import jsontext
from cgocheck.results import SCHEMA_VERSION, Report, tool_info

if TYPE_CHECKING:
    from cgocheck.report.formats import RenderContext
    from cgocheck.results.diff import Diff


def plain(obj: Any) -> Any:
    """Dataclasses, tuples and dicts to JSON-ready values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    return obj


def facts_to_json(facts: ElfFacts) -> dict[str, Any]:
    data: dict[str, Any] = plain(facts)
    top, forcing = facts.max_glibc()
    data["max_glibc"] = {"version": top, "symbols": list(forcing)}
    data["max_versions"] = {
        f: {"version": v, "symbols": list(syms)} for f, (v, syms) in cxx_versions(facts.undefined).items()
    }
    return data


def report_to_json(report: Report, exit_code: int) -> dict[str, Any]:
    files = []
    for fr in report.files:
        entry: dict[str, Any] = {
            "path": fr.facts.path,
            "facts": facts_to_json(fr.facts),
            "findings": plain(fr.findings),
        }
        if fr.resolution is not None:
            entry["resolution"] = plain(fr.resolution)
        files.append(entry)
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": tool_info(),
        "command": report.command,
        "target": report.target,
        "sysroot": report.sysroot,
        "options": plain(report.options),
        "files": files,
        "errors": plain(report.errors),
        "summary": {
            "files": len(report.files),
            "errors": len(report.errors),
            "findings": report.counts(),
            "exit_code": exit_code,
        },
    }
    if report.build is not None:
        build = plain(report.build)
        build["env"] = dict(report.build.env)
        build["extra_env"] = dict(report.build.extra_env)
        for m, pm in zip(build["pkgconfig"], report.build.pkgconfig, strict=True):
            m["drift"] = pm.drift
            m["env"] = dict(pm.env)
        build["modules"] = report.build.modules.as_json()
        out["build"] = build
        out["build_findings"] = plain(report.build_findings)
    if report.runs:
        out["runs"] = plain(report.runs)
    if report.notes:
        out["notes"] = list(report.notes)
    return out


def render(report: Report, exit_code: int) -> str:
    return jsontext.dumps(report_to_json(report, exit_code)) + "\n"


def diff_to_json(diff: Diff, exit_code: int) -> dict[str, Any]:
    from cgocheck.results.diff import DIFF_SCHEMA_VERSION

    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "kind": "cgocheck-diff",
        "tool": tool_info(),
        "base": {"label": diff.base_label, "target": diff.base_target},
        "head": {"label": diff.head_label, "target": diff.head_target},
        "fail_on": diff.fail_on,
        "strict": diff.strict,
        "pairs": [{"name": p.name, "base": p.base, "head": p.head} for p in diff.pairs],
        "changes": [
            {
                "kind": c.kind,
                "file": c.file,
                "change": c.change,
                "subject": c.subject,
                "before": c.before,
                "after": c.after,
                "regression": c.regression,
                "detail": c.detail,
                "rule": c.rule,
                "severity": c.severity,
                "evidence": list(c.evidence),
                "path": c.path,
            }
            for c in diff.changes
        ],
        "suppressed": [s.to_json() for s in diff.suppressed],
        "summary": {
            "regressions": len(diff.regressions),
            "changes": len(diff.changes),
            "text": diff.summary(),
            "exit_code": exit_code,
        },
    }


def render_diff(diff: Diff, ctx: RenderContext) -> str:
    return jsontext.dumps(diff_to_json(diff, ctx.exit_code)) + "\n"
