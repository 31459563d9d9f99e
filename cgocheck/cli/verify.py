"""`cgocheck verify PACKAGE`"""

from __future__ import annotations

from pathlib import Path

import click

from cgocheck.build.hermetic import PRESETS
from cgocheck.cli import options
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


@click.command("verify")
@click.argument("package")
@options.target_option(required=True)
@options.sysroot_option()
@click.option("--go", "go_spec", default="newest", show_default=True, help="Go version (1.24, 1.19, newest) or GOROOT.")
@click.option("--cc", "compiler", type=click.Choice(PRESETS), default="gcc", show_default=True, help="Compiler preset.")
@click.option("--cc-path", help="The compiler to run (required with --cc custom; overrides a preset's CC).")
@options.glibc_floor_option()
@click.option("--output", "-o", type=click.Path(), help="Where to write the binary (default: cgocheck's work folder).")
@click.option("--keep", is_flag=True, help="Keep the work folder (build log, compiler and pkg-config traces).")
@click.option("--tags", help="go build -tags")
@click.option("--ldflags", help="go build -ldflags")
@click.option("--buildmode", help="go build -buildmode (exe, pie, c-shared, c-archive)")
@click.option("--trimpath", is_flag=True, help="go build -trimpath")
@click.option("--extra-cflags", default="", help="Appended to the preset's CGO_CFLAGS.")
@click.option("--extra-ldflags", default="", help="Appended to the preset's CGO_LDFLAGS.")
@click.option("--env", "env_pairs", multiple=True, help="NAME=VALUE added to the hermetic environment (recorded).")
@click.option("--unset", multiple=True, help="Remove NAME from the hermetic environment (recorded).")
@click.option("--no-cgo", is_flag=True, help="The build is meant to be pure Go.")
@click.option("--no-resolve", is_flag=True, help="Skip library and symbol resolution in the sysroot.")
@options.timeout_option()
@options.reporting()
def verify_cmd(
    package: str,
    target: str,
    sysroot: str | None,
    go_spec: str,
    compiler: str,
    cc_path: str | None,
    glibc_floor: str | None,
    output: str | None,
    keep: bool,
    tags: str | None,
    ldflags: str | None,
    buildmode: str | None,
    trimpath: bool,
    extra_cflags: str,
    extra_ldflags: str,
    env_pairs: tuple[str, ...],
    unset: tuple[str, ...],
    no_cgo: bool,
    no_resolve: bool,
    timeout: str | None,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Build PACKAGE hermetically for a target and prove what the result is."""
    from cgocheck.build.hermetic import DEFAULT_TIMEOUT
    from cgocheck.commands.verify import VerifyOptions, verify

    settings = options.load(config_path, fail_on=fail_on, glibc_floor=glibc_floor, timeout=timeout)
    opts = VerifyOptions(
        package=package,
        target=parse_target(target),
        go=go_spec,
        compiler=compiler,
        sysroot=sysroot,
        glibc_floor=settings.glibc_floor,
        cc_path=cc_path,
        output=Path(output) if output else None,
        keep=keep,
        tags=tags,
        ldflags=ldflags,
        buildmode=buildmode,
        trimpath=trimpath,
        extra_cflags=extra_cflags,
        extra_ldflags=extra_ldflags,
        env=pairs(env_pairs, "--env"),
        unset=tuple(unset),
        cgo=not no_cgo,
        resolve=not no_resolve,
        timeout=settings.timeout or DEFAULT_TIMEOUT,
    )
    result = verify(opts)
    if result.work_dir is not None:
        click.echo(f"cgocheck: work folder kept: {result.work_dir}", err=True)
    options.finish(result.report, settings, options.output(fmt, reports, verbose))
