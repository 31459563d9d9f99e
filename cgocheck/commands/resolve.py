"""Glue between the resolve library and the commands: sysroot lookup, reports, findings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cgocheck.checks.symbols import check_resolution
from cgocheck.core.errors import BadInput, CgocheckError, EnvironmentProblem
from cgocheck.core.glibc import parse_floor
from cgocheck.core.targets import Target
from cgocheck.elf import read_elf, read_shared_object
from cgocheck.elf.model import ElfFacts
from cgocheck.loader.resolve import Resolution, resolve
from cgocheck.results import FileError, FileReport, Report
from cgocheck.sysroot.fsroot import FsRoot


def sysroot_dir(value: str) -> Path:
    """The folder a --sysroot value names; a missing one is an environment problem (exit 3)."""
    hint = "create one with `cgocheck sysroot create <recipe>` (see `cgocheck sysroot list`) or pass a folder"
    try:
        from cgocheck.sysroot import find_sysroot
    except ImportError:  # pragma: no cover - before the sysroot package had it
        p = Path(value).expanduser()
        if p.is_dir():
            return p
        raise EnvironmentProblem(f"sysroot {value!r} not found: {hint}") from None
    try:
        return find_sysroot(value)
    except EnvironmentProblem:
        raise
    except BadInput as err:
        raise EnvironmentProblem(f"sysroot {value!r} not found ({err.message}): {hint}") from None


def check_floor(glibc_floor: str | None) -> None:
    """Refuse a malformed --glibc-floor before any work (bad input, exit 2)."""
    if glibc_floor:
        try:
            parse_floor(glibc_floor)
        except ValueError as exc:
            raise BadInput(f"--glibc-floor: {exc}") from None


def open_root(value: str) -> FsRoot:
    return FsRoot(sysroot_dir(value))


def resolve_file(
    facts: ElfFacts,
    root: FsRoot,
    *,
    glibc_floor: str | None,
    target: Target | None,
    install_dir: str | None = None,
) -> Resolution:
    exe = read_shared_object(facts.path)
    return resolve(
        facts.path,
        root,
        exe=exe,
        interpreter=facts.interpreter,
        static=facts.static,
        target=target,
        install_dir=install_dir,
        glibc_floor=glibc_floor,
    )


def add_resolution(
    report: Report,
    sysroot: str,
    *,
    glibc_floor: str | None,
    target: Target | None,
    install_dir: str | None = None,
) -> None:
    """Resolve every file of an inspect report in SYSROOT; add the resolution and findings.

    A file whose resolution fails (a hostile sysroot, say) becomes a report error; a missing
    sysroot raises EnvironmentProblem (exit 3) before anything is resolved.
    """
    check_floor(glibc_floor)
    root = open_root(sysroot)
    report.sysroot = str(root.top)
    if glibc_floor:
        report.options["glibc_floor"] = glibc_floor
    for i, fr in enumerate(list(report.files)):
        try:
            res = resolve_file(fr.facts, root, glibc_floor=glibc_floor, target=target, install_dir=install_dir)
        except CgocheckError as err:
            report.errors.append(FileError(fr.facts.path, f"resolve: {err.message}"))
            continue
        report.files[i] = dataclasses.replace(fr, resolution=res, findings=(*fr.findings, *check_resolution(res)))


def resolve_report(
    binary: str,
    sysroot: str,
    *,
    glibc_floor: str | None,
    target: Target | None,
    install_dir: str | None,
) -> Report:
    """The report of `cgocheck resolve`: one file, its resolution and the L/S findings."""
    check_floor(glibc_floor)
    root = open_root(sysroot)
    report = Report(command="resolve", target=target.name if target else None, sysroot=str(root.top))
    if glibc_floor:
        report.options["glibc_floor"] = glibc_floor
    if install_dir:
        report.options["install_dir"] = install_dir
    facts = read_elf(binary, dwarf=False)
    try:
        res = resolve_file(facts, root, glibc_floor=glibc_floor, target=target, install_dir=install_dir)
    except CgocheckError as err:
        report.errors.append(FileError(binary, f"resolve: {err.message}"))
        report.files.append(FileReport(facts=facts, findings=()))
        return report
    report.files.append(FileReport(facts=facts, findings=tuple(check_resolution(res)), resolution=res))
    return report
