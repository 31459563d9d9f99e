"""`cgocheck inspect`: facts for each ELF file and, with a target, findings; with a sysroot,
the resolution of its libraries and symbols too."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from cgocheck.checks import check_file
from cgocheck.core.errors import BadInput, shown
from cgocheck.core.targets import Target
from cgocheck.elf import read_elf, sniff
from cgocheck.results import FileError, FileReport, Report

MAX_WALK_FILES = 100_000


@dataclass(frozen=True)
class InspectOptions:
    target: Target | None = None
    expect_cgo: bool = True
    dwarf: bool = True
    sysroot: str | None = None


def expand_inputs(paths: list[str], errors: list[FileError]) -> Iterator[str]:
    """Files as given; directories walked (links not followed) for ELF files only."""
    for p in paths:
        try:
            st = os.stat(p)
        except FileNotFoundError:
            errors.append(FileError(p, f"{shown(p)}: no such file (or a dangling link)"))
            continue
        except OSError as exc:
            errors.append(FileError(p, f"{shown(p)}: {exc.strerror or 'cannot stat'}"))
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield p
            continue
        found = 0
        for root, dirs, files in os.walk(p, onerror=None):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                try:
                    if not stat.S_ISREG(os.lstat(full).st_mode):
                        continue
                    with open(full, "rb") as f:
                        head = f.read(4)
                except OSError:
                    continue
                if sniff(head) is None:
                    found += 1
                    yield full
                    if found >= MAX_WALK_FILES:
                        return
        if not found:
            errors.append(FileError(p, f"{shown(p)}: is a directory with no ELF files in it"))


def inspect_paths(paths: list[str], opts: InspectOptions) -> Report:
    report = Report(command="inspect", target=opts.target.name if opts.target else None, sysroot=opts.sysroot)
    for path in expand_inputs(paths, report.errors):
        try:
            facts = read_elf(path, dwarf=opts.dwarf)
        except BadInput as err:
            report.errors.append(FileError(path, err.message))
            continue
        found = check_file(facts, opts.target, expect_cgo=opts.expect_cgo, sysroot=opts.sysroot)
        report.files.append(FileReport(facts=facts, findings=tuple(found)))
    return report


def inspect(
    paths: list[str],
    *,
    target: Target | None = None,
    sysroot: str | None = None,
    glibc_floor: str | None = None,
    glibcxx_floor: str | None = None,
    expect_cgo: bool = True,
    dwarf: bool = True,
) -> Report:
    """The report of `cgocheck inspect`: every file's facts and findings, resolved in
    SYSROOT when one is given (a missing sysroot is exit 3 before any file is read)."""
    from cgocheck.commands.resolve import add_resolution, open_root

    root = open_root(sysroot) if sysroot else None
    report = inspect_paths(paths, InspectOptions(target=target, expect_cgo=expect_cgo, dwarf=dwarf))
    if root is not None:
        add_resolution(report, root, glibc_floor=glibc_floor, target=target, glibcxx_floor=glibcxx_floor)
    return report
