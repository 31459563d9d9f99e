"""`cgocheck inspect FILE|DIR...`"""

from __future__ import annotations

import sys

import click

from cgocheck.cli import main
from cgocheck.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from cgocheck.inspect import InspectOptions, inspect_paths
from cgocheck.report import Report, jsonfmt, table
from cgocheck.rules import SEVERITIES, at_or_above
from cgocheck.targets import parse_target

FORMATS = ("table", "json")


def exit_code_for(report: Report, fail_on: str) -> int:
    if report.errors:
        return EXIT_BAD_INPUT
    if at_or_above(report.findings, fail_on):
        return EXIT_FINDINGS
    return EXIT_OK


def emit(report: Report, fmt: str, code: int, *, verbose: bool = False) -> None:
    for err in report.errors:
        click.echo(f"cgocheck: error: {err.message}", err=True)
    if fmt == "json":
        sys.stdout.write(jsonfmt.render(report, code))
    else:
        sys.stdout.write(table.render(report, verbose=verbose))


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
    default="error",
    show_default=True,
    help="Exit 1 when a finding has this severity or higher.",
)
@click.option("--verbose", "-v", is_flag=True, help="Show every symbol, setting and file in the table.")
def inspect_cmd(
    paths: tuple[str, ...],
    target: str | None,
    sysroot: str | None,
    glibc_floor: str | None,
    fmt: str,
    no_cgo: bool,
    no_dwarf: bool,
    fail_on: str,
    verbose: bool,
) -> None:
    """Report what each ELF file (executable or .so) really is; with --target, what is wrong."""
    opts = InspectOptions(
        target=parse_target(target) if target else None,
        expect_cgo=not no_cgo,
        dwarf=not no_dwarf,
    )
    report = inspect_paths(list(paths), opts)
    if sysroot:
        from cgocheck.resolve_cli_support import add_resolution

        add_resolution(report, sysroot, glibc_floor=glibc_floor, target=opts.target)
    code = exit_code_for(report, fail_on)
    emit(report, fmt, code, verbose=verbose)
    sys.exit(code)
