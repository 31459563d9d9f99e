"""`cgocheck diff BASE HEAD`: regressions between two builds (JSON reports or ELF files);
`cgocheck config`: the resolved configuration (it lives here until it has a module of its own)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from cgocheck.cli import main
from cgocheck.core import redact
from cgocheck.core.errors import BadInput
from cgocheck.core.rules import SEVERITIES
from cgocheck.report import formats


def _is_elf_input(path: str) -> bool:
    p = Path(path)
    if p.is_dir():
        return True
    try:
        with p.open("rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None


def _side(path: str, *, target: str | None, sysroot: str | None, glibc_floor: str | None, no_cgo: bool,
          no_dwarf: bool) -> dict[str, Any]:
    """The JSON report of one side: read as is, or made by inspecting the ELF file(s) now."""
    from cgocheck.commands.diff import load_json_report

    if not _is_elf_input(path):
        return load_json_report(path)
    from cgocheck.commands.inspect import InspectOptions, inspect_paths
    from cgocheck.core.targets import parse_target
    from cgocheck.report.jsonfmt import report_to_json

    opts = InspectOptions(target=parse_target(target) if target else None, expect_cgo=not no_cgo,
                          dwarf=not no_dwarf)
    report = inspect_paths([path], opts)
    if report.errors:
        raise BadInput(report.errors[0].message)
    if sysroot:
        from cgocheck.commands.resolve import add_resolution

        add_resolution(report, sysroot, glibc_floor=glibc_floor, target=opts.target)
        if report.errors:
            raise BadInput(report.errors[0].message)
    return report_to_json(report, 0)


@main.command("diff")
@click.argument("base")
@click.argument("head")
@click.option("--target", "-t", help="Target, for ELF inputs: also compare the findings for it.")
@click.option("--sysroot", help="Sysroot to resolve ELF inputs in (adds library and symbol findings).")
@click.option("--glibc-floor", help="Oldest glibc to run on (with --sysroot).")
@click.option("--no-cgo", is_flag=True, help="ELF inputs are meant to be pure Go.")
@click.option("--no-dwarf", is_flag=True, help="Skip DWARF when inspecting ELF inputs.")
@click.option("--format", "fmt", type=click.Choice(formats.names()), default="table", show_default=True)
@click.option("--report", "outputs", multiple=True, metavar="FORMAT=PATH",
              help="Also write the diff in FORMAT to PATH (repeatable), e.g. markdown=summary.md.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="A new finding at this severity or higher is a regression (default: fail-on in "
                   "cgocheck.toml, else error).")
@click.option("--strict", is_flag=True, help="Every added thing is a regression: symbols, Go settings, new files.")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file (suppressions, baseline).")
@click.option("--verbose", "-v", is_flag=True)
def diff_cmd(
    base: str,
    head: str,
    target: str | None,
    sysroot: str | None,
    glibc_floor: str | None,
    no_cgo: bool,
    no_dwarf: bool,
    fmt: str,
    outputs: tuple[str, ...],
    fail_on: str | None,
    strict: bool,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Compare BASE with HEAD (cgocheck JSON reports, or ELF files/folders inspected now).

    Exit 1 on a regression: a new finding at or above the failing severity, a new
    library or run path, a raised GLIBC version, a changed interpreter or ABI, cgo lost.
    New symbols and changed Go settings are listed; they are regressions with --strict.
    Exit 0 otherwise, 2 on bad input.
    """
    from cgocheck.commands.diff import diff_reports
    from cgocheck.settings import load_config

    for spec in outputs:
        formats.parse_output(spec)
    config = load_config(cli={"config": config_path, "fail_on": fail_on, "glibc_floor": glibc_floor})
    kw: dict[str, Any] = {"target": target, "sysroot": sysroot, "glibc_floor": config.glibc_floor,
                          "no_cgo": no_cgo, "no_dwarf": no_dwarf}
    base_json = _side(base, **kw)
    head_json = _side(head, **kw)
    diff = diff_reports(base_json, head_json, base_label=base, head_label=head, fail_on=config.fail_on,
                        strict=strict, config=config)
    code = diff.exit_code
    ctx = formats.RenderContext(code, config.fail_on, verbose, diff.suppressed)
    for spec in outputs:
        name, path = formats.parse_output(spec)
        redact.write_report(path, formats.render_diff(name, diff, ctx))
    sys.stdout.write(formats.render_diff(fmt, diff, ctx))
    sys.exit(code)


@main.command("config")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file to read.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
def config_cmd(config_path: str | None, fmt: str) -> None:
    """Show the resolved configuration and where each value came from (exit 2 if it is invalid).

    Precedence: command line > CGOCHECK_* environment variables > cgocheck.toml (or
    pyproject.toml [tool.cgocheck]) > defaults.
    """
    import json

    from tabulate import tabulate

    from cgocheck.settings import describe, env_variables, load_config

    config = load_config(cli={"config": config_path})
    if fmt == "json":
        sys.stdout.write(json.dumps(config.as_dict(), indent=2) + "\n")
        return
    click.echo(f"file: {config.file or '(none found; defaults and environment only)'}")
    click.echo(tabulate(describe(config), headers=["key", "value", "from"], tablefmt="simple"))
    if config.baseline_keys:
        click.echo(f"baseline: {len(config.baseline_keys)} accepted finding(s)")
    set_env = [k for k in env_variables() if os.environ.get(k, "").strip()]
    if set_env:
        click.echo("environment: " + ", ".join(set_env))
