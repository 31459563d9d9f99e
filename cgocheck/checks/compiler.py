"""C001-C004: the C compiler and what it produced, against the target. Pure."""

from __future__ import annotations

from cgocheck.build.record import BuildRecord, PrebuiltObject
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


def check_prebuilt(record: BuildRecord, target: Target) -> list[Finding]:
    """C004: every prebuilt object the link took that is for another machine or ABI."""
    out: list[Finding] = []
    for o in record.prebuilt:
        why = _prebuilt_problem(o, target)
        if why:
            name = f"{o.path}({o.member})" if o.member else o.path
            out.append(finding("C004", f"{name} is {why}", evidence=[f"{name} via {o.source}"]))
    return out


def check_c_units(record: BuildRecord, facts: ElfFacts | None) -> list[Finding]:
    """C003: cgo is linked in but no C unit carries DWARF."""
    if facts is not None and facts.go is not None and facts.go.cgo_linked and not record.c_units:
        return [finding("C003", "no C unit in the binary carries DWARF", evidence=[facts.path])]
    return []
