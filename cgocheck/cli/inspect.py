"""`cgocheck inspect FILE|DIR...`"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from cgocheck.cli import main
from cgocheck.commands.inspect import InspectOptions, inspect_paths
from cgocheck.core import redact
from cgocheck.core.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from cgocheck.core.rules import SEVERITIES, at_or_above
from cgocheck.core.targets import parse_target
from cgocheck.report import formats
from cgocheck.results import Report

if TYPE_CHECKING:
    from cgocheck.settings import Suppressed

FORMATS = formats.names()


def exit_code_for(report: Report, fail_on: str) -> int:
    if report.errors:
        return EXIT_BAD_INPUT
    if at_or_above(report.findings, fail_on):
        return EXIT_FINDINGS
    return EXIT_OK


def emit(
    report: Report,
    fmt: str,
    code: int,
    *,
    verbose: bool = False,
    fail_on: str = "error",
    suppressed: Sequence[Suppressed] = (),
    outputs: Sequence[str] = (),
) -> None:
    """Print REPORT in FMT (any name of the format registry); also write each FORMAT=PATH of OUTPUTS."""
    for err in report.errors:
        click.echo(f"cgocheck: error: {err.message}", err=True)
    ctx = formats.RenderContext(code, fail_on, verbose, tuple(suppressed))
    for spec in outputs:
        name, path = formats.parse_output(spec)
        redact.write_report(path, formats.render(name, report, ctx))
    sys.stdout.write(formats.render(fmt, report, ctx))


@main.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--target", "-t", help="Target the files were built for: linux/arm64, linux/arm/v5, linux/arm64/musl ...")
@click.option("--sysroot", help="Sysroot (recipe name or folder) to resolve libraries and symbols in.")
@click.option("--glibc-floor", help="Oldest glibc the binary must run on, e.g. 2.31 (with --sysroot).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--no-cgo", is_flag=True, help="The build is meant to be pure Go: do not require cgo.")
@click.option("--no-dwarf", is_flag=True, help="Skip DWARF (faster on huge binaries).")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Exit 1 when a finding has this severity or higher (default: fail-on in cgocheck.toml, else error).",
)
@click.option("--report", "outputs", multiple=True, metavar="FORMAT=PATH",
              help="Also write the report in FORMAT to PATH (repeatable), e.g. sarif=cgocheck.sarif.")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file (default: cgocheck.toml or "
              "pyproject.toml [tool.cgocheck] in this folder or above).")
@click.option("--verbose", "-v", is_flag=True, help="Show every symbol, setting and file in the table.")
def inspect_cmd(
    paths: tuple[str, ...],
    target: str | None,
    sysroot: str | None,
    glibc_floor: str | None,
    fmt: str,
    no_cgo: bool,
    no_dwarf: bool,
    fail_on: str | None,
    outputs: tuple[str, ...],
    config_path: str | None,
    verbose: bool,
) -> None:
    """Report what each ELF file (executable or .so) really is; with --target, what is wrong."""
    from cgocheck.settings import apply_policy, load_config

    for spec in outputs:
        formats.parse_output(spec)  # a bad --report is a usage error before any work
    config = load_config(cli={"config": config_path, "fail_on": fail_on, "glibc_floor": glibc_floor})
    opts = InspectOptions(
        target=parse_target(target) if target else None,
        expect_cgo=not no_cgo,
        dwarf=not no_dwarf,
    )
    report = inspect_paths(list(paths), opts)
    if sysroot:
        from cgocheck.commands.resolve import add_resolution

        add_resolution(report, sysroot, glibc_floor=config.glibc_floor, target=opts.target)
    report, suppressed = apply_policy(report, config)
    code = exit_code_for(report, config.fail_on)
    emit(report, fmt, code, verbose=verbose, fail_on=config.fail_on, suppressed=suppressed, outputs=outputs)
    sys.exit(code)
