"""`cgocheck report merge`: per-cell matrix results combined into one report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cgocheck.cli import options
from cgocheck.cli.matrix import emit
from cgocheck.core.errors import BadInput


@click.group("report")
def report_grp() -> None:
    """Work with saved reports."""


@report_grp.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", type=click.Path(), help="Write the report here instead of stdout.")
@options.reporting()
def merge_cmd(
    files: tuple[str, ...],
    output: str | None,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Combine per-cell results (cgocheck matrix --cell ID --format json) into one report,
    judged by this configuration's policy (fail-on, suppressions, baseline)."""
    from cgocheck.commands.matrix import read_cell_results

    settings = options.load(config_path, fail_on=fail_on)
    results = read_cell_results([Path(f) for f in files])
    if not results:
        raise BadInput("no matrix cells in " + ", ".join(files))
    sys.exit(emit(results, settings, options.output(fmt, reports, verbose, output)))
