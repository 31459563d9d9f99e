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

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click

from cgocheck.core import redact
from cgocheck.core.errors import one_line
from cgocheck.core.rules import SEVERITIES


def tabulate(*args: Any, **kwargs: Any) -> str:
    """tabulate.tabulate, imported when a table is printed: --help never loads it (nor the
    importlib.metadata it imports)."""
    from tabulate import tabulate as _tabulate

    return str(_tabulate(*args, **kwargs))


F = TypeVar("F", bound=Callable[..., Any])


class Seconds(click.FloatRange):
    """A time limit in seconds: more than 0, at most 10^7 (about 4 months), a number (click's
    FloatRange lets nan through: every comparison with it is false)."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True, max=1e7)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if isinstance(rv, float) and math.isnan(rv):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return rv


SECONDS = Seconds()
REPORT_FORMATS = ("table", "json", "junit", "sarif", "markdown", "html")
SBOM_FORMATS = (*REPORT_FORMATS, "cyclonedx")  # inspect, resolve and verify: their binaries as an SBOM


@dataclass(frozen=True)
class Output:
    """Where and how a command's result is shown."""

    fmt: str = "table"
    reports: tuple[tuple[str, str], ...] = ()  # (format, path) of each --report
    verbose: bool = False
    path: str | None = None  # -o/--output of the main format (matrix, report merge)


def _reports(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """--report FORMAT=PATH (or FORMAT:PATH), checked while the command line is parsed: FORMAT
    one of those the command's --format offers."""
    if not value:  # the usual case: the renderers are not imported before the command runs
        return ()
    from cgocheck.report import formats

    out = tuple(formats.parse_output(spec) for spec in value)
    offered = _offered(ctx)
    for name, _ in out:
        if offered and name not in offered:
            raise click.BadParameter(f"{name}: this command writes {', '.join(offered)}", ctx, param)
    return out


def _offered(ctx: click.Context) -> tuple[str, ...]:
    """The formats the command's --format offers."""
    for p in ctx.command.params:
        if p.name == "fmt" and isinstance(p.type, click.Choice):
            return tuple(str(c) for c in p.type.choices)
    return ()


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
    """--glibc-floor and --glibcxx-floor: the oldest C and C++ runtime the binary must run on."""
    return _compose(
        click.option("--glibc-floor", help="Oldest glibc the binary must run on, e.g. 2.31 (config: glibc-floor)."),
        click.option("--glibcxx-floor", help="Oldest libstdc++ it must run on, as a GLIBCXX version, e.g. 3.4.28 "
                                             "(config: glibcxx-floor)."),
    )


def timeout_option() -> Callable[[F], F]:
    # A string: the settings validate it as they validate CGOCHECK_TIMEOUT and the file's
    # timeout (a finite number of seconds, at most a week), with a one-line error.
    return click.option(
        "--timeout", metavar="SECONDS",
        help="Stop a build (with every process it started) after this long (config: timeout; default 900).",
    )


def go_build_options() -> Callable[[F], F]:
    """The go build options real builds pass (each also a cgocheck.toml key of the same name)."""
    return _compose(
        click.option("--tags", help="go build -tags (comma-separated)."),
        click.option("--ldflags", help="go build -ldflags, e.g. '-s -w -X main.version=1.2'."),
        click.option("--buildmode", type=click.Choice(["exe", "pie", "c-shared", "c-archive"]),
                     help="go build -buildmode."),
        click.option("--trimpath", is_flag=True, help="go build -trimpath."),
        click.option("--buildvcs", type=click.Choice(["true", "false", "auto"]), help="go build -buildvcs."),
        click.option("--pgo", metavar="auto|off|FILE", help="go build -pgo."),
        click.option("--overlay", type=click.Path(dir_okay=False), help="go build -overlay FILE."),
        click.option("--race", is_flag=True, help="go build -race (linux/amd64, arm64, ppc64le, s390x)."),
        click.option("--goexperiment", help="GOEXPERIMENT for the build."),
        click.option("--goamd64", help="GOAMD64 level (v1..v4) of an amd64 target."),
        click.option("--goarm64", help="GOARM64 level (v8.0 ... v9.5) of an arm64 target."),
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
