"""Provenance checks: a BuildRecord (and the result's facts) against the target. Pure."""

from __future__ import annotations

from cgocheck.build.record import HOST, INCLUDE_FLAGS, BuildRecord, PrebuiltObject, static_nss_functions
from cgocheck.core.rules import Finding, finding
from cgocheck.core.targets import Target
from cgocheck.elf.model import ElfFacts

_ARCH_ALIASES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "i386": "i386",
    "i486": "i386",
    "i586": "i386",
    "i686": "i386",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "riscv64": "riscv64",
    "powerpc64le": "powerpc64le",
    "ppc64le": "powerpc64le",
    "s390x": "s390x",
    "mips64el": "mips64el",
}


def _norm_triplet(t: str) -> tuple[str, str]:
    """(arch, abi) of a triplet: 'armv7-unknown-linux-gnueabihf' -> ('arm', 'gnueabihf')."""
    parts = t.strip().split("-")
    arch = parts[0]
    arch = "arm" if arch.startswith("arm") and not arch.startswith("arm64") else _ARCH_ALIASES.get(arch, arch)
    abi = parts[-1].split(".")[0] if len(parts) >= 3 else ""  # zig: gnu.2.17
    if abi == "gnuabi64":
        abi = "gnu"
    return arch, abi


def compiler_matches(machine: str, target: Target, *, check_abi: bool = True) -> bool:
    got_arch, got_abi = _norm_triplet(machine)
    want_arch, want_abi = _norm_triplet(target.triplet)
    if got_arch != want_arch:
        return False
    return not (check_abi and got_abi and want_abi and got_abi != want_abi)


def check_compiler(record: BuildRecord, target: Target, facts: ElfFacts | None = None) -> list[Finding]:
    out: list[Finding] = []
    # a custom compiler may be a wrapper (musl-gcc) whose -dumpmachine names the gcc it wraps
    if record.cc_machine and not compiler_matches(record.cc_machine, target, check_abi=record.compiler != "custom"):
        out.append(
            finding(
                "C001",
                f"CC ({record.cc}) targets {record.cc_machine}, {target.name} needs {target.triplet}",
                evidence=[f"{record.cc} -dumpmachine: {record.cc_machine}"],
            )
        )
    want = record.expect_producer
    if want:
        accept = {"GNU": ("GNU",), "clang": ("clang", "zig")}.get(want, (want,))
        other = [u for u in record.c_units if u.origin != "prebuilt" and u.compiler not in (*accept, "unknown")]
        if other:
            seen = sorted({f"{u.compiler} {u.version or ''}".strip() for u in other})
            out.append(
                finding(
                    "C002",
                    f"declared {record.compiler} ({want}), but {len(other)} C unit(s) "
                    f"were produced by {', '.join(seen)}",
                    evidence=[f"{u.name}: {u.producer}" for u in other[:4]],
                )
            )
        elif not record.c_units and facts is not None and facts.comment:
            # no C DWARF (stripped, or -g dropped): .comment still names the compilers; crt
            # files from gcc put "GCC:" there in clang builds too, so only clang's mark counts
            clang = [c for c in facts.comment if "clang version" in c]
            if (want == "GNU" and clang) or (want == "clang" and not clang):
                out.append(
                    finding(
                        "C002",
                        f"declared {record.compiler} ({want}), but .comment says otherwise",
                        evidence=[f".comment: {' | '.join(facts.comment)}"],
                    )
                )
    return out


def _prebuilt_problem(o: PrebuiltObject, facts_target: Target) -> str | None:
    arch = facts_target.arch
    if o.machine_code != arch.machine_code:
        return f"e_machine {o.machine_code}, the target's is {arch.machine_code} ({arch.machine})"
    if o.elf_class != arch.elf_class:
        return f"{o.elf_class}-bit, the target is {arch.elf_class}-bit"
    if o.endian != arch.endian:
        return f"{o.endian}-endian, the target is {arch.endian}-endian"
    if arch.machine == "EM_ARM":
        hard = bool(o.flags & 0x400)
        soft = bool(o.flags & 0x200)
        if arch.float_abi == "soft" and hard:
            return f"hard-float (e_flags 0x{o.flags:08x}) on a soft-float target"
        if arch.float_abi == "hard" and soft:
            return f"soft-float (e_flags 0x{o.flags:08x}) on a hard-float target"
        if arch.float_abi == "soft" and o.vfp_args == "VFP registers":
            return "hard-float (Tag_ABI_VFP_args: VFP registers) on a soft-float target"
        if arch.float_abi == "hard" and o.vfp_args == "AAPCS (base)":
            return "soft-float (Tag_ABI_VFP_args: AAPCS (base)) on a hard-float target"
    return None


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


def check_record(record: BuildRecord, facts: ElfFacts | None, target: Target) -> list[Finding]:
    """Every provenance finding for one verify build."""
    out: list[Finding] = []
    if not record.ok:
        tail = [line for line in record.log_tail.splitlines() if line.strip()][-6:]
        if record.timed_out:
            what = f"go build did not finish in time: stopped after {record.seconds:.0f} s (--timeout)"
        else:
            what = f"go build exited {record.returncode}"
        out.append(finding("B001", what, evidence=tail))
    if record.extra_env or record.unset:
        ev = [f"{k}={v}" for k, v in record.extra_env] + [f"unset {k}" for k in record.unset]
        out.append(finding("B003", "the hermetic environment was changed on request", evidence=ev))
    out += check_compiler(record, target, facts)
    out += check_paths(record)
    out += check_pkgconfig(record)
    for o in record.prebuilt:
        why = _prebuilt_problem(o, target)
        if why:
            name = f"{o.path}({o.member})" if o.member else o.path
            out.append(finding("C004", f"{name} is {why}", evidence=[f"{name} via {o.source}"]))
    nss = static_nss_functions(record.linker_warnings)
    static = facts.static if facts is not None else any("-static" in w for w in record.go_flags)
    if nss and static and target.libc == "glibc":
        out.append(
            finding(
                "B002",
                f"static glibc binary calls {', '.join(nss)}: needs the NSS modules of the glibc it was linked with",
                evidence=[w for w in record.linker_warnings if "statically linked" in w][:4],
            )
        )
    if facts is not None and facts.go is not None and facts.go.cgo_linked and not record.c_units:
        out.append(finding("C003", "no C unit in the binary carries DWARF", evidence=[facts.path]))
    return out
