"""`cgocheck inspect FILE|DIR...`"""

from __future__ import annotations

import click

from cgocheck.cli import options
from cgocheck.core.targets import parse_target


@click.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@options.target_option()
@options.sysroot_option("Sysroot (recipe name or folder) to resolve libraries and symbols in.")
@options.glibc_floor_option()
@click.option("--no-cgo", is_flag=True, help="The build is meant to be pure Go: do not require cgo.")
@click.option("--no-dwarf", is_flag=True, help="Skip DWARF (faster on huge binaries).")
@options.reporting(options.SBOM_FORMATS)
def inspect_cmd(
    paths: tuple[str, ...],
    target: str | None,
    sysroot: str | None,
    glibc_floor: str | None,
    glibcxx_floor: str | None,
    no_cgo: bool,
    no_dwarf: bool,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Report what each ELF file (executable or .so) really is; with --target, what is wrong.

    Directories are walked for ELF files. With --sysroot, libraries and symbol versions are
    resolved there too (as `cgocheck resolve` does).
    """
    from cgocheck.commands.inspect import inspect

    settings = options.load(config_path, fail_on=fail_on, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor)
    tgt = parse_target(target) if target else None
    report = inspect(list(paths), target=tgt, sysroot=sysroot, glibc_floor=settings.glibc_floor,
                     glibcxx_floor=settings.glibcxx_floor,
                     expect_cgo=not no_cgo, dwarf=not no_dwarf)
    options.finish(report, settings, options.output(fmt, reports, verbose))
