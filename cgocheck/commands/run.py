"""`cgocheck run BINARY --sysroot S [-- ARGS]`, and the run step `verify --run` and `cgocheck
test` add to their reports: each file run under the target's own loader inside the sysroot
(cgocheck.loader.runner), its ProgramRun in ``Report.runs`` and its D findings
(cgocheck.checks.dynamic) beside the file's static ones.

A run never starts for a binary of another machine than the sysroot's (refused up front,
exit 2), nor without the qemu-user binary that runs the target (exit 3, with the package)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cgocheck.checks import check_file, check_run
from cgocheck.commands.resolve import add_resolution, open_root
from cgocheck.core.errors import BadInput, CgocheckError
from cgocheck.core.targets import Target
from cgocheck.elf import read_elf
from cgocheck.elf.model import ElfFacts
from cgocheck.loader.runmodel import ProgramRun
from cgocheck.loader.runner import RunSpec, refuse_foreign, run_file
from cgocheck.results import FileReport, Report
from cgocheck.sysroot.fsroot import FsRoot


@dataclasses.dataclass(frozen=True)
class SysrootView:
    """What a run needs to know of the sysroot (cgocheck.sysroot.info, read once)."""

    machine: str | None
    elf_class: int | None
    flavour: str  # glibc | musl
    loader: str | None  # guest path of its loader, links followed


def sysroot_view(root: FsRoot) -> SysrootView:
    from cgocheck.sysroot.info import inspect_sysroot

    try:
        info = inspect_sysroot(root.top)
    except CgocheckError:
        return SysrootView(None, None, "glibc", None)
    return SysrootView(info.machine, info.elf_class, info.libc or "glibc", info.loader_target)


RunOne = Callable[[FileReport, FsRoot, RunSpec, SysrootView], ProgramRun]


def run_one(fr: FileReport, root: FsRoot, spec: RunSpec, view: SysrootView) -> ProgramRun:
    run, _ = run_file(fr.facts, root, spec, resolution=fr.resolution, flavour=view.flavour,
                      sysroot_loader=view.loader)
    return run


def add_runs(
    report: Report,
    root: FsRoot,
    spec_for: Callable[[FileReport], RunSpec | None],
    *,
    runner: RunOne = run_one,
) -> None:
    """Run every file of REPORT that SPEC_FOR gives a spec for; add its run and D findings.
    A file for another machine than the sysroot's is not run (its A findings say why)."""
    view = sysroot_view(root)
    for i, fr in enumerate(list(report.files)):
        spec = spec_for(fr)
        if spec is None:
            continue
        try:
            refuse_foreign(fr.facts, view.machine, view.elf_class, str(root.top))
        except BadInput as err:
            report.notes.append(f"not run: {err.message}")
            continue
        run = runner(fr, root, spec, view)
        report.runs.append(run)
        report.files[i] = dataclasses.replace(fr, findings=(*fr.findings, *check_run(run, fr.resolution)))


def _refuse_target(facts: ElfFacts, target: Target) -> None:
    a, h = target.arch, facts.header
    if (h.machine, h.elf_class, h.endian) != (a.machine, a.elf_class, a.endian):
        raise BadInput(f"{facts.path} is a {h.elf_class}-bit {h.endian}-endian {h.machine} binary, not for "
                       f"{target.name} ({a.machine}): it cannot run as one")


def run_report(
    binary: str,
    sysroot: str,
    spec: RunSpec,
    *,
    target: Target | None,
    glibc_floor: str | None,
    glibcxx_floor: str | None = None,
) -> Report:
    """The report of `cgocheck run`: the file's facts and findings (A/G/R with a target),
    its resolution (L/S), its run under the target's loader and the D findings."""
    spec.check()
    root = open_root(sysroot)
    facts = read_elf(binary)
    view = sysroot_view(root)
    refuse_foreign(facts, view.machine, view.elf_class, sysroot)
    if target is not None:
        _refuse_target(facts, target)
    report = Report(command="run", target=target.name if target else None, sysroot=str(root.top))
    report.options.update({"args": list(spec.args), "timeout": spec.timeout, "max_output": spec.max_output,
                           "bindings": spec.bindings, "env": dict(spec.env)})
    report.files.append(FileReport(facts=facts, findings=tuple(check_file(facts, target))))
    add_resolution(report, root, glibc_floor=glibc_floor, target=target, glibcxx_floor=glibcxx_floor)
    add_runs(report, root, lambda fr: spec)
    return report
