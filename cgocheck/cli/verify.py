"""`cgocheck verify PKG` and `cgocheck doctor`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tabulate import tabulate

from cgocheck.build.hermetic import DEFAULT_TIMEOUT, PRESETS
from cgocheck.cli import main
from cgocheck.cli.inspect import FORMATS, emit, exit_code_for
from cgocheck.core.errors import EXIT_FINDINGS, EXIT_OK, BadInput
from cgocheck.core.rules import SEVERITIES, at_or_above
from cgocheck.core.targets import Target, parse_target
from cgocheck.report import jsonfmt
from cgocheck.report.table import findings_table

if TYPE_CHECKING:
    from cgocheck.commands.doctor import DoctorReport


def _pairs(values: tuple[str, ...], what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        k, sep, val = v.partition("=")
        if not sep or not k or not k.replace("_", "").isalnum():
            raise BadInput(f"{what} takes NAME=VALUE, got {v!r}")
        out.append((k, val))
    return tuple(out)


@main.command("verify")
@click.argument("package")
@click.option("--target", "-t", required=True, help="linux/arm64, linux/arm/v7, linux/arm/v5, linux/amd64/musl ...")
@click.option("--sysroot", help="Sysroot recipe name (cgocheck sysroot list) or folder.")
@click.option("--go", "go_spec", default="newest", show_default=True, help="Go version (1.24, 1.19, newest) or GOROOT.")
@click.option("--cc", "compiler", type=click.Choice(PRESETS), default="gcc", show_default=True, help="Compiler preset.")
@click.option("--cc-path", help="The compiler to run (required with --cc custom; overrides a preset's CC).")
@click.option("--glibc-floor", help="Oldest glibc the binary must run on, e.g. 2.31 (zig: caps symbol versions).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
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
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="error", show_default=True)
@click.option("--report", "outputs", multiple=True, metavar="FORMAT=PATH",
              help="Also write the report in FORMAT to PATH (repeatable), e.g. sarif=cgocheck.sarif.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT, show_default=True,
              metavar="SECONDS", help="Stop the build (with every process it started) after this long.")
@click.option("--verbose", "-v", is_flag=True)
def verify_cmd(
    package: str,
    target: str,
    sysroot: str | None,
    go_spec: str,
    compiler: str,
    cc_path: str | None,
    glibc_floor: str | None,
    fmt: str,
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
    fail_on: str,
    outputs: tuple[str, ...],
    timeout: float,
    verbose: bool,
) -> None:
    """Build PACKAGE hermetically for a target and prove what the result is."""
    from cgocheck.commands.verify import VerifyOptions, verify
    from cgocheck.report import formats

    for spec in outputs:
        formats.parse_output(spec)  # a bad --report is a usage error before any work

    opts = VerifyOptions(
        package=package,
        target=parse_target(target),
        go=go_spec,
        compiler=compiler,
        sysroot=sysroot,
        glibc_floor=glibc_floor,
        cc_path=cc_path,
        output=Path(output) if output else None,
        keep=keep,
        tags=tags,
        ldflags=ldflags,
        buildmode=buildmode,
        trimpath=trimpath,
        extra_cflags=extra_cflags,
        extra_ldflags=extra_ldflags,
        env=_pairs(env_pairs, "--env"),
        unset=tuple(unset),
        cgo=not no_cgo,
        resolve=not no_resolve,
        timeout=timeout,
    )
    result = verify(opts)
    code = exit_code_for(result.report, fail_on)
    if not result.record.ok and code == EXIT_OK:
        code = EXIT_FINDINGS
    emit(result.report, fmt, code, verbose=verbose, outputs=outputs)
    if result.work_dir is not None:
        click.echo(f"cgocheck: work folder kept: {result.work_dir}", err=True)
    sys.exit(code)


@main.command("doctor")
@click.option("--build", "package", help="Also build PACKAGE as this shell would and hermetically, and compare.")
@click.option("--target", "-t", help="Target for --build (and for the go env comparison).")
@click.option("--sysroot", help="Sysroot for the hermetic build.")
@click.option("--go", "go_spec", default="newest", show_default=True)
@click.option("--cc", "compiler", type=click.Choice(PRESETS), default="gcc", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="warning", show_default=True)
@click.option("--report", "outputs", multiple=True, metavar="FORMAT=PATH",
              help="Also write the report in FORMAT to PATH (repeatable).")
def doctor_cmd(
    package: str | None,
    target: str | None,
    sysroot: str | None,
    go_spec: str,
    compiler: str,
    fmt: str,
    fail_on: str,
    outputs: tuple[str, ...],
) -> None:
    """What in this shell would contaminate a cgo cross build."""
    from cgocheck.commands.doctor import doctor
    from cgocheck.commands.verify import find_sysroot_dir
    from cgocheck.core import redact
    from cgocheck.report import formats

    for spec in outputs:
        formats.parse_output(spec)
    if package and not target:
        raise BadInput("--build needs --target")
    tgt = parse_target(target) if target else None
    sr = find_sysroot_dir(sysroot) if sysroot else None
    rep = doctor(os.environ, go_spec=go_spec, package=package, target=tgt, sysroot=sr, compiler=compiler)
    code = EXIT_FINDINGS if at_or_above(rep.findings, fail_on) else EXIT_OK
    for spec in outputs:
        name, path = formats.parse_output(spec)
        redact.write_report(path, _doctor_text(name, rep, code, fail_on, tgt))
    sys.stdout.write(_doctor_text(fmt, rep, code, fail_on, tgt))
    sys.exit(code)


def _doctor_text(fmt: str, rep: DoctorReport, code: int, fail_on: str, tgt: Target | None) -> str:
    import json

    if fmt == "json":
        data = {
            "command": "doctor",
            "findings": jsonfmt.plain(rep.findings),
            "go_env": {"shell": rep.go_env_shell, "hermetic": rep.go_env_hermetic},
            "build_diff": [{"fact": k, "shell": a, "hermetic": b} for k, a, b in rep.diffs],
            "shell_build_ok": rep.shell_build_ok,
            "notes": rep.notes,
            "exit_code": code,
        }
        return json.dumps(data, indent=2) + "\n"
    if fmt != "table":  # junit, sarif, markdown, html: the findings as a report of the build
        from cgocheck.report import formats
        from cgocheck.results import Report

        report = Report(command="doctor", target=tgt.name if tgt else None, build_findings=list(rep.findings),
                        notes=[*(f"{k}: shell build {a} | hermetic build {b}" for k, a, b in rep.diffs), *rep.notes])
        return formats.render(fmt, report, formats.RenderContext(code, fail_on))
    parts = []
    if rep.findings:
        parts.append(findings_table(rep.findings))
    else:
        parts.append("nothing in this shell would change a cgo cross build")
    if rep.diffs:
        parts.append("")
        parts.append(tabulate(rep.diffs, headers=["fact", "shell build", "hermetic build"], tablefmt="simple"))
    if rep.shell_build_ok is False:
        parts.append("\nthe shell's build failed:\n" + rep.shell_build_log.strip()[-1500:])
    for n in rep.notes:
        parts.append(f"note: {n}")
    return "\n".join(parts) + "\n"
