"""Library and symbol checks: pure functions from a Resolution to findings (L and S rules)."""

from __future__ import annotations

from collections import defaultdict

from cgocheck.core.rules import Finding, finding
from cgocheck.loader.model import SHIPPED_VIA, Resolution, SearchStep

MAX_EVIDENCE = 20


def _cap(items: list[str]) -> list[str]:
    if len(items) <= MAX_EVIDENCE:
        return items
    return [*items[:MAX_EVIDENCE], f"... and {len(items) - MAX_EVIDENCE} more"]


def _searched(steps: tuple[SearchStep, ...]) -> list[str]:
    return [f"searched {s.dir} ({s.rule}{' of ' + s.source if s.source else ''})" for s in steps]


def _file(res: Resolution, label: str) -> str:
    return res.binary if label == res.binary else label


def check_resolution(res: Resolution) -> list[Finding]:
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
                    evidence=_cap([f"{c.path}: {c.reason}" for c in m.candidates]),
                    file=_file(res, m.needed_by[0]),
                )
            )
        elif m.problem == "unloadable":
            stop = m.candidates[-1].path if m.candidates else m.name
            out.append(
                finding(
                    "L003",
                    f"{m.name} (needed by {by}): the loader stops at {stop}: {m.detail}",
                    evidence=_cap([f"{c.path}: {c.reason}" for c in m.candidates]),
                    file=_file(res, m.needed_by[0]),
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
                    evidence=_cap([*_searched(m.searched), *(f"{c.path}: {c.reason}" for c in m.candidates)]),
                    file=_file(res, m.needed_by[0]),
                )
            )

    for mv in res.missing_versions:
        newest = f"; it has up to {mv.newest[-1]}" if mv.newest else ""
        out.append(
            finding(
                "S002",
                f"version `{mv.version}' not found in {mv.library} ({mv.provider_path}{newest})"
                f" (required by {mv.requester})",
                evidence=_cap([f"{s}@{mv.version}" for s in mv.symbols]) or [f"Verneed {mv.library} {mv.version}"],
                file=_file(res, mv.requester),
            )
        )

    unresolved: dict[str, list[str]] = defaultdict(list)
    details: dict[str, list[str]] = defaultdict(list)
    for u in res.unresolved_symbols:
        if u.cause in ("missing-library", "missing-version"):
            continue  # L001-L003 or S002 already say why
        unresolved[u.requester].append(f"{u.symbol}@{u.version}" if u.version else u.symbol)
        details[u.requester].append(f"{u.symbol}: {u.detail}")
    for req, syms in unresolved.items():
        out.append(
            finding(
                "S001",
                f"{len(syms)} undefined symbol(s) of {req} bind to nothing in the sysroot: {', '.join(syms[:8])}"
                + (" ..." if len(syms) > 8 else ""),
                evidence=_cap(details[req]),
                file=_file(res, req),
            )
        )

    g = res.glibc
    if g.above_floor and g.required:
        out.append(
            finding(
                "S003",
                f"needs {g.required}, newer than the glibc floor {g.floor}, "
                f"because of {', '.join(g.forcing) or 'its Verneed'}",
                evidence=_cap([f"{s}@{g.required}" for s in g.forcing]),
                file=res.binary,
            )
        )

    compat: dict[tuple[str, str], list[str]] = defaultdict(list)
    for b in res.bindings:
        if b.default is False and b.version is not None:
            compat[(b.requester, b.provider)].append(f"{b.symbol}@{b.provider_version}")
    for (req, prov), syms in compat.items():
        out.append(
            finding(
                "S004",
                f"{req} binds {len(syms)} symbol(s) to non-default versions in {prov}: {', '.join(syms[:6])}"
                + (" ..." if len(syms) > 6 else ""),
                evidence=_cap(syms),
                file=_file(res, req),
            )
        )

    # Only the application's weak references: the system libraries' (libc's hooks for
    # libpthread, gmon...) are the distribution's business and always unresolved.
    app = {res.binary} | {lib.name for lib in res.libraries if lib.found_via in SHIPPED_VIA}
    weak: dict[str, list[str]] = defaultdict(list)
    for u in res.weak_unresolved:
        if u.requester not in app:
            continue
        weak[u.requester].append(f"{u.symbol}@{u.version}" if u.version else u.symbol)
    for req, syms in weak.items():
        out.append(
            finding(
                "S005",
                f"{len(syms)} weak undefined symbol(s) of {req} stay NULL: {', '.join(syms[:8])}"
                + (" ..." if len(syms) > 8 else ""),
                evidence=_cap(syms),
                file=_file(res, req),
            )
        )

    for ip in res.interpositions:
        out.append(
            finding(
                "S006",
                f"{ip.symbol} defined by the executable interposes the definition in {', '.join(ip.shadowed)}",
                evidence=[f"{ip.executable}: {ip.symbol}", *(f"{s}: {ip.symbol}" for s in ip.shadowed)],
                file=res.binary,
            )
        )

    for nv in res.no_version_info:
        out.append(
            finding(
                "S007",
                f"{nv.library} ({nv.provider_path}) defines no symbol versions but {nv.requester} requires "
                f"{', '.join(nv.versions)} from it (no version information available)",
                evidence=[f"Verneed {nv.library} {v}" for v in nv.versions],
                file=_file(res, nv.requester),
            )
        )

    private: dict[str, list[str]] = defaultdict(list)
    for p in res.private_refs:
        private[p.requester].append(p.symbol)
    for req, syms in private.items():
        out.append(
            finding(
                "S008",
                f"{req} uses glibc-internal GLIBC_PRIVATE symbols: {', '.join(sorted(set(syms)))}",
                evidence=_cap([f"{s}@GLIBC_PRIVATE" for s in sorted(set(syms))]),
                file=_file(res, req),
            )
        )
    return out
