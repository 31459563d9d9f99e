"""`cgocheck inspect`: facts for each ELF file and, with a target, findings; with a sysroot,
the resolution of its libraries and symbols too."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cgocheck.checks import check_file
from cgocheck.core.errors import BadInput, shown
from cgocheck.elf import read_elf, sniff
from cgocheck.results import FileError, FileReport, Report

if TYPE_CHECKING:
    from cgocheck.core.targets import Target
    from cgocheck.sysroot.fsroot import FsRoot

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


PARALLEL_MIN_FILES = 24  # fewer files than this are read in this process: a pool costs more
CHUNK = 8  # files a worker takes at a time, at least (results come back in the files' order regardless)


@dataclass(frozen=True)
class _Job:
    """What a worker needs to report on one file (picklable)."""

    opts: InspectOptions
    root: FsRoot | None = None
    glibc_floor: str | None = None
    glibcxx_floor: str | None = None


Outcome = tuple[FileReport | FileError, FileError | None]  # the file's report or error, a resolve error


def _one(job: _Job, path: str) -> Outcome:
    """One file: its facts and findings and, with a sysroot, its resolution (as add_resolution
    does it); a file that cannot be read is a FileError, as is a resolution that fails."""
    opts = job.opts
    try:
        if job.root is None:
            facts, exe = read_elf(path, dwarf=opts.dwarf), None
        else:
            from cgocheck.elf.reader import read_elf_and_shared_object

            facts, exe = read_elf_and_shared_object(path, dwarf=opts.dwarf)
    except BadInput as err:
        return FileError(path, err.message), None
    found = check_file(facts, opts.target, expect_cgo=opts.expect_cgo, sysroot=opts.sysroot)
    fr = FileReport(facts=facts, findings=tuple(found))
    if job.root is None:
        return fr, None
    from cgocheck.commands.resolve import resolved_file

    return resolved_file(fr, job.root, glibc_floor=job.glibc_floor, target=opts.target,
                         glibcxx_floor=job.glibcxx_floor, exe=exe)


_JOB: _Job | None = None  # the job of a pool worker (set by _init in each worker)


def _init(job: _Job) -> None:
    global _JOB
    _JOB = job


def _work(path: str) -> Outcome:
    assert _JOB is not None
    return _one(_JOB, path)


def workers() -> int:
    """How many processes read files: ``CGOCHECK_JOBS`` when set (1: none but this one),
    else the CPUs this process may run on."""
    env = os.environ.get("CGOCHECK_JOBS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _outcomes(job: _Job, paths: list[str], jobs: int | None) -> Iterator[Outcome]:
    """Each file's outcome, in the order of PATHS: in a process pool when there are enough
    files and CPUs (fork where nothing else runs in this process, else forkserver), else here."""
    n = workers() if jobs is None else jobs
    n = min(n, max(1, len(paths) // CHUNK))
    if n <= 1 or len(paths) < PARALLEL_MIN_FILES:
        for path in paths:
            yield _one(job, path)
        return
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and threading.active_count() == 1 else "forkserver"
    if method not in methods:
        method = "spawn"
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init, initargs=(job,)) as pool:
        # chunks large enough to keep the hand-over cheap, small enough to share the tail out
        yield from pool.map(_work, paths, chunksize=max(CHUNK, min(64, len(paths) // (n * 8))))


def inspect_paths(
    paths: list[str],
    opts: InspectOptions,
    *,
    root: FsRoot | None = None,
    glibc_floor: str | None = None,
    glibcxx_floor: str | None = None,
    jobs: int | None = None,
) -> Report:
    """The facts and findings of every file PATHS name (folders walked), resolved in ROOT when
    given. Many files are read by a process pool (``jobs`` workers; default: one per CPU);
    the report is the same whatever the number: files and errors in the order of the walk,
    resolution errors after the read errors, as add_resolution gives them."""
    report = Report(command="inspect", target=opts.target.name if opts.target else None, sysroot=opts.sysroot)
    items: list[str | FileError] = []
    walk_errors: list[FileError] = []
    for path in expand_inputs(paths, walk_errors):
        items.extend(walk_errors)
        walk_errors.clear()
        items.append(path)
    items.extend(walk_errors)
    files = [x for x in items if isinstance(x, str)]
    job = _Job(opts, root, glibc_floor, glibcxx_floor)
    outcome = dict(zip(range(len(files)), _outcomes(job, files, jobs), strict=True))
    resolve_errors: list[FileError] = []
    i = 0
    for item in items:
        if isinstance(item, FileError):
            report.errors.append(item)
            continue
        got, resolve_error = outcome[i]
        i += 1
        if isinstance(got, FileError):
            report.errors.append(got)
        else:
            report.files.append(got)
        if resolve_error is not None:
            resolve_errors.append(resolve_error)
    if root is not None:
        report.sysroot = str(root.top)
        if glibc_floor:
            report.options["glibc_floor"] = glibc_floor
        if glibcxx_floor:
            report.options["glibcxx_floor"] = glibcxx_floor
        report.errors.extend(resolve_errors)
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
    jobs: int | None = None,
) -> Report:
    """The report of `cgocheck inspect`: every file's facts and findings, resolved in
    SYSROOT when one is given (a missing sysroot is exit 3 before any file is read).
    Without one, nothing of the loader, the sysroots or `cgocheck resolve` is imported."""
    root = None
    if sysroot:
        from cgocheck.commands.resolve import open_root

        root = open_root(sysroot)
    return inspect_paths(paths, InspectOptions(target=target, expect_cgo=expect_cgo, dwarf=dwarf), root=root,
                         glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor, jobs=jobs)
