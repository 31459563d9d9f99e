"""ELF header and ABI checks against a target."""

from __future__ import annotations

from cgocheck.core.rules import Finding, finding
from cgocheck.core.targets import Target, targets_for_machine
from cgocheck.elf.decode import CPU_ARCH_LEVEL, arm_eabi_version
from cgocheck.elf.model import ElfFacts

MUSL_LIBC_PREFIX = "libc.musl-"
GLIBC_LOADER_MARKERS = ("ld-linux", "ld64.so", "/ld.so.1")


def _libc_flavour(facts: ElfFacts) -> tuple[str | None, list[str]]:
    """What C library the file is linked against, from its loader, NEEDED and versions."""
    evidence: list[str] = []
    flavour = None
    if facts.interpreter:
        if "ld-musl-" in facts.interpreter:
            flavour = "musl"
        elif any(m in facts.interpreter for m in GLIBC_LOADER_MARKERS):
            flavour = "glibc"
        evidence.append(f"PT_INTERP {facts.interpreter}")
    glibc_versions = [v for n in facts.verneed for v in n.versions if v.startswith("GLIBC_")]
    if glibc_versions:
        flavour = flavour or "glibc"
        if flavour == "musl":
            flavour = "mixed"
        evidence.append(f"needs glibc symbol versions ({', '.join(sorted(set(glibc_versions))[:4])})")
    musl_needed = [n for n in facts.needed if n.startswith(MUSL_LIBC_PREFIX)]
    if musl_needed:
        flavour = "musl" if flavour in (None, "musl") else "mixed"
        evidence.append(f"DT_NEEDED {musl_needed[0]}")
    return flavour, evidence


def check_abi(facts: ElfFacts, target: Target) -> list[Finding]:
    out: list[Finding] = []
    h = facts.header
    arch = target.arch
    f = facts.path
    if h.file_type not in ("exec", "pie", "shared"):
        out.append(finding("A010", f"file type is {h.file_type}", evidence=[f"e_type {h.file_type}"], file=f))
    if h.machine != arch.machine:
        guess = ", ".join(a.name for a in targets_for_machine(h.machine)) or "no known target"
        out.append(
            finding(
                "A001",
                f"e_machine is {h.machine} ({guess}), the target {target.name} needs {arch.machine}",
                evidence=[f"e_machine {h.machine_code} {h.machine}"],
                file=f,
            )
        )
        return out  # class, endianness and flags mean nothing on another machine
    if h.elf_class != arch.elf_class:
        out.append(
            finding(
                "A002",
                f"ELF class is {h.elf_class}-bit, target is {arch.elf_class}-bit",
                evidence=[f"EI_CLASS ELFCLASS{h.elf_class}"],
                file=f,
            )
        )
    if h.endian != arch.endian:
        out.append(
            finding(
                "A003",
                f"byte order is {h.endian}-endian, target is {arch.endian}-endian",
                evidence=[f"EI_DATA {h.endian}"],
                file=f,
            )
        )
    if arch.machine == "EM_ARM":
        eabi = arm_eabi_version(h.flags)
        if arch.eabi and eabi != arch.eabi:
            out.append(
                finding(
                    "A007",
                    f"ARM EABI version {eabi}, target needs EABI{arch.eabi}",
                    evidence=[f"e_flags 0x{h.flags:08x}"],
                    file=f,
                )
            )
    if arch.float_abi and h.float_abi and h.float_abi != arch.float_abi:
        out.append(
            finding(
                "A004",
                f"float ABI is {h.float_abi}, target {target.name} uses {arch.float_abi}",
                evidence=[f"e_flags 0x{h.flags:08x} ({', '.join(h.flags_decoded)})"],
                file=f,
            )
        )
    attrs = facts.arm_attributes
    if arch.machine == "EM_ARM" and attrs is not None:
        if attrs.vfp_args == "VFP registers" and arch.float_abi == "soft":
            out.append(
                finding(
                    "A008",
                    "C code passes floats in VFP registers (hard-float) on a soft-float target",
                    evidence=["Tag_ABI_VFP_args: VFP registers"],
                    file=f,
                )
            )
        elif attrs.vfp_args == "AAPCS (base)" and arch.float_abi == "hard" and h.float_abi != "hard":
            out.append(
                finding(
                    "A008",
                    "C code passes floats in core registers (soft-float) on a hard-float target",
                    evidence=["Tag_ABI_VFP_args: AAPCS (base)"],
                    file=f,
                )
            )
        level = _cpu_level(attrs.cpu_arch)
        if level is not None and arch.goarm and level > int(arch.goarm):
            out.append(
                finding(
                    "A009",
                    f"C code built for ARM {attrs.cpu_arch}, above ARMv{arch.goarm} of {target.name}",
                    evidence=[f"Tag_CPU_arch: {attrs.cpu_arch}"],
                    file=f,
                )
            )
    if facts.interpreter and facts.interpreter != target.loader:
        out.append(
            finding(
                "A005",
                f"loader is {facts.interpreter}, {target.name} provides {target.loader}",
                evidence=[f"PT_INTERP {facts.interpreter}"],
                file=f,
            )
        )
    flavour, evidence = _libc_flavour(facts)
    if flavour is not None and flavour != target.libc:
        out.append(
            finding(
                "A006",
                f"linked against {flavour}, target {target.name} uses {target.libc}",
                evidence=evidence,
                file=f,
            )
        )
    return out


def _cpu_level(cpu_arch: str | None) -> int | None:
    if cpu_arch is None:
        return None
    from cgocheck.elf.decode import CPU_ARCH

    for code, name in CPU_ARCH.items():
        if name == cpu_arch:
            return CPU_ARCH_LEVEL.get(code)
    return None
