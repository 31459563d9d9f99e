"""H001-H003: include folders, library folders and headers of the build host in a cross build. Pure."""

from __future__ import annotations

from cgocheck.build.record import HOST, INCLUDE_FLAGS, BuildRecord
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


