"""`cgocheck run BINARY --sysroot S [--target T] [-- ARGS]`: the target's own loader, for real."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from cgocheck.settings import RunSettings

from cgocheck.cli import options
from cgocheck.cli.program_args import WithProgramArgs, program_args
from cgocheck.core.targets import parse_target

F = TypeVar("F", bound=Callable[..., Any])


def env_of(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from cgocheck.cli.verify import pairs

    return pairs(values, "--env")


def run_options(env_flag: str = "--env") -> Callable[[F], F]:
    """What every running command takes: --bindings, --max-output and the program's environment
    (--env for run; --run-env where --env is the build's)."""
    decorators = (
        click.option("--bindings", is_flag=True, default=None,
                     help="Compare the loader's LD_DEBUG=bindings with resolve's binding of every symbol "
                          "(config: [run] bindings)."),
        click.option("--max-output", type=click.IntRange(min=1), metavar="BYTES",
                     help="Output kept (stdout and stderr together); more stops the program (default 8 MiB, "
                          "32 MiB for a test binary; "
                          "config: [run] max-output)."),
        click.option(env_flag, "run_env" if env_flag != "--env" else "env_pairs", multiple=True, metavar="NAME=VALUE",
                     help="Add NAME=VALUE to the program's environment (recorded; LD_* and QEMU_* are refused)."),
    )

    def apply(f: F) -> F:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


def run_settings(
    cfg: RunSettings, *, enabled: bool, args: tuple[str, ...] | None, timeout: float | None, bindings: bool | None,
    max_output: int | None, env: tuple[str, ...],
) -> RunSettings:
    """[run] of cgocheck.toml with the command line's values on top (-- ARGS for every binary)."""
    import dataclasses

    return dataclasses.replace(
        cfg,
        enabled=enabled or cfg.enabled,
        args=(("*", args),) if args is not None else cfg.args,
        timeout=timeout or cfg.timeout,
        bindings=cfg.bindings if bindings is None else bindings,
        max_output=max_output or cfg.max_output,
        env=(*cfg.env, *env_of(env)),
    )


@click.command("run", cls=WithProgramArgs)
@click.argument("binary", type=click.Path())
@click.option("--sysroot", required=True, help="Sysroot recipe name (cgocheck sysroot create) or folder.")
@options.target_option()
@options.glibc_floor_option()
@click.option("--timeout", type=options.SECONDS, metavar="SECONDS",
              help="Stop the program (with every process it started) after this long (default 60; config: "
                   "[run] timeout).")
@run_options()
@click.option("--cwd", type=click.Path(file_okay=False), help="Folder to run in (default: an empty scratch folder).")
@options.reporting()
def run_cmd(
    binary: str,
    sysroot: str,
    target: str | None,
    glibc_floor: str | None,
    glibcxx_floor: str | None,
    timeout: float | None,
    bindings: bool | None,
    max_output: int | None,
    env_pairs: tuple[str, ...],
    cwd: str | None,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Run BINARY under the target's own loader, inside the sysroot, and report what it said.

    A program for another machine runs under qemu-user (qemu-aarch64 -L SYSROOT ...), one for
    this machine through the sysroot's loader; a shared library is loaded and bound by the
    loader's trace mode. The program gets an empty environment plus a short recorded
    allowlist, LD_BIND_NOW=1 (every symbol bound before main), stdin closed, a timeout and an
    output cap that stop it with everything it started. Arguments after -- go to the program.
    The loader's messages become D findings beside resolve's static L and S findings.
    """
    from cgocheck.commands.run import run_report
    from cgocheck.loader.runner import DEFAULT_MAX_OUTPUT, DEFAULT_TIMEOUT, RunSpec

    settings = options.load(config_path, fail_on=fail_on, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor)
    cfg = settings.run
    spec = RunSpec(
        args=program_args() or (),
        timeout=timeout or cfg.timeout or DEFAULT_TIMEOUT,
        max_output=max_output or cfg.max_output or DEFAULT_MAX_OUTPUT,
        bindings=cfg.bindings if bindings is None else bindings,
        env=(*cfg.env, *env_of(env_pairs)),
        cwd=cwd,
    )
    tgt = parse_target(target) if target else None
    report = run_report(binary, sysroot, spec, target=tgt, glibc_floor=settings.glibc_floor,
                        glibcxx_floor=settings.glibcxx_floor)
    options.finish(report, settings, options.output(fmt, reports, verbose))
