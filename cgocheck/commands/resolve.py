"""`cgocheck resolve`, and the resolution `inspect --sysroot` and `verify` add to their
reports: each file's libraries and symbol versions, bound inside a sysroot, and the L/S
findings about them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from cgocheck.checks import check_resolution
from cgocheck.core.errors import CgocheckError
from cgocheck.core.targets import Target
from cgocheck.elf import read_shared_object
from cgocheck.elf.model import ElfFacts, SharedObjectFacts
from cgocheck.elf.reader import read_elf_and_shared_object
from cgocheck.loader.model import Resolution
from cgocheck.loader.resolve import resolve
from cgocheck.results import FileError, FileReport, Report
from cgocheck.sysroot import require
from cgocheck.sysroot.fsroot import FsRoot


def open_root(value: str) -> FsRoot:
    """The sysroot a --sysroot value names, opened (missing: exit 3 with the way to make it)."""
    return FsRoot(require(value))


def resolve_file(
    facts: ElfFacts,
    root: FsRoot,
    *,
    glibc_floor: str | None,
    target: Target | None,
    install_dir: str | None = None,
    glibcxx_floor: str | None = None,
    exe: SharedObjectFacts | None = None,
) -> Resolution:
    if exe is None:
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
        glibcxx_floor=glibcxx_floor,
    )


def add_resolution(
    report: Report,
    root: FsRoot,
    *,
    glibc_floor: str | None,
    target: Target | None,
    install_dir: str | None = None,
    glibcxx_floor: str | None = None,
    exes: Mapping[str, SharedObjectFacts] | None = None,
) -> None:
    """Resolve every file of REPORT in ROOT; add the resolution and its findings. A file
    whose resolution fails (a hostile sysroot, say) becomes a report error. EXES: the files'
    own dynamic facts by path, where the caller has read them already."""
    report.sysroot = str(root.top)
    if glibc_floor:
        report.options["glibc_floor"] = glibc_floor
    if glibcxx_floor:
        report.options["glibcxx_floor"] = glibcxx_floor
    for i, fr in enumerate(list(report.files)):
        report.files[i], error = resolved_file(fr, root, glibc_floor=glibc_floor, target=target,
                                               install_dir=install_dir, glibcxx_floor=glibcxx_floor,
                                               exe=(exes or {}).get(fr.facts.path))
        if error is not None:
            report.errors.append(error)


def resolved_file(
    fr: FileReport,
    root: FsRoot,
    *,
    glibc_floor: str | None,
    target: Target | None,
    install_dir: str | None = None,
    glibcxx_floor: str | None = None,
    exe: SharedObjectFacts | None = None,
) -> tuple[FileReport, FileError | None]:
    """FR with its resolution in ROOT and the findings about it; or FR unchanged and the error
    of a resolution that failed (a hostile sysroot, say). EXE: the file's own dynamic facts,
    when the caller has read them already."""
    try:
        res = resolve_file(fr.facts, root, glibc_floor=glibc_floor, target=target, install_dir=install_dir,
                           glibcxx_floor=glibcxx_floor, exe=exe)
    except CgocheckError as err:
        return fr, FileError(fr.facts.path, f"resolve: {err.message}")
    return dataclasses.replace(fr, resolution=res, findings=(*fr.findings, *check_resolution(res))), None


def resolve_report(
    binary: str,
    sysroot: str,
    *,
    glibc_floor: str | None,
    target: Target | None,
    install_dir: str | None,
    glibcxx_floor: str | None = None,
) -> Report:
    """The report of `cgocheck resolve`: one file, its resolution and the L/S findings."""
    root = open_root(sysroot)
    report = Report(command="resolve", target=target.name if target else None, sysroot=str(root.top))
    if install_dir:
        report.options["install_dir"] = install_dir
    facts, exe = read_elf_and_shared_object(binary, dwarf=False)
    report.files.append(FileReport(facts=facts, findings=()))
    add_resolution(report, root, glibc_floor=glibc_floor, target=target, install_dir=install_dir,
                   glibcxx_floor=glibcxx_floor, exes={facts.path: exe})
    return report
