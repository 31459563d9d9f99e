"""The options every reporting command shares, declared once, and the one way a command's
result becomes output and an exit code.

Each reporting command (inspect, resolve, verify, doctor, diff, matrix, report merge):

1. takes ``--config``, ``--fail-on``, ``--format``, ``--report FORMAT=PATH`` and ``-v``
   (:func:`reporting`), validated before any work;
2. loads its settings once (:func:`load`: command line > CGOCHECK_* > file > defaults);
3. computes a typed result with cgocheck.commands;
4. hands it to :func:`finish`, which applies the policy (suppressions, baseline), maps the
   result to its exit code (cgocheck.policy), renders every requested format and exits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click

from cgocheck.core import redact
from cgocheck.core.errors import one_line
from cgocheck.core.rules import SEVERITIES

F = TypeVar("F", bound=Callable[..., Any])
REPORT_FORMATS = ("table", "json", "junit", "sarif", "markdown", "html")


@dataclass(frozen=True)
class Output:
    """Where and how a command's result is shown."""

    fmt: str = "table"
    reports: tuple[tuple[str, str], ...] = ()  # (format, path) of each --report
    verbose: bool = False
    path: str | None = None  # -o/--output of the main format (matrix, report merge)


def _reports(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """--report FORMAT=PATH (or FORMAT:PATH), checked while the command line is parsed."""
    from cgocheck.report import formats

    return tuple(formats.parse_output(spec) for spec in value)


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


def config_option() -> Callable[[F], F]:
    return click.option(
        "--config", "config_path", type=click.Path(dir_okay=False),
        help="Configuration file (default: cgocheck.toml, or pyproject.toml [tool.cgocheck], in this folder "
             "or above; env CGOCHECK_CONFIG).",
    )


def fail_on_option(default: str = "error") -> Callable[[F], F]:
    return click.option(
        "--fail-on", type=click.Choice(SEVERITIES), default=None,
        help=f"Exit 1 when a finding has this severity or higher (default: fail-on in cgocheck.toml, else {default}).",
    )


def reporting(formats: Sequence[str] = REPORT_FORMATS, *, fail_on_default: str = "error") -> Callable[[F], F]:
    """--format, --report FORMAT=PATH, --fail-on, --config and -v, as every reporting command has them."""
    return _compose(
        click.option("--format", "fmt", type=click.Choice(list(formats)), default="table", show_default=True,
                     help="Output format."),
        click.option("--report", "reports", multiple=True, metavar="FORMAT=PATH", callback=_reports,
                     help="Also write the result in FORMAT to PATH (repeatable), e.g. sarif=cgocheck.sarif."),
        fail_on_option(fail_on_default),
        config_option(),
        click.option("--verbose", "-v", is_flag=True, help="Show every symbol, setting and file in the table."),
    )


def target_option(*, required: bool = False) -> Callable[[F], F]:
    return click.option("--target", "-t", required=required,
                        help="linux/arm64, linux/arm/v7, linux/arm/v5, linux/riscv64, linux/amd64/musl ...")


def sysroot_option(help: str = "Sysroot: a recipe name (cgocheck sysroot list) or a folder.") -> Callable[[F], F]:
    return click.option("--sysroot", help=help)


def glibc_floor_option() -> Callable[[F], F]:
    return click.option("--glibc-floor", help="Oldest glibc the binary must run on, e.g. 2.31 (config: glibc-floor).")


def timeout_option() -> Callable[[F], F]:
    # A string: the settings validate it as they validate CGOCHECK_TIMEOUT and the file's
    # timeout (a finite number of seconds, at most a week), with a one-line error.
    return click.option(
        "--timeout", metavar="SECONDS",
        help="Stop a build (with every process it started) after this long (config: timeout; default 900).",
    )


def load(config_path: str | None, command_defaults: Mapping[str, Any] | None = None, **cli: Any) -> Any:
    """The settings of this run (cgocheck.settings.Settings): ``cli`` values keyed by setting
    (``fail_on``, ``glibc_floor``, ``targets`` ...), None meaning not given."""
    from cgocheck.settings import load_settings

    return load_settings(cli={"config": config_path, **cli}, defaults=command_defaults)


def output(fmt: str, reports: tuple[tuple[str, str], ...], verbose: bool = False, path: str | None = None) -> Output:
    return Output(fmt, reports, verbose, path)


def write(out: Output, render: Callable[[str], str]) -> None:
    """Render the main format to stdout (or -o) and each --report to its file."""
    for name, path in out.reports:
        redact.write_report(path, render(name))
    text = render(out.fmt)
    if out.path:
        redact.write_report(out.path, text)
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:  # stdout is a full disk, a closed pipe ...
        from cgocheck.core.files import os_problem

        raise os_problem(exc, "write", "the standard output") from None


def finish(report: Any, settings: Any, out: Output, *, render: Callable[..., str] | None = None) -> NoReturn:
    """Apply the policy to a report (cgocheck.results.Report), decide the exit code, write
    every format and exit. ``render(name, report, ctx)`` replaces the registry's renderer
    (doctor's own table and JSON)."""
    from cgocheck import policy
    from cgocheck.report import formats

    for err in report.errors:
        click.echo(f"cgocheck: error: {one_line(err.message)}", err=True)
    report, suppressed = policy.apply(report, settings.policy)
    code = policy.report_exit(report, settings.fail_on)
    ctx = formats.RenderContext(code, settings.fail_on, out.verbose, suppressed)
    draw = render or formats.render
    write(out, lambda name: draw(name, report, ctx))
    sys.exit(code)
