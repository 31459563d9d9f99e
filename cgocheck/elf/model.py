"""Plain, frozen facts about one ELF file. The only thing the rest of cgocheck sees.

Nothing outside ``cgocheck/elf/`` imports pyelftools or lief; they return these.
Every field is JSON-friendly (str, int, bool, None, tuples of those or of dataclasses).
Every string is ``str``, decoded from the file's bytes by one policy (UTF-8; invalid
bytes and control characters as ``\\xNN``): see :mod:`cgocheck.elf.text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ElfHeader:
    machine: str  # pyelftools' name, e.g. "EM_AARCH64"
    machine_code: int
    elf_class: int  # 32 or 64
    endian: str  # "little" | "big"
    osabi: str  # e.g. "ELFOSABI_SYSV"
    file_type: str  # "exec" | "pie" | "shared" | "relocatable" | "core" | "other"
    flags: int  # raw e_flags
    flags_decoded: tuple[str, ...]  # e.g. ("EABI5", "hard-float")
    float_abi: str  # "hard" | "soft" | "double" | "single" | "quad" | "" (not encoded)
    entry: int


@dataclass(frozen=True)
class VersionNeed:
    """One Verneed entry: a library and the version nodes this file needs from it."""

    library: str
    versions: tuple[str, ...]


@dataclass(frozen=True)
class DynamicSymbol:
    """A dynamic symbol (.dynsym).

    For undefined symbols ``version`` is the version node required (``GLIBC_2.34``) and
    ``library`` the file that Verneed names for it; ``hidden`` is the VERSYM_HIDDEN bit:
    for a defined symbol, hidden means a non-default version (``name@VER`` not ``name@@VER``).
    """

    name: str
    version: str | None
    library: str | None
    binding: str  # "GLOBAL" | "WEAK" | "LOCAL" | "GNU_UNIQUE"
    sym_type: str  # "FUNC" | "OBJECT" | "TLS" | "NOTYPE" | "IFUNC" | ...
    defined: bool
    hidden: bool = False


@dataclass(frozen=True)
class ArmAttributes:
    """The public 'aeabi' subsection of .ARM.attributes, decoded."""

    cpu_name: str | None
    cpu_arch: str | None  # e.g. "v7", "v5TE", "v6"
    fp_arch: str | None  # Tag_FP_arch, e.g. "VFPv3-D16"
    vfp_args: str | None  # Tag_ABI_VFP_args: "AAPCS (base)" | "VFP registers" | ...
    raw: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DwarfUnit:
    """One DWARF compile unit: what produced it and, for C/C++, which files it read."""

    name: str
    language: str  # "C", "C++", "Go", "Assembler", "unknown(0x..)"
    producer: str | None
    comp_dir: str | None
    files: tuple[str, ...] = ()  # absolute where the line table allows it (C/C++ only)


@dataclass(frozen=True)
class GoSetting:
    key: str
    value: str


@dataclass(frozen=True)
class GoModule:
    path: str
    version: str
    sum: str | None = None
    replaced_by: GoModule | None = None


@dataclass(frozen=True)
class GoBuildInfo:
    """What Go's linker recorded (the `.go.buildinfo` blob; `go version -m` prints it)."""

    go_version: str  # "go1.24.11"
    layout: str  # "1.18+" (inline strings) or "pre-1.18" (pointers)
    path: str | None  # main package path
    main: GoModule | None
    deps: tuple[GoModule, ...]
    settings: tuple[GoSetting, ...]

    def setting(self, key: str) -> str | None:
        for s in self.settings:
            if s.key == key:
                return s.value
        return None


@dataclass(frozen=True)
class GoFacts:
    """Go-specific facts: buildinfo when present, and whether cgo is really linked in."""

    buildinfo: GoBuildInfo | None
    cgo_linked: bool  # runtime/cgo present (x_cgo_init / _cgo_init / crosscall2 ...)
    cgo_evidence: tuple[str, ...]  # the symbols or sections that show it
    link_mode: str  # "external" | "internal" | "unknown"
    link_mode_evidence: tuple[str, ...]


@dataclass(frozen=True)
class ElfFacts:
    path: str
    size: int
    header: ElfHeader
    interpreter: str | None
    needed: tuple[str, ...]
    soname: str | None
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    static: bool  # no PT_INTERP and no PT_DYNAMIC needing libraries
    stripped: bool  # no .symtab
    has_debug_info: bool
    verneed: tuple[VersionNeed, ...]
    verdef: tuple[str, ...]  # version nodes this file defines (a shared library)
    undefined: tuple[DynamicSymbol, ...]  # undefined dynamic symbols with versions
    abi_tag: str | None  # .note.ABI-tag, e.g. "Linux 3.7.0"
    build_id: str | None
    comment: tuple[str, ...]  # .comment strings, deduplicated, in order
    arm_attributes: ArmAttributes | None
    dwarf: tuple[DwarfUnit, ...]
    go: GoFacts | None  # None when the file is not a Go binary
    # A split-debug file (objcopy --only-keep-debug, a -dbg package's .debug file): its code
    # and data are not in it (PT_LOAD p_filesz 0, SHT_NOBITS sections), only the headers of
    # the file it was split from, its notes (build id), symbols and DWARF. interpreter,
    # needed, soname, verneed and undefined are then empty: they are not in the file.
    debug_only: bool = False
    warnings: tuple[str, ...] = field(default=())  # non-fatal problems met while reading
    # The undefined symbols no dynamic relocation names (R_*_NONE aside): the loader never
    # looks them up. None: unknown (no relocation table read, MIPS), every one counts.
    unrelocated: tuple[str, ...] | None = None

    def max_glibc(self) -> tuple[str | None, tuple[str, ...]]:
        """The highest GLIBC_x.y needed and the undefined symbols that force it."""
        from cgocheck.core.glibc import max_version_with_symbols

        return max_version_with_symbols(self.undefined, prefix="GLIBC_")


@dataclass(frozen=True)
class SharedObjectFacts:
    """The slice of facts resolve needs from a library in a sysroot: cheap to read."""

    path: str
    header: ElfHeader
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    verneed: tuple[VersionNeed, ...]
    verdef: tuple[str, ...]
    defined: tuple[DynamicSymbol, ...]  # exported dynamic symbols with version and hidden bit
    undefined: tuple[DynamicSymbol, ...]
    unrelocated: tuple[str, ...] | None = None  # as ElfFacts.unrelocated

    def looked_up(self, sym: DynamicSymbol) -> bool:
        """Does the loader look up this undefined symbol? (A relocation names it, or unknown.)"""
        return self.unrelocated is None or sym.name not in self.unrelocated
