"""P001-P004: what pkg-config answered the build, against the sysroot. Pure."""

from __future__ import annotations

from cgocheck.build.record import BuildRecord
from cgocheck.core.rules import Finding, finding


def check_pkgconfig(record: BuildRecord) -> list[Finding]:
    out: list[Finding] = []
    sysroot = record.sysroot
    confined_reported = False
    for m in record.pkgconfig:
        how = " (asked again by cgocheck: the package came from Go's cache)" if m.replayed else ""
        if sysroot and m.pc_path and m.in_sysroot is False:
            out.append(
                finding(
                    "P001",
                    f"pkg-config answered {m.module} from {m.pc_path}, outside the sysroot{how}",
                    evidence=[f"{m.module} {m.version} from {m.pc_path}"],
                )
            )
        if sysroot and m.version and m.version != m.sysroot_version:
            have = f"the sysroot has {m.sysroot_version} ({m.sysroot_pc})" if m.sysroot_pc else "the sysroot has none"
            out.append(
                finding(
                    "P002",
                    f"{m.module} {m.version} was used, {have}",
                    evidence=[f"{m.module} {m.version} from {m.pc_path}"],
                )
            )
        if m.drift:
            out.append(
                finding(
                    "P003",
                    f"{m.module}: {m.drift}",
                    evidence=[f"sysroot {m.sysroot_pc}", f"host {m.host_pc}"],
                )
            )
        env = dict(m.env)
        if sysroot and not confined_reported:
            problems = []
            if not env.get("PKG_CONFIG_LIBDIR"):
                problems.append("PKG_CONFIG_LIBDIR unset: the host's default .pc folders are searched")
            elif any(not d.startswith(sysroot) for d in env["PKG_CONFIG_LIBDIR"].split(":") if d):
                problems.append(f"PKG_CONFIG_LIBDIR={env['PKG_CONFIG_LIBDIR']} reaches outside the sysroot")
            if any(d and not d.startswith(sysroot) for d in env.get("PKG_CONFIG_PATH", "").split(":")):
                problems.append(f"PKG_CONFIG_PATH={env['PKG_CONFIG_PATH']} reaches outside the sysroot")
            if not env.get("PKG_CONFIG_SYSROOT_DIR"):
                problems.append("PKG_CONFIG_SYSROOT_DIR unset: -I/-L from the sysroot's .pc files name host paths")
            if problems:
                confined_reported = True
                out.append(finding("P004", "; ".join(problems), evidence=[f"{k}={v}" for k, v in sorted(env.items())]))
    return out


