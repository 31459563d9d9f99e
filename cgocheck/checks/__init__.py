"""Checks: pure functions from facts (ElfFacts, a Resolution, a BuildRecord) and a target to
findings, one module per rule family (docs/rules.md names each rule's check):

==========  ============================================  ==========================
family      what it checks                                module
==========  ============================================  ==========================
A           ELF header and ABI against the target         checks/abi.py
G           Go build settings (buildinfo, cgo, linking)   checks/gobuild.py
R           run paths (DT_RPATH/DT_RUNPATH)               checks/runpath.py
L           the loader and the libraries, in a sysroot    checks/libraries.py
S           symbol versions and bindings, in a sysroot    checks/symbols.py
P           pkg-config's answers                          checks/pkgconfig.py
H           the build host's folders and headers          checks/host.py
C           the C compiler and prebuilt objects           checks/compiler.py
B           the build and the shell it runs in            checks/build.py
D           the target's own loader, run in the sysroot   checks/dynamic.py
==========  ============================================  ==========================

The functions below are what the commands call; each runs its families in a fixed
order, so reports list findings the same way every time. Only the families of check_file
are imported with the package: the others (and the loader and build models they read)
when their function is first called, so that a plain `cgocheck inspect` imports neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cgocheck.checks.abi import check_abi
from cgocheck.checks.gobuild import check_go
from cgocheck.checks.runpath import check_runpaths
from cgocheck.core.rules import Finding

if TYPE_CHECKING:
    from cgocheck.build.record import BuildRecord
    from cgocheck.core.targets import Target
    from cgocheck.elf.model import ElfFacts
    from cgocheck.loader.model import Resolution
    from cgocheck.loader.runmodel import ProgramRun

__all__ = ["check_file", "check_record", "check_resolution", "check_run"]


def check_file(
    facts: ElfFacts, target: Target | None, *, expect_cgo: bool = True, sysroot: str | None = None
) -> list[Finding]:
    """A, G and R: one file's own facts (A and G need a target)."""
    out: list[Finding] = []
    if target is not None:
        out += check_abi(facts, target)
        out += check_go(facts, target, expect_cgo=expect_cgo)
    out += check_runpaths(facts, target, sysroot=sysroot)
    return out


def check_resolution(res: Resolution) -> list[Finding]:
    """L and S: what the loader would find and bind in the sysroot."""
    from cgocheck.checks.libraries import check_libraries
    from cgocheck.checks.symbols import check_symbols

    return [*check_libraries(res), *check_symbols(res)]


def check_record(record: BuildRecord, facts: ElfFacts | None, target: Target) -> list[Finding]:
    """B, C, H and P: one verify build's record (and the result's facts)."""
    from cgocheck.checks.build import check_build, check_static_nss
    from cgocheck.checks.compiler import check_c_units, check_compiler, check_prebuilt
    from cgocheck.checks.host import check_headers, check_paths
    from cgocheck.checks.pkgconfig import check_pkgconfig

    return [
        *check_build(record),
        *check_compiler(record, target, facts),
        *check_paths(record),
        *check_headers(record),
        *check_pkgconfig(record),
        *check_prebuilt(record, target),
        *check_static_nss(record, facts, target),
        *check_c_units(record, facts),
    ]


def check_run(run: ProgramRun, res: Resolution | None) -> list[Finding]:
    """D findings of one run; RES is resolve's verdict on the same file in the same sysroot
    (cgocheck.checks.dynamic.check_run)."""
    from cgocheck.checks.dynamic import check_run as check

    return check(run, res)
