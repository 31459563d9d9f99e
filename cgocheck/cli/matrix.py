"""`cgocheck matrix` and `cgocheck report merge`."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from cgocheck import __version__
from cgocheck.cli import main
from cgocheck.commands.matrix import (
    Cell,
    CellResult,
    MatrixInterrupted,
    MatrixOptions,
    apply_config_policy,
    cells_from_config,
    cross_version_tables,
    overall_exit,
    run_cell,
    run_matrix,
)
from cgocheck.core import redact
from cgocheck.core.errors import EXIT_BAD_INPUT, BadInput
from cgocheck.core.rules import SEVERITIES
from cgocheck.settings import Config, load_config

MATRIX_SCHEMA_VERSION = "1.0"
REPORT_FORMATS = ("table", "json", "junit", "sarif", "markdown", "html")


class Progress:
    """A live status line on a terminal; one plain line per event in CI logs."""

    def __init__(self, total: int, *, live: bool) -> None:
        self.total = total
        self.live = live
        self.done = 0
        self.running: dict[str, float] = {}
        self.t0 = time.monotonic()

    def __call__(self, event: str, cell: Cell, result: CellResult | None) -> None:
        now = time.monotonic()
        if event == "start":
            self.running[cell.id] = now
            if not self.live:
                click.echo(f"[{self.done}/{self.total}] start {cell.id}", err=True)
        elif event == "done" and result is not None:
            self.done += 1
            self.running.pop(cell.id, None)
            how = "cached" if result.cached else f"{result.seconds:.1f}s"
            what = result.error or f"{len(result.findings)} finding(s)"
            line = f"[{self.done}/{self.total}] {cell.id}: exit {result.exit_code} ({how}) {what}"
            if self.live:
                click.echo("\r\033[K" + line, err=True)
            else:
                click.echo(line, err=True)
        if self.live and self.running:
            oldest = min(self.running.values())
            status = f"{len(self.running)} running, {now - self.t0:.0f}s elapsed, oldest {now - oldest:.0f}s"
            click.echo("\r\033[K" + status, err=True, nl=False)


def matrix_json(results: list[CellResult], exit_code: int) -> dict[str, Any]:
    return {
        "schema_version": MATRIX_SCHEMA_VERSION,
        "tool": {"name": "cgocheck", "version": __version__},
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


def matrix_table(results: list[CellResult]) -> str:
    rows = []
    for r in results:
        counts = {s: 0 for s in SEVERITIES}
        for f in r.findings:
            counts[f["severity"]] += 1
        rules = ", ".join(sorted({f["rule"] for f in r.findings if f["severity"] != "info"}))
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


def _config(
    config_file: str | None,
    go: tuple[str, ...],
    target: tuple[str, ...],
    cc: tuple[str, ...],
    package: tuple[str, ...],
    sysroot: tuple[str, ...],
    glibc_floor: str | None,
    fail_on: str | None,
    timeout: float | None = None,
) -> Config:
    cli: dict[str, Any] = {"config": config_file, "timeout": timeout}
    if go:
        cli["go"] = list(go)
    if target:
        cli["targets"] = list(target)
    if cc:
        cli["compilers"] = list(cc)
    if package:
        cli["packages"] = list(package)
    if sysroot:
        pairs = []
        for s in sysroot:
            t, sep, v = s.partition("=")
            pairs.append((t, v) if sep else ("*", s))
        cli["sysroots"] = {t: v for t, v in pairs}
    cli["glibc_floor"] = glibc_floor
    cli["fail_on"] = fail_on
    return load_config(cli=cli)


def _render(fmt: str, results: list[CellResult], code: int, fail_on: str) -> str:
    from cgocheck.report import matrixfmt

    if fmt == "json":
        return json.dumps(matrix_json(results, code), indent=2) + "\n"
    if fmt == "table":
        return matrix_table(results)
    return matrixfmt.render(fmt, results, code, fail_on)


def _emit(results: list[CellResult], cfg: Config, fmt: str, output: str | None, reports: tuple[str, ...] = ()) -> int:
    apply_config_policy(results, cfg)
    code = overall_exit(results)
    for spec in reports:  # --report FORMAT=PATH: more formats from the same run
        name, sep, path = spec.partition("=")
        if not sep or name not in REPORT_FORMATS:
            raise BadInput(f"--report takes FORMAT=PATH with FORMAT one of {', '.join(REPORT_FORMATS)}, got {spec!r}")
        redact.write_report(path, _render(name, results, code, cfg.fail_on))
    text = _render(fmt, results, code, cfg.fail_on)
    if output:
        redact.write_report(output, text)
    else:
        sys.stdout.write(text)
    return code


@main.command("matrix")
@click.option("--config", "config_file", type=click.Path(), help="cgocheck.toml (default: found from here upwards).")
@click.option("--go", multiple=True, help="Go version (repeat).")
@click.option("--target", "-t", multiple=True, help="Target (repeat).")
@click.option("--cc", multiple=True, help="Compiler preset (repeat).")
@click.option("--package", "-p", multiple=True, help="Package to build (repeat).")
@click.option("--sysroot", multiple=True, help="TARGET=SYSROOT, or SYSROOT for every target (repeat).")
@click.option("--glibc-floor")
@click.option("--fail-on", type=click.Choice(SEVERITIES))
@click.option("--jobs", "-j", type=int, help="Cells in parallel (default: the number of cores).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop a cell's build (with every process it started) after this long (config: timeout).")
@click.option("--rebuild", is_flag=True, help="Ignore cached results.")
@click.option("--list", "list_cells", is_flag=True, help="Print the cells and exit (for CI fan-out).")
@click.option("--cell", "cell_id", help="Run only this cell (an id from --list) and write its result.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*REPORT_FORMATS, "github"]),
    default="table",
    show_default=True,
    help="Report format (github: the --list cells as a GitHub Actions matrix).",
)
@click.option("--output", "-o", type=click.Path(), help="Write the report here instead of stdout.")
@click.option("--report", "reports", multiple=True, help="FORMAT=PATH: also write this format (repeatable).")
def matrix_cmd(
    config_file: str | None,
    go: tuple[str, ...],
    target: tuple[str, ...],
    cc: tuple[str, ...],
    package: tuple[str, ...],
    sysroot: tuple[str, ...],
    glibc_floor: str | None,
    fail_on: str | None,
    jobs: int | None,
    timeout: float | None,
    rebuild: bool,
    list_cells: bool,
    cell_id: str | None,
    fmt: str,
    output: str | None,
    reports: tuple[str, ...],
) -> None:
    """Verify every cell of the configuration (Go versions x targets x sysroots x compilers x packages)."""
    cfg = _config(config_file, go, target, cc, package, sysroot, glibc_floor, fail_on, timeout)
    cells = cells_from_config(cfg)
    opts = MatrixOptions(glibc_floor=cfg.glibc_floor, rebuild=rebuild, timeout=cfg.timeout)
    if list_cells:
        if fmt == "github":
            click.echo(json.dumps({"include": [{"cell": c.id, **asdict(c)} for c in cells]}))
        elif fmt == "json":
            click.echo(json.dumps([{"id": c.id, **asdict(c)} for c in cells], indent=2))
        else:
            click.echo("\n".join(c.id for c in cells))
        return
    if fmt == "github":
        raise BadInput("--format github is for --list")
    if cell_id:
        chosen = [c for c in cells if c.id == cell_id]
        if not chosen:
            raise BadInput(f"no cell {cell_id!r} in this configuration (see cgocheck matrix --list)")
        res = run_cell(chosen[0], opts)
        sys.exit(_emit([res], cfg, "json" if fmt == "table" and output else fmt, output, reports))
    progress = Progress(len(cells), live=sys.stderr.isatty())
    try:
        results = run_matrix(cells, opts, jobs=jobs, on_event=progress)
    except MatrixInterrupted as stop:
        click.echo("\ncgocheck: interrupted; finished cells are kept in the cache", err=True)
        _emit(stop.results, cfg, fmt, output, reports)
        sys.exit(130)
    sys.exit(_emit(results, cfg, fmt, output, reports))


@main.group("report")
def report_grp() -> None:
    """Work with saved reports."""


@report_grp.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--config", "config_file", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path())
@click.option("--report", "reports", multiple=True, help="FORMAT=PATH: also write this format (repeatable).")
def merge_cmd(
    files: tuple[str, ...], config_file: str | None, fmt: str, output: str | None, reports: tuple[str, ...]
) -> None:
    """Combine per-cell results (cgocheck matrix --cell ID --format json) into one report."""
    results: list[CellResult] = []
    seen: set[str] = set()
    for f in files:
        try:
            data = json.loads(Path(f).read_text())
            cells = data.get("cells", [data])
            for c in cells:
                r = CellResult.from_json(c)
                if r.cell.id not in seen:
                    seen.add(r.cell.id)
                    results.append(r)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            click.echo(f"cgocheck: error: {f}: not a cgocheck matrix result ({type(exc).__name__})", err=True)
            sys.exit(EXIT_BAD_INPUT)
    results.sort(key=lambda r: r.cell.id)
    cfg = load_config(cli={"config": config_file})
    sys.exit(_emit(results, cfg, fmt, output, reports))
