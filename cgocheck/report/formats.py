"""The output formats every reporting command offers: a registry, name -> renderer.

A command builds a ``Report`` (or ``cgocheck diff`` a ``Diff``), picks the exit code, then
calls ``render(name, obj, ctx)``. ``RenderContext`` carries what a renderer needs beyond
the report: the exit code, the failing severity, verbosity and the findings that the
configuration's suppressions or baseline took out (shown, never dropped silently).

Formats: table (people), json (the versioned schema), junit (CI test reports), sarif
(SARIF 2.1.0, code scanning), markdown (a CI job summary), html (one self-contained file);
and for inspect, resolve and verify, cyclonedx (an SBOM of the binaries, see BINARY_ONLY).
Renderers are imported when first used, so a command pays only for the format it prints.
"""

from __future__ import annotations

import functools
import importlib
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cgocheck.core.errors import BadInput
from cgocheck.core.rules import FAMILY_TITLES, Finding, rules
from cgocheck.results import FileReport, Report

if TYPE_CHECKING:
    from cgocheck.results import Suppressed
    from cgocheck.results.diff import Diff


@dataclass(frozen=True)
class RenderContext:
    exit_code: int
    fail_on: str = "error"
    verbose: bool = False
    suppressed: tuple[Suppressed, ...] = ()


ReportRenderer = Callable[[Report, RenderContext], str]
DiffRenderer = Callable[["Diff", RenderContext], str]


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str  # file name suffix, for docs and default output names
    help: str
    render_report: ReportRenderer
    render_diff: DiffRenderer


_REGISTRY: dict[str, Format] = {}


def register(fmt: Format) -> None:
    _REGISTRY[fmt.name] = fmt


def _lazy(module: str, func: str) -> Callable[..., str]:
    def call(obj: Any, ctx: RenderContext) -> str:
        out: str = getattr(importlib.import_module(module), func)(obj, ctx)
        return out

    call.__name__ = f"{module}.{func}"
    return call


def _table(report: Report, ctx: RenderContext) -> str:
    from cgocheck.report import table

    text = table.render(report, verbose=ctx.verbose)
    if ctx.suppressed:
        from tabulate import tabulate

        rows = [(s.finding.rule, short_path(s.finding.file or s.file), s.finding.message, s.reason)
                for s in ctx.suppressed]
        text += f"\n{len(ctx.suppressed)} finding(s) suppressed:\n"
        text += tabulate(rows, headers=["rule", "file", "message", "reason"], tablefmt="simple") + "\n"
    return text


def _json(report: Report, ctx: RenderContext) -> str:
    from cgocheck.report import jsonfmt, jsontext

    data = jsonfmt.report_to_json(report, ctx.exit_code)
    data["suppressed"] = [s.to_json() for s in ctx.suppressed]
    return jsontext.dumps(data) + "\n"


for _f in (
    Format("table", ".txt", "aligned text for people", _table, _lazy("cgocheck.report.table", "render_diff")),
    Format("json", ".json", "the versioned JSON report (cgocheck/data/report.schema.json)", _json,
           _lazy("cgocheck.report.jsonfmt", "render_diff")),
    Format("junit", ".xml", "JUnit XML: a test suite per file, a test case per rule checked",
           _lazy("cgocheck.report.junit", "render_report"), _lazy("cgocheck.report.junit", "render_diff")),
    Format("sarif", ".sarif", "SARIF 2.1.0 for code scanning",
           _lazy("cgocheck.report.sarif", "render_report"), _lazy("cgocheck.report.sarif", "render_diff")),
    Format("markdown", ".md", "Markdown for a CI job summary ($GITHUB_STEP_SUMMARY)",
           _lazy("cgocheck.report.markdown", "render_report"), _lazy("cgocheck.report.markdown", "render_diff")),
    Format("html", ".html", "one self-contained HTML page",
           _lazy("cgocheck.report.html", "render_report"), _lazy("cgocheck.report.html", "render_diff")),
    Format("cyclonedx", ".cdx.json", "CycloneDX 1.6 JSON SBOM: the binaries, their Go modules and the Debian "
           "packages of the libraries they load (inspect, resolve, verify)",
           _lazy("cgocheck.report.cyclonedx", "render_report"), _lazy("cgocheck.report.cyclonedx", "render_diff")),
):
    register(_f)

# formats that describe binaries, not findings: only the commands that read binaries offer them
BINARY_ONLY = ("cyclonedx",)


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get(name: str) -> Format:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise BadInput(f"unknown format {name!r} (one of {', '.join(_REGISTRY)})") from None


