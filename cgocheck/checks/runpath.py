"""DT_RPATH / DT_RUNPATH checks."""

from __future__ import annotations

from cgocheck.core.hostdirs import host_reason, norm, target_default_dirs
from cgocheck.core.rules import Finding, finding
from cgocheck.core.targets import Target
from cgocheck.elf.model import ElfFacts


def check_runpaths(facts: ElfFacts, target: Target | None, *, sysroot: str | None = None) -> list[Finding]:
    out: list[Finding] = []
    triplet = target.triplet if target else None
    defaults = target_default_dirs(triplet) if triplet else ()
    for tag, paths in (("DT_RPATH", facts.rpath), ("DT_RUNPATH", facts.runpath)):
        for p in paths:
            if not p.startswith("/"):
                continue  # $ORIGIN-relative or relative: follows the binary
            reason = host_reason(p, target_triplet=triplet, sysroot=sysroot)
            if reason:
                out.append(finding("R002", f"{tag} {p} is {reason}", evidence=[f"{tag} {p}"], file=facts.path))
            elif norm(p) not in defaults:
                out.append(finding("R001", f"{tag} {p} is an absolute path", evidence=[f"{tag} {p}"], file=facts.path))
    if facts.rpath and not facts.runpath:
        out.append(finding("R003", "DT_RPATH is used", evidence=[f"DT_RPATH {':'.join(facts.rpath)}"], file=facts.path))
    return out
