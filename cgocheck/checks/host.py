"""H001-H003: include folders, library folders and headers of the build host in a cross build. Pure."""

from __future__ import annotations

from cgocheck.build.record import HOST, INCLUDE_FLAGS, SYSROOT, BuildRecord
from cgocheck.core.rules import Finding, finding


def check_paths(record: BuildRecord) -> list[Finding]:
    out: list[Finding] = []
    for use in record.paths:
        if use.klass != HOST:
            continue
        where = "; ".join(use.sources)
        if use.flag in INCLUDE_FLAGS or (use.flag == "--sysroot" and any("compile" in s for s in use.sources)):
            out.append(
                finding(
                    "H001",
                    f"{use.flag} {use.path} is {use.reason}",
                    evidence=[f"{use.flag} {use.path} from {where}"],
                )
            )
        elif use.flag in ("-L", "-rpath-link", "library", "--sysroot"):
            out.append(
                finding(
                    "H002",
                    f"{use.flag} {use.path} is {use.reason}",
                    evidence=[f"{use.flag} {use.path} from {where}"],
                )
            )
        elif use.flag == "header":
            out.append(
                finding(
                    "H003",
                    f"C code read {use.path}, {use.reason}",
                    evidence=[f"{use.path} in {where}"],
                )
            )
    return out




def _newer(a: str | None, b: str | None) -> bool:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split(".") if x.isdigit())

    return bool(a and b and key(a) > key(b))


def check_headers(record: BuildRecord) -> list[Finding]:
    """H004: libc or libstdc++ headers read from outside the sysroot (the cross toolchain's,
    another folder's), or of another release than the sysroot's: an error when newer than
    the sysroot's (the C code expects what the device's library does not have), a warning
    otherwise. The build host's own folders are H003's."""
    if not record.sysroot:
        return []
    out: list[Finding] = []
    for h in record.headers:
        if h.klass in (SYSROOT, HOST) and h.version == h.sysroot_version:
            continue
        if h.klass == HOST:
            continue
        theirs = f"{h.library} {h.version}" if h.version else f"{h.library} (release not stated in them)"
        ours = f"{h.library} {h.sysroot_version}" if h.sysroot_version else f"no {h.library} headers"
        where = "the sysroot" if h.klass == SYSROOT else f"{h.folder} ({h.klass}, not the sysroot)"
        severity = "error" if _newer(h.version, h.sysroot_version) or h.sysroot_version is None else "warning"
        out.append(
            finding(
                "H004",
                f"{h.units} C unit(s) were compiled against {theirs} headers from {where}; the sysroot has {ours}",
                evidence=list(h.headers),
                severity=severity,
            )
        )
    return out