def render(name: str, report: Report, ctx: RenderContext) -> str:
    return get(name).render_report(report, ctx)


def render_diff(name: str, diff: Diff, ctx: RenderContext) -> str:
    return get(name).render_diff(diff, ctx)


def parse_output(spec: str) -> tuple[str, str]:
    """'sarif=out.sarif' or 'sarif:out.sarif' -> ('sarif', 'out.sarif'); the format is checked."""
    for sep in ("=", ":"):
        name, found, path = spec.partition(sep)
        if found and name in _REGISTRY and path:
            return name, path
    raise BadInput(f"--report {spec!r}: expected FORMAT=PATH with FORMAT one of {', '.join(_REGISTRY)}")


# --- helpers the renderers share ---------------------------------------------------------

DOCS_FALLBACK = "https://cgocheck.invalid/docs/rules.md"


@functools.cache
def docs_url() -> str:
    """Where docs/rules.md is published: CGOCHECK_DOCS_URL, else the package's project URLs."""
    env = os.environ.get("CGOCHECK_DOCS_URL", "").strip()
    if env:
        return env
    from importlib import metadata  # ~15 ms: only the formats that link to the docs ask

    try:
        urls = metadata.metadata("cgocheck").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    table: dict[str, str] = {}
    for entry in urls:
        label, _, link = str(entry).partition(",")
        table[label.strip().lower()] = link.strip().rstrip("/")
    if "rules" in table:
        return table["rules"]
    for label in ("repository", "source", "homepage"):
        url = table.get(label, "")
        if url.startswith("https://github.com/"):
            return f"{url}/blob/main/docs/rules.md"
    return DOCS_FALLBACK


def rule_url(rule_id: str) -> str:
    return f"{docs_url()}#{rule_id}"


def counts(findings: list[Finding] | tuple[Finding, ...]) -> dict[str, int]:
    c = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        c[f.severity] = c.get(f.severity, 0) + 1
    return c




def checked_families(report: Report, fr: FileReport) -> tuple[str, ...]:
    """The rule families whose checks ran on this file.

    Run paths are always checked; ABI and Go settings with a target; libraries and symbols
    when the file was resolved in a sysroot; the dynamic rules when it was run. Families with a
    finding count as checked too.
    (Build, compiler, host and pkg-config rules are checked on the build: build_rules.)
    """
    fams = {"R"}
    if report.target:
        fams |= {"A", "G"}
    if fr.resolution is not None:
        fams |= {"L", "S"}
    if report.run_of(fr.facts.path) is not None:
        fams.add("D")
    fams |= {f.rule[:1] for f in fr.findings}
    return _ordered(fams)


def _ordered(fams: set[str]) -> tuple[str, ...]:
    return tuple(sorted(fams, key=lambda x: list(FAMILY_TITLES).index(x) if x in FAMILY_TITLES else 99))


def _rules_of(fams: set[str], findings: list[Finding] | tuple[Finding, ...]) -> list[str]:
    ids = [r for r in sorted(rules()) if r[:1] in fams]
    for f in findings:
        if f.rule not in ids:
            ids.append(f.rule)
    return ids


def checked_rules(report: Report, fr: FileReport) -> list[str]:
    return _rules_of(set(checked_families(report, fr)), fr.findings)


def build_rules(report: Report) -> list[str]:
    """The rules checked on the build itself (verify): build, compiler, host paths, pkg-config."""
    found = report.build_findings
    if report.build is None and not found:
        return []
    return _rules_of({"B", "C", "H", "P"} | {f.rule[:1] for f in found}, found)


BUILD_LABEL = "(build)"  # where findings about the build itself (no single file) are shown


def build_rows(report: Report, *, verbose: bool = False) -> list[tuple[str, str]] | None:
    """The verify build as key/value rows, or None when the report has no build."""
    if report.build is None:
        return None
    from cgocheck.report.table import build_rows as rows_of

    return [(str(k), str(v)) for k, v in rows_of(report.build, verbose=verbose)]


def short_path(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) or path


def display_path(path: str) -> str:
    """A path as people read it: relative to the current folder when it is inside it."""
    try:
        rel = Path(path).resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return path
    return str(rel) if Path(path).is_absolute() else path


def suppressed_by_file(ctx: RenderContext) -> dict[str, list[Suppressed]]:
    out: dict[str, list[Suppressed]] = {}
    for s in ctx.suppressed:
        out.setdefault(s.file, []).append(s)
    return out
