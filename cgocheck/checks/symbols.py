"""S001-S010: symbol versions and bindings, as resolve bound them in the sysroot. Pure."""

from __future__ import annotations

from collections import defaultdict

from cgocheck.checks.evidence import cap, file_of
from cgocheck.core.rules import Finding, finding
from cgocheck.loader.model import SHIPPED_VIA, Resolution


def check_symbols(res: Resolution) -> list[Finding]:
    out: list[Finding] = []
    for mv in res.missing_versions:
        newest = f"; it has up to {mv.newest[-1]}" if mv.newest else ""
        out.append(
            finding(
                "S002",
                f"version `{mv.version}' not found in {mv.library} ({mv.provider_path}{newest})"
                f" (required by {mv.requester})",
                evidence=cap([f"{s}@{mv.version}" for s in mv.symbols]) or [f"Verneed {mv.library} {mv.version}"],
                file=file_of(res, mv.requester),
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
                evidence=cap(details[req]),
                file=file_of(res, req),
            )
        )

    g = res.glibc
    if g.above_floor and g.required:
        out.append(
            finding(
                "S003",
                f"needs {g.required}, newer than the glibc floor {g.floor}, "
                f"because of {', '.join(g.forcing) or 'its Verneed'}",
                evidence=cap([f"{s}@{g.required}" for s in g.forcing]),
                file=res.binary,
            )
        )

    cxx = res.glibcxx
    if cxx is not None and cxx.above_floor and cxx.required:
        out.append(
            finding(
                "S009",
                f"needs {cxx.required}, newer than the libstdc++ floor GLIBCXX_{cxx.floor}, "
                f"because of {', '.join(cxx.forcing) or 'its Verneed'}",
                evidence=cap([f"{s}@{cxx.required}" for s in cxx.forcing]),
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
                evidence=cap(syms),
                file=file_of(res, req),
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
                evidence=cap(syms),
                file=file_of(res, req),
            )
        )

    # Strong references no relocation names and nothing defines: the loader never looks them
    # up, so not S001 (an error) but a note, for the application's own files as S005 is.
    unref: dict[str, list[str]] = defaultdict(list)
    for u in res.unreferenced_symbols:
        if u.requester in app and u.cause not in ("missing-library", "missing-version"):
            unref[u.requester].append(f"{u.symbol}@{u.version}" if u.version else u.symbol)
    for req, syms in unref.items():
        out.append(
            finding(
                "S010",
                f"{len(syms)} undefined symbol(s) of {req} that no dynamic relocation names are defined by no "
                f"loaded object; the loader never looks them up: {', '.join(syms[:8])}"
                + (" ..." if len(syms) > 8 else ""),
                evidence=cap(syms),
                file=file_of(res, req),
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
                file=file_of(res, nv.requester),
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
                evidence=cap([f"{s}@GLIBC_PRIVATE" for s in sorted(set(syms))]),
                file=file_of(res, req),
            )
        )
    return out
