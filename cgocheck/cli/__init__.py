"""The command line: the only package that imports click, prints and exits.

Every command has a module of its own in this package; :data:`COMMANDS` names them all,
and a command's module is imported only when that command runs (``cgocheck --version``
imports none of them). Each follows the same rule: read settings and options
(cgocheck.cli.options), compute with cgocheck.commands, hand the typed result to
``options.finish``; anything the user must fix is a CgocheckError, shown as one line with
its exit code.
"""

from __future__ import annotations

from cgocheck.core import codecache

codecache.install()  # before the first dataclass (cgocheck.core.codecache; E402 from here on)

import contextlib
import errno
import importlib
import os
import sys
from typing import Any

import click

from cgocheck import __version__
from cgocheck.core import redact
from cgocheck.core.errors import CgocheckError, one_line
from cgocheck.core.files import os_problem

# command name -> (module in cgocheck.cli, the click command in it), in --help order
COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("verify", "verify_cmd"),
    "inspect": ("inspect", "inspect_cmd"),
    "resolve": ("resolve", "resolve_cmd"),
    "run": ("run", "run_cmd"),
    "test": ("gotest", "test_cmd"),
    "deps": ("deps", "deps_cmd"),
    "matrix": ("matrix", "matrix_cmd"),
    "report": ("report", "report_grp"),
    "diff": ("diff", "diff_cmd"),
    "doctor": ("doctor", "doctor_cmd"),
    "config": ("config", "config_cmd"),
    "sysroot": ("sysroot", "sysroot_grp"),
    "toolchains": ("toolchains", "toolchains_grp"),
}
SUMMARIES = {
    "verify": "Build PACKAGE hermetically for a target and prove what the result is.",
    "inspect": "Report what each ELF file really is; with --target, what is wrong.",
    "resolve": "Resolve BINARY's libraries and symbol versions in a sysroot, as its loader would.",
    "run": "Run BINARY under the target's own loader in a sysroot (qemu-user) and report what it said.",
    "test": "Build PACKAGES' Go tests for a target, run them under qemu-user in a sysroot, report each test.",
    "deps": "The Debian Depends line BINARY needs, from the sysroot's symbols and shlibs files.",
    "matrix": "Verify every cell of the configuration (Go x target x sysroot x compiler x package).",
    "report": "Work with saved reports (merge matrix cells).",
    "diff": "Compare BASE with HEAD: regressions between two builds.",
    "doctor": "What in this shell would contaminate a cgo cross build.",
    "config": "Show the resolved configuration and where each value came from.",
    "sysroot": "Target sysroots made from Debian packages, without root.",
    "toolchains": "Go toolchains side by side in cgocheck's own folder.",
}


def fail(err: CgocheckError) -> None:
    """Print one line on stderr and exit with the error's code."""
    click.echo(f"cgocheck: error: {one_line(err.message)}", err=True)
    sys.exit(err.exit_code)


class _Group(click.Group):
    """The top-level group: commands from COMMANDS, imported when used; CgocheckError (and
    stray OSErrors) become one stderr line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name]
        cmd: click.Command = getattr(importlib.import_module(f"cgocheck.cli.{module}"), attr)
        _add_show_paths(cmd)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # the summaries are here so that --help imports no command module
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES[name]) for name in COMMANDS])

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """click's main, with its own errors (a bad option, a missing argument, a value out of
        range) as one stderr line naming the help to read, like every other error."""
        parent: Any = super()
        if not standalone_mode:
            return parent.main(*args, standalone_mode=False, **kwargs)
        try:
            rv = parent.main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as err:
            if type(err).__name__ == "NoArgsIsHelpError" and err.ctx is not None:  # `cgocheck sysroot` (click 8.2)
                click.echo(err.ctx.get_help())
                sys.exit(0)
            where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
            click.echo(f"cgocheck: error: {one_line(err.format_message())}{where}", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            click.echo(f"cgocheck: error: {one_line(err.format_message())}", err=True)
            sys.exit(err.exit_code)
        except click.exceptions.Abort:
            click.echo("cgocheck: interrupted", err=True)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)

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
        except OSError as err:  # a stray one (the writers name their own): still one line
            # ENOSPC, EDQUOT, EFBIG and EROFS only come from writing; anything else may be either
            doing = "write" if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS) else "read or write"
            fail(os_problem(err, doing))
        finally:
            sys.stdout, sys.stderr = out, err_stream


@click.group("cgocheck", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cgocheck")
@click.option("--show-paths", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, param, value: redact.show_paths() if value else None,
              help="Show paths under your home folder as they are (default: ~/...; env CGOCHECK_SHOW_PATHS=1).")
def main() -> None:
    """Prove that a cgo cross build is what it claims to be."""


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
    """The console script's entry point (also ``python -m cgocheck``: messages say cgocheck).

    Ends the process with ``os._exit`` once the output is flushed, as mypy does: tearing
    the interpreter down (every module, every object of the report) took 10-30 ms of a
    0.1-0.6 s command and does nothing for its user. cgocheck registers no atexit handler;
    any a library registered is still run. With threads or process pools still about, or
    under a profiler or a tracer (cProfile, coverage), which write their results as the
    interpreter ends, it exits the usual way."""
    try:
        main(prog_name="cgocheck")
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    codecache.save()
    if not _may_exit_fast():
        sys.exit(code)
    os._exit(_exit_status(code))


def _may_exit_fast() -> bool:
    """Nothing needs the interpreter's own shutdown: one thread left, no process pool or
    multiprocessing child to join (matrix, inspect of many files: their pools' shutdown
    hooks run at the interpreter's end, not as atexit handlers), no profiler or tracer."""
    import threading

    return (threading.active_count() == 1 and "multiprocessing" not in sys.modules
            and sys.getprofile() is None and sys.gettrace() is None)


def _exit_status(code: Any) -> int:
    """What ``sys.exit(code)`` would have made of ``code``, after the atexit handlers and a
    flush of both streams (a standard output that cannot take the rest: one line, exit 3)."""
    import atexit

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code & 0xFF
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except OSError as exc:
        status = status or 3
        sys.stderr.write(f"cgocheck: error: {one_line(os_problem(exc, 'write', 'the standard output').message)}\n")
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    return status
