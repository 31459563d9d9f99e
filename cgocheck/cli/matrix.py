"""`cgocheck matrix`: every cell of the configuration, in parallel, cached."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import click

from cgocheck.cli import options
from cgocheck.core.errors import BadInput
from cgocheck.results.matrix import Cell, CellResult


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


def emit(results: Sequence[CellResult], settings: Any, out: options.Output) -> int:
    """Apply the policy to every cell, write every format; the worst cell's exit code."""
    from cgocheck import policy
    from cgocheck.commands.matrix import apply_policy
    from cgocheck.report import matrixfmt

    apply_policy(results, settings.policy)
    code = policy.worst(r.exit_code for r in results)
    options.write(out, lambda name: matrixfmt.render(name, results, code, settings.fail_on))
    return code


@click.command("matrix")
@click.option("--go", multiple=True, help="Go version (repeat).")
@click.option("--target", "-t", multiple=True, help="Target (repeat).")
@click.option("--cc", multiple=True, help="Compiler preset (repeat).")
@click.option("--package", "-p", multiple=True, help="Package to build (repeat).")
@click.option("--sysroot", multiple=True, help="TARGET=SYSROOT, or SYSROOT for every target (repeat).")
@options.glibc_floor_option()
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Cells in parallel (default: the number of cores).")
@options.timeout_option()
@click.option("--rebuild", is_flag=True, help="Ignore cached results.")
@click.option("--list", "list_cells", is_flag=True, help="Print the cells and exit (for CI fan-out).")
@click.option("--cell", "cell_id", help="Run only this cell (an id from --list) and write its result.")
@click.option("--output", "-o", type=click.Path(), help="Write the report here instead of stdout.")
@options.reporting([*options.REPORT_FORMATS, "github"])
def matrix_cmd(
    go: tuple[str, ...],
    target: tuple[str, ...],
    cc: tuple[str, ...],
    package: tuple[str, ...],
    sysroot: tuple[str, ...],
    glibc_floor: str | None,
    glibcxx_floor: str | None,
    jobs: int | None,
    timeout: str | None,
    rebuild: bool,
    list_cells: bool,
    cell_id: str | None,
    output: str | None,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Verify every cell of the configuration (Go versions x targets x sysroots x compilers x packages).

    --format github (with --list) prints the cells as a GitHub Actions matrix.
    """
    from cgocheck.commands.matrix import MatrixInterrupted, MatrixOptions, cells_from_config, run_cell, run_matrix

    sysroots: dict[str, str] | None = None
    if sysroot:  # TARGET=SYSROOT, or one SYSROOT for every target
        sysroots = {}
        for value in sysroot:
            t, sep, v = value.partition("=")
            sysroots[t if sep else "*"] = v if sep else value
    settings = options.load(
        config_path, fail_on=fail_on, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor, timeout=timeout,
        go=list(go) or None,
        targets=list(target) or None, compilers=list(cc) or None, packages=list(package) or None, sysroots=sysroots,
    )
    cells = cells_from_config(settings)
    opts = MatrixOptions(glibc_floor=settings.glibc_floor, glibcxx_floor=settings.glibcxx_floor, rebuild=rebuild,
                         timeout=settings.timeout, build=settings.build, run=settings.run, test=settings.test)
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
        one = options.output("json" if fmt == "table" and output else fmt, reports, verbose, output)
        sys.exit(emit([res], settings, one))
    progress = Progress(len(cells), live=sys.stderr.isatty())
    out = options.output(fmt, reports, verbose, output)
    try:
        results = run_matrix(cells, opts, jobs=jobs, on_event=progress)
    except MatrixInterrupted as stop:
        click.echo("\ncgocheck: interrupted; finished cells are kept in the cache", err=True)
        emit(stop.results, settings, out)
        sys.exit(130)
    sys.exit(emit(results, settings, out))
