"""`cgocheck diff BASE HEAD`: regressions between two builds (JSON reports or ELF files)."""

from __future__ import annotations

import sys

import click

from cgocheck.cli import options
from cgocheck.core.targets import parse_target


@click.command("diff")
@click.argument("base")
@click.argument("head")
@click.option("--target", "-t", help="Target, for ELF inputs: also compare the findings for it.")
@options.sysroot_option("Sysroot to resolve ELF inputs in (adds library and symbol findings).")
@options.glibc_floor_option()
@click.option("--no-cgo", is_flag=True, help="ELF inputs are meant to be pure Go.")
@click.option("--no-dwarf", is_flag=True, help="Skip DWARF when inspecting ELF inputs.")
@click.option("--strict", is_flag=True, help="Every added thing is a regression: symbols, Go settings, new files.")
@options.reporting()
def diff_cmd(
    base: str,
    head: str,
    target: str | None,
    sysroot: str | None,
    glibc_floor: str | None,
    glibcxx_floor: str | None,
    no_cgo: bool,
    no_dwarf: bool,
    strict: bool,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Compare BASE with HEAD (cgocheck JSON reports, or ELF files/folders inspected now).

    Exit 1 on a regression: a new finding at or above the failing severity, a new
    library or run path, a raised GLIBC version, a changed interpreter or ABI, cgo lost.
    New symbols and changed Go settings are listed; they are regressions with --strict.
    Exit 0 otherwise, 2 on bad input.
    """
    from cgocheck.commands.diff import diff_reports, side
    from cgocheck.report import formats

    settings = options.load(config_path, fail_on=fail_on, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor)
    tgt = parse_target(target) if target else None
    kw = {"target": tgt, "sysroot": sysroot, "glibc_floor": settings.glibc_floor,
          "glibcxx_floor": settings.glibcxx_floor, "no_cgo": no_cgo,
          "no_dwarf": no_dwarf}
    diff = diff_reports(side(base, **kw), side(head, **kw), base_label=base, head_label=head,
                        policy=settings.policy, strict=strict)
    ctx = formats.RenderContext(diff.exit_code, settings.fail_on, verbose, diff.suppressed)
    options.write(options.output(fmt, reports, verbose), lambda name: formats.render_diff(name, diff, ctx))
    sys.exit(diff.exit_code)
