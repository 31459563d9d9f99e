"""L001-L004: the loader and the libraries a binary needs, as resolve found them in the sysroot. Pure."""

from __future__ import annotations

from cgocheck.checks.evidence import cap, file_of, searched
from cgocheck.core.rules import Finding, finding
from cgocheck.loader.model import Resolution


def check_libraries(res: Resolution) -> list[Finding]:
    out: list[Finding] = []
    lp = res.loader_problem
    if lp is not None:
        out.append(
            finding(
                "L004",
                f"the loader {lp.name} (PT_INTERP) {lp.detail}",
                evidence=[
                    f"PT_INTERP {lp.name}",
                    f"sysroot {res.sysroot}",
                    *(f"{c.path}: {c.reason}" for c in lp.candidates),
                ],
                file=res.binary,
            )
        )
    for m in res.missing_libraries:
        by = ", ".join(m.needed_by)
        if m.problem == "wrong-architecture":
            out.append(
                finding(
                    "L002",
                    f"{m.name} (needed by {by}) is only there for another architecture or ABI",
                    evidence=cap([f"{c.path}: {c.reason}" for c in m.candidates]),
                    file=file_of(res, m.needed_by[0]),
                )
            )
        elif m.problem == "unloadable":
            stop = m.candidates[-1].path if m.candidates else m.name
            out.append(
                finding(
                    "L003",
                    f"{m.name} (needed by {by}): the loader stops at {stop}: {m.detail}",
                    evidence=cap([f"{c.path}: {c.reason}" for c in m.candidates]),
                    file=file_of(res, m.needed_by[0]),
                )
            )
        else:
            unknown_origin = any("$ORIGIN of the executable is unknown" in n for n in res.notes)
            out.append(
                finding(
                    "L001",
                    f"{m.name} (needed by {by}) is not in the sysroot's library search path"
                    + (
                        " (run paths using the executable's $ORIGIN were not searched: pass --install-dir)"
                        if unknown_origin
                        else ""
                    ),
                    evidence=cap([*searched(m.searched), *(f"{c.path}: {c.reason}" for c in m.candidates)]),
                    file=file_of(res, m.needed_by[0]),
                )
            )
    return out
