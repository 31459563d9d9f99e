"""`cgocheck resolve BINARY --sysroot S`: what the target's dynamic loader would do, statically."""

from __future__ import annotations

import sys

import click

from cgocheck.cli import main
from cgocheck.cli.inspect import FORMATS, emit, exit_code_for
from cgocheck.commands.resolve import resolve_report
from cgocheck.core.rules import SEVERITIES
from cgocheck.core.targets import parse_target


@main.command("resolve")
@click.argument("binary", type=click.Path())
@click.option("--sysroot", required=True, help="Sysroot recipe name (cgocheck sysroot create) or folder.")
@click.option("--target", "-t", help="Target the binary is for (linux/arm64 ...); by default read from the binary.")
@click.option("--glibc-floor", help="Oldest glibc the binary must run on, e.g. 2.31.")
@click.option(
    "--install-dir",
    help="Folder the binary will live in on the target (its $ORIGIN); default: where it lies inside the sysroot.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="error",
    show_default=True,
    help="Exit 1 when a finding has this severity or higher.",
)
@click.option("--report", "outputs", multiple=True, metavar="FORMAT=PATH",
              help="Also write the report in FORMAT to PATH (repeatable), e.g. sarif=cgocheck.sarif.")
@click.option("--verbose", "-v", is_flag=True, help="Show every binding, skipped candidate and note.")
def resolve_cmd(
    binary: str,
    sysroot: str,
    target: str | None,
    glibc_floor: str | None,
    install_dir: str | None,
    fmt: str,
    fail_on: str,
    outputs: tuple[str, ...],
    verbose: bool,
) -> None:
    """Resolve BINARY's libraries and symbol versions in a sysroot, as the target's ld.so would.

    Search order (glibc): DT_RPATH of the requester and its loaders (unless the requester
    has DT_RUNPATH), DT_RUNPATH of the requester, the folders of the sysroot's ld.so.conf,
    then the loader's built-in folders. LD_LIBRARY_PATH and LD_PRELOAD are not used.
    """
    from cgocheck.report import formats

    for spec in outputs:
        formats.parse_output(spec)
    tgt = parse_target(target) if target else None
    report = resolve_report(binary, sysroot, glibc_floor=glibc_floor, target=tgt, install_dir=install_dir)
    code = exit_code_for(report, fail_on)
    emit(report, fmt, code, verbose=verbose, outputs=outputs)
    sys.exit(code)
