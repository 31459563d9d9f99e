"""`cgocheck resolve BINARY --sysroot S`: what the target's dynamic loader would do, statically."""

from __future__ import annotations

import click

from cgocheck.cli import options
from cgocheck.core.targets import parse_target


@click.command("resolve")
@click.argument("binary", type=click.Path())
@click.option("--sysroot", required=True, help="Sysroot recipe name (cgocheck sysroot create) or folder.")
@click.option("--target", "-t", help="Target the binary is for (linux/arm64 ...); by default read from the binary.")
@options.glibc_floor_option()
@click.option(
    "--install-dir",
    help="Folder the binary will live in on the target (its $ORIGIN); default: where it lies inside the sysroot.",
)
@options.reporting(options.SBOM_FORMATS)
def resolve_cmd(
    binary: str,
    sysroot: str,
    target: str | None,
    glibc_floor: str | None,
    glibcxx_floor: str | None,
    install_dir: str | None,
    fmt: str,
    reports: tuple[tuple[str, str], ...],
    fail_on: str | None,
    config_path: str | None,
    verbose: bool,
) -> None:
    """Resolve BINARY's libraries and symbol versions in a sysroot, as the target's ld.so would.

    Search order (glibc): DT_RPATH of the requester and its loaders (unless the requester
    has DT_RUNPATH), DT_RUNPATH of the requester, the folders of the sysroot's ld.so.conf,
    then the loader's built-in folders. LD_LIBRARY_PATH and LD_PRELOAD are not used.
    """
    from cgocheck.commands.resolve import resolve_report

    settings = options.load(config_path, fail_on=fail_on, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor)
    tgt = parse_target(target) if target else None
    report = resolve_report(binary, sysroot, glibc_floor=settings.glibc_floor, target=tgt, install_dir=install_dir,
                            glibcxx_floor=settings.glibcxx_floor)
    options.finish(report, settings, options.output(fmt, reports, verbose))
