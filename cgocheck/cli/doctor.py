"""`cgocheck doctor`"""

from __future__ import annotations

import os

import click

from cgocheck.build.hermetic import PRESETS
from cgocheck.cli import options
from cgocheck.core.errors import BadInput
from cgocheck.core.targets import parse_target


@click.command("doctor")
@click.option("--build", "package", help="Also build PACKAGE as this shell would and hermetically, and compare.")
@options.target_option()
@options.sysroot_option("Sysroot for the hermetic build of --build.")
@click.option("--go", "go_spec", default="newest", show_default=True)
@click.option("--cc", "compiler", type=click.Choice(PRESETS), default="gcc", show_default=True)
@options.reporting(fail_on_default="warning")
def doctor_cmd(
    package: str | None,
    target: str | None,
    sysroot: str | None,
    go_spec: str,
    compiler: str,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """What in this shell would contaminate a cgo cross build (fails on warnings by default)."""
    from cgocheck.commands.doctor import doctor
    from cgocheck.report import doctor as render
    from cgocheck.sysroot import require

    settings = options.load(config_path, {"fail_on": "warning"}, fail_on=fail_on)
    if package and not target:
        raise BadInput("--build needs --target")
    tgt = parse_target(target) if target else None
    sr = require(sysroot) if sysroot else None
    report = doctor(os.environ, go_spec=go_spec, package=package, target=tgt, sysroot=sr, compiler=compiler)
    options.finish(report, settings, options.output(fmt, reports, verbose), render=render.render)
