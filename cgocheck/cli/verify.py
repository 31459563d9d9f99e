"""`cgocheck verify PACKAGE`"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from cgocheck.build.hermetic import PRESETS
from cgocheck.cli import options
from cgocheck.cli.program_args import WithProgramArgs, program_args
from cgocheck.cli.run import run_options, run_settings
from cgocheck.core.errors import BadInput
from cgocheck.core.targets import parse_target


def pairs(values: tuple[str, ...], what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        k, sep, val = v.partition("=")
        if not sep or not k or not k.replace("_", "").isalnum():
            raise BadInput(f"{what} takes NAME=VALUE, got {v!r}")
        out.append((k, val))
    return tuple(out)


def write_provenance(path: str, report: Any, started: float) -> None:
    """The in-toto statement of a build that wrote its binaries; a failed build has none."""
    from cgocheck.commands.provenance import statement
    from cgocheck.core import redact

    if report.build is None or report.build.returncode != 0 or not report.files:
        click.echo("cgocheck: warning: the build made no binary: no provenance written", err=True)
        return
    redact.write_report(path, json.dumps(statement(report, started=started, finished=time.time()), indent=2) + "\n")


@click.command("verify", cls=WithProgramArgs)
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@options.target_option(required=True)
@options.sysroot_option()
@click.option("--go", "go_spec", default="newest", show_default=True, help="Go version (1.24, 1.19, newest) or GOROOT.")
@click.option("--cc", "compiler", type=click.Choice(PRESETS), default="gcc", show_default=True, help="Compiler preset.")
@click.option("--cc-path", help="The compiler to run (required with --cc custom; overrides a preset's CC).")
@options.glibc_floor_option()
@click.option("--output", "-o", type=click.Path(),
              help="Where to write the binary; a folder (or a path ending in /) for several (default: cgocheck's "
                   "work folder).")
@click.option("--keep", is_flag=True, help="Keep the work folder (build log, compiler and pkg-config traces).")
@options.go_build_options()
@click.option("--extra-cflags", default="", help="Appended to the preset's CGO_CFLAGS.")
@click.option("--extra-ldflags", default="", help="Appended to the preset's CGO_LDFLAGS.")
@click.option("--env", "env_pairs", multiple=True, help="NAME=VALUE added to the hermetic environment (recorded).")
@click.option("--unset", multiple=True, help="Remove NAME from the hermetic environment (recorded).")
@click.option("--no-cgo", is_flag=True, help="The build is meant to be pure Go.")
@click.option("--no-resolve", is_flag=True, help="Skip library and symbol resolution in the sysroot.")
@options.timeout_option()
@click.option("--run", "run_built", is_flag=True,
              help="Then run what was built under the target's loader in the sysroot (qemu-user); arguments after -- "
                   "go to the program (config: run = true, [run] args).")
@click.option("--run-timeout", type=options.SECONDS, metavar="SECONDS",
              help="Stop each run after this long (default 60; config: [run] timeout).")
@run_options("--run-env")
@click.option("--provenance", "provenance_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Write an in-toto statement with a SLSA provenance v1 predicate for the build (unsigned).")
@options.reporting(options.SBOM_FORMATS)
def verify_cmd(
    packages: tuple[str, ...],
    target: str,
    sysroot: str | None,
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
    extra_cflags: str,
    extra_ldflags: str,
    env_pairs: tuple[str, ...],
    unset: tuple[str, ...],
    no_cgo: bool,
    no_resolve: bool,
    timeout: str | None,
    run_built: bool,
    run_timeout: float | None,
    bindings: bool | None,
    max_output: int | None,
    run_env: tuple[str, ...],
    provenance_path: str | None,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Build PACKAGE hermetically for a target and prove what the result is.

    PACKAGE is a folder, an import path or a pattern (./..., ./cmd/...; several may be given):
    every main package is built and checked, each binary its own file in the report. A module
    with dependencies gets them with the module settings of this shell (GOPROXY, GOPRIVATE,
    GOFLAGS=-mod, ~/.netrc ...) in a fetch step, then builds offline against exactly the
    modules its go.sum names; a vendor/ folder is used as it is.

    With --run (or run = true in cgocheck.toml), every binary then runs under the target's own
    loader inside the sysroot, as `cgocheck run` runs it; arguments after -- go to it.
    """
    from cgocheck.build.hermetic import DEFAULT_TIMEOUT
    from cgocheck.commands.verify import VerifyOptions, verify

    settings = options.load(
        config_path, fail_on=fail_on, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor, timeout=timeout,
        tags=tags, ldflags=ldflags, buildmode=buildmode, trimpath=trimpath or None, buildvcs=buildvcs, pgo=pgo,
        overlay=overlay, race=race or None, goexperiment=goexperiment, goamd64=goamd64, goarm64=goarm64,
    )
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
        extra_cflags=extra_cflags,
        extra_ldflags=extra_ldflags,
        env=pairs(env_pairs, "--env"),
        unset=tuple(unset),
        cgo=not no_cgo,
        resolve=not no_resolve,
        timeout=settings.timeout or DEFAULT_TIMEOUT,
        run=run_settings(settings.run, enabled=run_built, args=program_args(), timeout=run_timeout, bindings=bindings,
                         max_output=max_output, env=run_env),
    )
    started = time.time()
    result = verify(opts)
    if result.work_dir is not None:
        click.echo(f"cgocheck: work folder kept: {result.work_dir}", err=True)
    if provenance_path:
        write_provenance(provenance_path, result.report, started)
    options.finish(result.report, settings, options.output(fmt, reports, verbose))
