"""Decoding tables: e_flags per machine, ARM build attributes, DWARF languages."""

from __future__ import annotations

# --- e_flags -------------------------------------------------------------------------

EF_ARM_EABIMASK = 0xFF000000
EF_ARM_ABI_FLOAT_SOFT = 0x200
EF_ARM_ABI_FLOAT_HARD = 0x400
EF_ARM_BE8 = 0x00800000
EF_ARM_HASENTRY = 0x2

EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI = 0x6
EF_RISCV_RVE = 0x8
EF_RISCV_TSO = 0x10
# The float ABI the EF_RISCV_FLOAT_ABI bits of e_flags name (the one table of it).
RISCV_FLOAT_ABI = {0x0: "soft", 0x2: "single", 0x4: "double", 0x6: "quad"}


def riscv_float_abi(flags: int) -> str:
    """"soft" | "single" | "double" | "quad": the float ABI a RISC-V e_flags names."""
    return RISCV_FLOAT_ABI[flags & EF_RISCV_FLOAT_ABI]


def decode_flags(machine: str, flags: int) -> tuple[tuple[str, ...], str]:
    """Return (human-readable flag names, float ABI) for a machine's e_flags."""
    names: list[str] = []
    float_abi = ""
    if machine == "EM_ARM":
        eabi = (flags & EF_ARM_EABIMASK) >> 24
        names.append(f"EABI{eabi}" if eabi else "no-EABI (GNU/OABI)")
        if flags & EF_ARM_ABI_FLOAT_HARD:
            names.append("hard-float")
            float_abi = "hard"
        elif flags & EF_ARM_ABI_FLOAT_SOFT:
            names.append("soft-float")
            float_abi = "soft"
        else:
            names.append("float-ABI-unspecified")
        if flags & EF_ARM_BE8:
            names.append("BE8")
        if flags & EF_ARM_HASENTRY:
            names.append("has-entry")
    elif machine == "EM_RISCV":
        if flags & EF_RISCV_RVC:
            names.append("RVC")
        float_abi = riscv_float_abi(flags)
        names.append(f"{float_abi}-float ABI")
        if flags & EF_RISCV_RVE:
            names.append("RVE")
        if flags & EF_RISCV_TSO:
            names.append("TSO")
    elif machine == "EM_PPC64":
        abi = flags & 0x3
        names.append(f"ELFv{abi}" if abi else "ABI-unspecified")
    elif machine == "EM_MIPS":
        if flags & 0x20:
            names.append("NAN2008")
        if flags & 0x4:
            names.append("CPIC")
        if flags & 0x2:
            names.append("PIC")
        arch = (flags >> 28) & 0xF
        names.append(f"MIPS-arch-{arch}")
    elif flags:
        names.append(hex(flags))
    return tuple(names), float_abi


def arm_eabi_version(flags: int) -> int:
    return (flags & EF_ARM_EABIMASK) >> 24


# --- ARM build attributes (ARM IHI 0045) -------------------------------------------

CPU_ARCH = {
    0: "Pre-v4",
    1: "v4",
    2: "v4T",
    3: "v5T",
    4: "v5TE",
    5: "v5TEJ",
    6: "v6",
    7: "v6KZ",
    8: "v6T2",
    9: "v6K",
    10: "v7",
    11: "v6-M",
    12: "v6S-M",
    13: "v7E-M",
    14: "v8-A",
    15: "v8-R",
    16: "v8-M.baseline",
    17: "v8-M.mainline",
    18: "v8.1-A",
    19: "v8.2-A",
    20: "v8.3-A",
    21: "v8.1-M.mainline",
    22: "v9-A",
}
FP_ARCH = {
    0: "none",
    1: "VFPv1",
    2: "VFPv2",
    3: "VFPv3",
    4: "VFPv3-D16",
    5: "VFPv4",
    6: "VFPv4-D16",
    7: "FP-ARMv8",
    8: "FPv8-D16",
}
VFP_ARGS = {0: "AAPCS (base)", 1: "VFP registers", 2: "toolchain-specific", 3: "base and VFP"}

# The numeric ARMv<n> level of each Tag_CPU_arch value, to compare with GOARM.
CPU_ARCH_LEVEL = {
    0: 4,
    1: 4,
    2: 4,
    3: 5,
    4: 5,
    5: 5,
    6: 6,
    7: 6,
    8: 6,
    9: 6,
    10: 7,
    11: 6,
    12: 6,
    13: 7,
    14: 8,
    15: 8,
    16: 8,
    17: 8,
    18: 8,
    19: 8,
    20: 8,
    21: 8,
    22: 9,
}

# --- DWARF languages ------------------------------------------------------------------

DW_LANG = {
    0x1: "C",
    0x2: "C",
    0xC: "C",
    0x1D: "C",
    0x2C: "C",  # C89, K&R C, C99, C11, C17
    0x4: "C++",
    0x19: "C++",
    0x1A: "C++",
    0x21: "C++",
    0x2B: "C++",  # 98, 03, 11, 14, 17
    0x16: "Go",
    0x1C: "Rust",
    0x8001: "Assembler",
    0x8E57: "Assembler",
    0x20: "Assembler",
    0x31: "Assembler",
}


def language_name(code: int | None) -> str:
    if code is None:
        return "unknown"
    return DW_LANG.get(code, f"unknown(0x{code:x})")
