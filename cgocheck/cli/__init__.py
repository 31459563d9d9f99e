"""The command line. The only module that prints and chooses exit codes.

Command groups live in ``cgocheck/cli_*.py`` modules that attach themselves to ``main``;
they follow the same rule: compute with library code, print here, raise CgocheckError for
anything the user must fix.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from cgocheck import __version__
from cgocheck.core import redact
from cgocheck.core.errors import EXIT_BAD_INPUT, CgocheckError

F = TypeVar("F", bound=Callable[..., Any])


def fail(err: CgocheckError) -> None:
    """Print one line on stderr and exit with the error's code."""
    click.echo(f"cgocheck: error: {err.message}", err=True)
    sys.exit(err.exit_code)


class _Group(click.Group):
    """Turns CgocheckError (and stray OSErrors) into one stderr line and an exit code.

    Command modules are imported on the first command lookup (see _register).
    """

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _register()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        # Everything a command prints goes through the home-folder redaction (cgocheck.core.redact).
        out, err_stream = sys.stdout, sys.stderr
        red = redact.Redactor(redact.home_prefixes())
        sys.stdout = redact.RedactingStream(out, red)
        sys.stderr = redact.RedactingStream(err_stream, red)
        try:
            return super().invoke(ctx)
        except CgocheckError as err:
            fail(err)
        except KeyboardInterrupt:
            click.echo("cgocheck: interrupted", err=True)
            sys.exit(130)
        except OSError as err:  # a file we could not read or write, named in one line
            where = f" {err.filename}" if err.filename else ""
            click.echo(f"cgocheck: error:{where}: {err.strerror or err}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        finally:
            sys.stdout, sys.stderr = out, err_stream


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cgocheck")
def main() -> None:
    """Prove that a cgo cross build is what it claims to be."""


_registered = False


def _register() -> None:
    """Import the command modules; each attaches its commands to `main` on import.

    Done when the CLI runs (see run), not when this module is imported, so library code
    and tests can import a cli_* module without importing every other one.
    """
    global _registered
    if _registered:
        return
    _registered = True
    from cgocheck.cli import diff, inspect, matrix, resolve, sysroot, toolchains, verify  # noqa: F401

    _add_show_paths(main)


def _show_paths(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        redact.show_paths()


def _add_show_paths(cmd: click.Command) -> None:
    """--show-paths on every command and group: print paths under the home folder as they are."""
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _add_show_paths(sub)
    if not any(p.name == "show_paths" for p in cmd.params):
        cmd.params.append(
            click.Option(
                ["--show-paths"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=_show_paths,
                help="Show paths under your home folder as they are (default: ~/...; env CGOCHECK_SHOW_PATHS=1).",
            )
        )


def run() -> None:
    """The console script's entry point."""
    _register()
    main()
