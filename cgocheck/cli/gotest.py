"""`cgocheck test PACKAGE... --target T --sysroot S [-- ARGS]`"""

from __future__ import annotations

from pathlib import Path

import click

from cgocheck.build.hermetic import PRESETS
from cgocheck.cli import options
from cgocheck.cli.program_args import WithProgramArgs, program_args
from cgocheck.cli.run import run_options, run_settings
from cgocheck.cli.verify import pairs
from cgocheck.core.targets import parse_target


@click.command("test", cls=WithProgramArgs)
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@options.target_option(required=True)
@click.option("--sysroot", required=True, help="Sysroot: a recipe name (cgocheck sysroot list) or a folder.")
@click.option("--go", "go_spec", default="newest", show_default=True, help="Go version (1.24, 1.19, newest) or GOROOT.")
@click.option("--cc", "compiler", type=click.Choice(PRESETS), default="gcc", show_default=True, help="Compiler preset.")
@click.option("--cc-path", help="The compiler to run (required with --cc custom; overrides a preset's CC).")
@options.glibc_floor_option()
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Folder to keep the test binaries in (default: the work folder, removed after the run).")
@click.option("--keep", is_flag=True, help="Keep the work folder (build log, compiler and pkg-config traces).")
@options.go_build_options()
@click.option("--env", "env_pairs", multiple=True, help="NAME=VALUE added to the hermetic build environment.")
@click.option("--timeout", type=options.SECONDS, metavar="SECONDS",
              help="Stop a test binary (with every process it started) after this long (default 600; config: "
                   "[run] timeout).")
@click.option("--build-timeout", type=options.SECONDS, metavar="SECONDS",
              help="Stop the build after this long (config: timeout; default 900).")
@run_options("--run-env")
@options.reporting()
def test_cmd(
    packages: tuple[str, ...],
    target: str,
    sysroot: str,
    go_spec: str,
    compiler: str,
    cc_path: str | None,
    glibc_floor: str | None,
    glibcxx_floor: str | None,
    output: str | None,
    keep: bool,
    tags: str | None,
    ldflags: str | None,
    buildmode: str | None,
    trimpath: bool,
    buildvcs: str | None,
    pgo: str | None,
    overlay: str | None,
    race: bool,
    goexperiment: str | None,
    goamd64: str | None,
    goarm64: str | None,
    env_pairs: tuple[str, ...],
    timeout: float | None,
    build_timeout: float | None,
    bindings: bool | None,
    max_output: int | None,
    run_env: tuple[str, ...],
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Build PACKAGES' Go tests for a target, run them under qemu-user in a sysroot, report each test.

    The test binaries are built as verify builds them (go test -c, hermetic, traced) and checked
    statically; each then runs in its package's folder under the target's loader inside the
    sysroot, and Go's test events (go tool test2json) give one result per test: a JUnit test
    case each (--format junit), a D014 finding per failed test. Arguments after -- go to every
    test binary (-test.run TestX, -test.count 1 ...). Exit 1 when a test or a finding fails.
    """
    from cgocheck.build.hermetic import DEFAULT_TIMEOUT
    from cgocheck.commands.gotest import run_tests, test_run_settings
    from cgocheck.commands.verify import VerifyOptions

    settings = options.load(config_path, fail_on=fail_on, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor,
                            timeout=build_timeout, tags=tags,
                            ldflags=ldflags, buildmode=buildmode, trimpath=trimpath or None, buildvcs=buildvcs,
                            pgo=pgo, overlay=overlay, race=race or None, goexperiment=goexperiment, goamd64=goamd64,
                            goarm64=goarm64)
    run = test_run_settings(run_settings(settings.run, enabled=True, args=program_args(), timeout=timeout,
                                         bindings=bindings, max_output=max_output, env=run_env))
    opts = VerifyOptions(
        packages=packages,
        target=parse_target(target),
        go=go_spec,
        compiler=compiler,
        sysroot=sysroot,
        glibc_floor=settings.glibc_floor,
        glibcxx_floor=settings.glibcxx_floor,
        cc_path=cc_path,
        output=Path(output) if output else None,
        keep=keep,
        build=settings.build,
        env=pairs(env_pairs, "--env"),
        timeout=settings.timeout or DEFAULT_TIMEOUT,
        run=run,
    )
    result = run_tests(opts)
    if result.work_dir is not None:
        click.echo(f"cgocheck: work folder kept: {result.work_dir}", err=True)
    options.finish(result.report, settings, options.output(fmt, reports, verbose))
