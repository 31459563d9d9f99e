"""What a Go binary's ELF file says beyond its build info blob: where the blob is, whether
runtime/cgo is linked (symbols, .gopclntab), and which linker linked it.

The file is read through :class:`cgocheck.elf.layout.Layout` (our own bounded reader of the
header, program and section headers); every search is bounded by what the file holds.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from cgocheck.core.errors import BadInput
from cgocheck.elf.damage import PARSE_ERRORS
from cgocheck.elf.gobuildinfo.blob import (
    BUILDINFO_MAGIC,
    FLAG_INLINE_STRINGS,
    HEADER_SIZE,
    MAX_STRING,
    MAX_VARINT,
    ReadAt,
    parse_buildinfo_blob,
)
from cgocheck.elf.header import HeaderError
from cgocheck.elf.layout import PF_W, PF_X, SHF_ALLOC, SHT_NOBITS, SHT_RELA, Layout, Section
from cgocheck.elf.model import GoBuildInfo, GoFacts

_ALIGN = 16
_SEARCH_CHUNK = 1 << 20
_MAX_SECTION_READ = 128 << 20  # never pull more than this of one section into memory (a 100 MB
# Go binary's .gopclntab is ~40 MB)
_MAX_DYN_SYMBOLS = 1 << 14  # a Go binary exports and imports a few hundred at most
_MAX_MATCHES = 1 << 12  # places one wanted name is looked up at in a string table
_MAX_RELOCS = 1 << 20  # RELATIVE relocations kept to read pre-1.18 pointers

_PT_GNU_EH_FRAME = 0x6474E550
_PT_PAX_FLAGS = 0x65041580

# Errors a damaged file can make our own reads raise: every parse error by base class
# (cgocheck.elf.damage). BadInput is caught before it where it matters.
_READ_ERRORS = PARSE_ERRORS

_ByteOrder = Literal["little", "big"]


@dataclass(frozen=True)
class _Load:
    vaddr: int
    filesz: int  # what the file holds of p_filesz
    offset: int
    flags: int
    memsz: int
    declared_filesz: int  # p_filesz as declared (past the end of a truncated file too)


class _Reader:
    """Bounded reads of one ELF file by file offset and by virtual address (PT_LOAD), over
    the file's :class:`Layout`."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.is64 = layout.is64
        self.endian = layout.order
        self.order: _ByteOrder = layout.header.endian
        self.entry = layout.header.e_entry
        self.sections: tuple[Section, ...] = layout.sections
        self.segment_types = [s.p_type for s in layout.segments]
        self.notes = [(s.offset, s.held) for s in layout.segments_of(4)]  # PT_NOTE
        self.loads = [_Load(s.vaddr, s.held, s.offset, s.flags, max(s.memsz, s.filesz), s.filesz)
                      for s in layout.loads if s.offset < layout.size]

    def section(self, name: str) -> Section | None:
        return self.layout.section(name)

    def read_file(self, offset: int, size: int) -> bytes:
        return self.layout.read(offset, size)

    def section_data(self, sec: Section, limit: int = _MAX_SECTION_READ) -> bytes:
        if sec.sh_type == SHT_NOBITS:
            return b""
        return bytes(self.layout.data(sec, limit=limit))

    def read_at(self, addr: int, size: int) -> bytes:
        """Up to ``size`` bytes at virtual address ``addr`` within one PT_LOAD.

        The part of a segment past its file image (.bss) reads as zeros, as in memory: a
        pre-1.18 binary built outside module mode has its modinfo string header there.
        """
        if size <= 0:
            return b""
        for ld in self.loads:
            if ld.vaddr <= addr < ld.vaddr + ld.filesz:
                delta = addr - ld.vaddr
                return self.read_file(ld.offset + delta, min(size, ld.filesz - delta))
        for ld in self.loads:
            if ld.vaddr + ld.declared_filesz <= addr < ld.vaddr + ld.memsz:
                return bytes(min(size, ld.vaddr + ld.memsz - addr, MAX_STRING))
        return b""

    def relocated_reader(self, notes: list[str]) -> ReadAt:
        """``read_at`` with the file's symbol-less RELA relocations applied (load base 0).

        In a pre-1.18 PIE or c-shared file the build info pointers are relocated at load
        time; on RELA targets the linker may leave anything in the file (arm64's GNU ld
        leaves garbage: Go's own reader then prints a nonsense version). A RELA entry with
        symbol 0 (a RELATIVE relocation) at an address means "base + addend" there.
        """
        relocs = self._relative_relocations(notes)
        if not relocs:
            return self.read_at
        offsets = [off for off, _ in relocs]
        width = 8 if self.is64 else 4
        order = self.order
        mask = (1 << (8 * width)) - 1

        def read(addr: int, size: int) -> bytes:
            data = self.read_at(addr, size)
            lo = bisect.bisect_left(offsets, addr - width + 1)
            hi = bisect.bisect_left(offsets, addr + len(data))
            if not data or lo >= hi:
                return data
            buf = bytearray(data)
            for off, addend in relocs[lo:hi]:
                value = (addend & mask).to_bytes(width, order)
                for i, byte in enumerate(value):
                    if 0 <= off - addr + i < len(buf):
                        buf[off - addr + i] = byte
            return bytes(buf)

        return read

    def _relative_relocations(self, notes: list[str]) -> list[tuple[int, int]]:
        fmt = struct.Struct(self.endian + ("QQq" if self.is64 else "IIi"))
        sym_shift = 32 if self.is64 else 8
        out: list[tuple[int, int]] = []
        left = _MAX_RELOCS * fmt.size  # bytes of relocation sections read, all of them together
        for sec in self.sections:
            if sec.sh_type != SHT_RELA or not sec.flags & SHF_ALLOC:
                continue
            if left <= 0:
                notes.append(f"Go build info: more than {_MAX_RELOCS} relocations; the rest were not applied")
                break
            data = self.section_data(sec, limit=left)
            left -= len(data)
            usable = len(data) - len(data) % fmt.size
            out += [(off, add) for off, info, add in fmt.iter_unpack(data[:usable]) if info >> sym_shift == 0]
            if len(out) >= _MAX_RELOCS:
                notes.append(f"Go build info: more than {_MAX_RELOCS} relocations; the rest were not applied")
                del out[_MAX_RELOCS:]
                break
        out.sort()
        return out


def _short(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:200]


def _search_magic(reader: _Reader, addr: int, offset: int, size: int) -> int | None:
    """Address of the first 16-byte-aligned (by address) magic in the ``size`` bytes the
    file holds at ``offset`` (mapped at ``addr``), or None. Only file bytes are searched:
    a NOBITS section or the zeros past a segment's file image hold no magic."""
    pos = (-addr) % _ALIGN  # the first aligned address
    overlap = len(BUILDINFO_MAGIC) - 1
    while pos < size:
        chunk = reader.read_file(offset + pos, min(_SEARCH_CHUNK, size - pos) + overlap)
        if not chunk:
            return None
        at = 0
        while True:
            i = chunk.find(BUILDINFO_MAGIC, at)
            if i < 0 or pos + i >= size:
                break
            if (addr + pos + i) % _ALIGN == 0:
                return addr + pos + i
            at = i + 1
        pos += _SEARCH_CHUNK
    return None


def _find_buildinfo(reader: _Reader) -> int | None:
    """Virtual address of the build info magic: in ``.go.buildinfo``, else in the first
    writable, non-executable PT_LOAD (what Go 1.13-1.17's ``go version`` searched)."""
    sec = reader.section(".go.buildinfo")
    if sec is not None and sec.size > 0:
        return _search_magic(reader, sec.addr, sec.offset, sec.held)
    for ld in reader.loads:
        if ld.flags & PF_W and not ld.flags & PF_X:
            return _search_magic(reader, ld.vaddr, ld.offset, ld.filesz)
    return None


# --------------------------------------------------------------------------------------------
# symbols


@dataclass(frozen=True)
class _Sym:
    name: str
    value: int
    shndx: int
    sym_type: int


def _names_at(strtab: bytes, wanted: tuple[bytes, ...]) -> dict[int, str]:
    """Offsets in a string table at which one of the wanted names (NUL-terminated) starts.

    Linkers share string tails ("_cgo_init" inside "x_cgo_init"), so every match counts.
    """
    found: dict[int, str] = {}
    for name in wanted:
        needle = name + b"\0"
        pos = strtab.find(needle)
        for _ in range(_MAX_MATCHES):
            if pos < 0:
                break
            found[pos] = name.decode("utf-8", "backslashreplace")
            pos = strtab.find(needle, pos + 1)
    return found


def _prefixed_names(strtab: bytes, prefix: bytes, limit: int = 64) -> tuple[bytes, ...]:
    out: set[bytes] = set()
    pos = strtab.find(prefix)
    for _ in range(_MAX_MATCHES):
        if pos < 0 or len(out) >= 64:
            break
        end = strtab.find(b"\0", pos, pos + limit)
        if end > 0:
            out.add(strtab[pos:end])
        pos = strtab.find(prefix, pos + 1)
    return tuple(out)


def _scan_symbols(
    reader: _Reader, symtab: Section, wanted: tuple[bytes, ...], prefix: bytes | None = None
) -> list[_Sym]:
    """The symbols of ``symtab`` whose names are in ``wanted`` (or start with ``prefix``)."""
    if symtab.link <= 0 or symtab.link >= len(reader.sections):
        return []
    strtab = reader.section_data(reader.sections[symtab.link])
    names = tuple(wanted)
    if prefix is not None:
        names += _prefixed_names(strtab, prefix)
    offsets = _names_at(strtab, names)
    if not offsets:
        return []
    data = reader.section_data(symtab)
    endian = reader.endian
    out: list[_Sym] = []
    if reader.is64:
        fmt = struct.Struct(endian + "IBBHQQ")
        usable = len(data) - len(data) % fmt.size
        for name, info, _other, shndx, value, _size in fmt.iter_unpack(data[:usable]):
            if name in offsets:
                out.append(_Sym(offsets[name], value, shndx, info & 0xF))
    else:
        fmt = struct.Struct(endian + "IIIBBH")
        usable = len(data) - len(data) % fmt.size
        for name, value, _size, info, _other, shndx in fmt.iter_unpack(data[:usable]):
            if name in offsets:
                out.append(_Sym(offsets[name], value, shndx, info & 0xF))
    return out


def _dynamic_segment_symbols(reader: _Reader, wanted: set[str]) -> list[_Sym]:
    """For files without section headers: symbols through PT_DYNAMIC (our bounded reader)."""
    from cgocheck.elf.dynamic import from_layout

    out: list[_Sym] = []
    for count, sym in enumerate(from_layout(reader.layout, []).symbols):
        if count >= _MAX_DYN_SYMBOLS:
            break
        if sym.name in wanted:
            out.append(_Sym(sym.name, 0, 1 if sym.defined else 0, 0))
    return out


# --------------------------------------------------------------------------------------------
# is it Go, cgo, link mode

# C symbols that exist only when runtime/cgo is linked. Measured: `_cgo_init` and
# `_cgo_thread_start` are NOT among them: they are runtime variables present in every Go
# binary, cgo or not (Go 1.27 CGO_ENABLED=0 binaries have both in .symtab).
_CGO_SYMBOLS = (b"x_cgo_init", b"crosscall2", b"_cgo_topofstack", b"x_cgo_thread_start")
# Imports runtime/cgo makes from libc; Go's own runtime never imports libc on Linux.
_CGO_IMPORTS = (b"pthread_create",)
# Symbols only a C toolchain's start files (crt1.o, crti.o, crtbegin.o) define.
_CRT_SYMBOLS = (
    b"_start",
    b"_init",
    b"_fini",
    b"__libc_csu_init",
    b"_IO_stdin_used",
    b"__dso_handle",
    b"frame_dummy",
    b"deregister_tm_clones",
    b"__data_start",
)
# allocated sections that may precede the Go notes in Go's own layout
_LAYOUT_SKIP = (".MIPS.abiflags",)
_COMMENT_TOOLS = (b"GCC:", b"clang", b"LLD", b"Linker:", b"mold", b"GNU ld", b"GNU gold")


def _go_note_in_segments(reader: _Reader) -> bool:
    """A Go build ID note (owner "Go", type 4) in a PT_NOTE segment."""
    order = reader.order
    left = 1 << 20  # bytes of all PT_NOTE segments together (a file has one or two)
    for off, size in reader.notes:
        if left <= 0:
            break
        data = reader.read_file(off, min(size, 1 << 16, left))
        left -= len(data)
        pos = 0
        while pos + 12 <= len(data):
            namesz = int.from_bytes(data[pos : pos + 4], order)
            descsz = int.from_bytes(data[pos + 4 : pos + 8], order)
            ntype = int.from_bytes(data[pos + 8 : pos + 12], order)
            name = data[pos + 12 : pos + 12 + namesz]
            if ntype == 4 and name.rstrip(b"\0") == b"Go":
                return True
            step = 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
            if namesz > len(data) or descsz > len(data):
                break
            pos += step
    return False


def _go_signal(reader: _Reader, symtab_syms: list[_Sym]) -> str | None:
    """Why this file is Go (sections, symbols, notes), or None; no data search."""
    for name in (".go.buildinfo", ".note.go.buildid", ".gopclntab", ".data.rel.ro.gopclntab"):
        if reader.section(name) is not None:
            return f"section {name}"
    if any(s.name == "runtime.main" and s.shndx != 0 for s in symtab_syms):
        return "symbol runtime.main"
    if _go_note_in_segments(reader):
        return "Go build ID note"
    return None


def _cgo_facts(
    reader: _Reader,
    symtab_syms: list[_Sym],
    dynsym_syms: list[_Sym],
    dynsym_source: str,
    info: GoBuildInfo | None,
) -> tuple[bool, tuple[str, ...]]:
    evidence: list[str] = []
    strong = False
    cgo_names = {n.decode() for n in _CGO_SYMBOLS}
    for label, syms in ((".symtab", symtab_syms), (dynsym_source, dynsym_syms)):
        found = sorted({s.name for s in syms if s.name in cgo_names and s.shndx != 0})
        if found:
            strong = True
            evidence.append(f"{label}: {', '.join(found)} defined (runtime/cgo)")
    pcl = reader.section(".gopclntab") or reader.section(".data.rel.ro.gopclntab")
    if pcl is not None and not strong:  # the symbols settle it; spare reading a big table
        data = reader.section_data(pcl)
        # function names "runtime/cgo.xxx" or source files ".../runtime/cgo/xxx.go": only
        # when runtime/cgo's Go code is linked (a cgo-free binary has runtime/cgocall.go,
        # runtime/cgo_mmap.go, ... but nothing under runtime/cgo/)
        hit = next((m for m in (b"runtime/cgo.", b"runtime/cgo/") if m in data), None)
        if hit is not None:
            strong = True
            evidence.append(f"{pcl.name}: names {hit.decode()}* (runtime/cgo Go code linked)")
    imports = sorted({s.name for s in dynsym_syms if s.shndx == 0 and s.name in ("pthread_create",)})
    if imports:
        evidence.append(f"{dynsym_source}: imports {', '.join(imports)} (what runtime/cgo needs)")
    cgo_setting = info.setting("CGO_ENABLED") if info is not None else None
    if cgo_setting is not None:
        evidence.append(
            f"build info: CGO_ENABLED={cgo_setting}"
            + (" (allows cgo; not proof that runtime/cgo is linked)" if cgo_setting == "1" else "")
        )
    linked = strong
    if not strong and imports:
        linked = True
        evidence.append("no runtime/cgo symbols visible: judged from the libc imports alone")
    if not linked:
        looked = [".symtab"] if reader.section(".symtab") is not None else []
        if dynsym_syms or reader.section(".dynsym") is not None:
            looked.append(dynsym_source)
        if pcl is not None:
            looked.append(pcl.name)
        evidence.append(f"no runtime/cgo found (looked in {', '.join(looked) or 'nothing'})")
    return linked, tuple(evidence)


def _link_mode(reader: _Reader, symtab_syms: list[_Sym]) -> tuple[str, tuple[str, ...]]:
    ext: list[str] = []
    internal: list[str] = []
    weak_internal: list[str] = []
    names = [s.name for s in reader.sections]

    for sec_name in (".init", ".fini"):
        if sec_name in names:
            ext.append(f"section {sec_name} (C start files crti.o/crtn.o)")
            break
    if _PT_GNU_EH_FRAME in reader.segment_types or ".eh_frame_hdr" in names:
        ext.append("PT_GNU_EH_FRAME/.eh_frame_hdr (made by a C linker)")
    comment = reader.section(".comment")
    if comment is not None:
        tools = [
            t.decode("utf-8", "replace")
            for t in reader.section_data(comment, 1 << 16).split(b"\0")
            if any(k in t for k in _COMMENT_TOOLS)
        ]
        if tools:
            ext.append(f".comment: {'; '.join(dict.fromkeys(tools))}")
    crt_names = {n.decode() for n in _CRT_SYMBOLS}
    crt = sorted({s.name for s in symtab_syms if s.name in crt_names and s.shndx != 0})
    if crt:
        ext.append(f".symtab: {', '.join(crt)} (C start files)")
    for s in symtab_syms:
        if s.name.startswith("_rt0_") and s.value == reader.entry and s.shndx != 0:
            internal.append(f"entry point is {s.name} (Go's own linker)")
            break
    for go_rel in (".rela", ".rel"):
        if go_rel in names:
            internal.append(f"section {go_rel} (Go's linker name; C linkers write {go_rel}.dyn)")
    if _PT_PAX_FLAGS in reader.segment_types:
        internal.append("PT_PAX_FLAGS segment (older Go linkers wrote it; seen with 1.15 and 1.19)")
    alloc = [
        s for s in reader.sections if s.flags & SHF_ALLOC and s.sh_type != SHT_NOBITS and s.name not in _LAYOUT_SKIP
    ]
    if alloc and alloc[0].name in (".note.go.buildid", ".text"):
        weak_internal.append(f"layout: {alloc[0].name} is the first allocated section")
    if ext and internal:
        return "unknown", tuple(["conflicting signals:", *ext, *internal])
    if ext:
        return "external", tuple(ext)
    if internal:
        return "internal", tuple(internal + weak_internal)
    if weak_internal:
        return "internal", tuple([*weak_internal, "no C start files, .eh_frame_hdr or toolchain .comment"])
    if not reader.sections:
        return "unknown", ("no section headers and no PT_GNU_EH_FRAME",)
    return "unknown", ("no signal of either linker",)


def _layout_of(source: Layout | BinaryIO | Any, notes: list[str]) -> Layout | None:
    """The Layout of ``source``: a Layout, an open binary file, or anything with a
    ``stream`` (pyelftools' ELFFile, as callers and tests have)."""
    if isinstance(source, Layout):
        return source
    stream = getattr(source, "stream", source)
    try:
        layout = Layout(stream)
    except HeaderError as e:
        notes.append(f"Go facts: file unreadable ({e.reason})")
        return None
    notes += [f"Go facts: {w}" for w in (*layout.problems, *layout.warnings)]
    return layout


def read_go_facts(source: Layout | BinaryIO | Any, warnings: list[str] | None = None) -> GoFacts | None:
    """Go facts of an ELF file, or None when it is not a Go binary.

    ``source`` is the file's :class:`Layout`, an open binary file, or an object with a
    ``stream`` attribute (pyelftools' ``ELFFile``). Never raises for a damaged file: what
    cannot be read is skipped and explained in ``warnings`` (when a list is given); a Go
    binary whose build info is damaged gets ``buildinfo=None``.
    """
    notes: list[str] = [] if warnings is None else warnings
    try:
        layout = _layout_of(source, notes)
        if layout is None:
            return None
        reader = _Reader(layout)
        ptr_size = 8 if layout.is64 else 4
        big_endian = layout.header.endian == "big"
    except _READ_ERRORS as e:
        notes.append(f"Go facts: file unreadable ({_short(e)})")
        return None

    symtab_syms: list[_Sym] = []
    dynsym_syms: list[_Sym] = []
    dynsym_source = ".dynsym"
    try:
        symtab = reader.section(".symtab")
        if symtab is not None:
            symtab_syms = _scan_symbols(reader, symtab, (*_CGO_SYMBOLS, *_CRT_SYMBOLS, b"runtime.main"), b"_rt0_")
        dynsym = reader.section(".dynsym")
        if dynsym is not None:
            dynsym_syms = _scan_symbols(reader, dynsym, _CGO_SYMBOLS + _CGO_IMPORTS)
        elif not reader.sections:
            dynsym_source = "PT_DYNAMIC symbols"
            dynsym_syms = _dynamic_segment_symbols(reader, {n.decode() for n in _CGO_SYMBOLS + _CGO_IMPORTS})
    except _READ_ERRORS as e:
        notes.append(f"Go facts: symbols unreadable ({_short(e)})")

    try:
        is_go = _go_signal(reader, symtab_syms) is not None
    except _READ_ERRORS as e:
        notes.append(f"Go facts: Go detection failed ({_short(e)})")
        is_go = False
    if not is_go and reader.sections:
        return None  # Go's linkers always write .go.buildinfo/.note.go.buildid/.gopclntab
    try:
        magic_addr = _find_buildinfo(reader)
    except _READ_ERRORS as e:
        notes.append(f"Go facts: build info search failed ({_short(e)})")
        magic_addr = None
    if not is_go and magic_addr is None:
        return None

    info: GoBuildInfo | None = None
    bi_sec = reader.section(".go.buildinfo")
    if magic_addr is None and bi_sec is not None and bi_sec.sh_type == SHT_NOBITS:
        notes.append("Go build info is not in this file (.go.buildinfo is SHT_NOBITS, as in a split-debug file)")
    elif magic_addr is None:
        notes.append("Go binary without build info (no '\\xff Go buildinf:' magic found)")
    else:
        try:
            blob = reader.read_at(magic_addr, HEADER_SIZE + 2 * (MAX_VARINT + MAX_STRING))
            read_ptr: ReadAt | None = None
            if len(blob) >= HEADER_SIZE and not blob[15] & FLAG_INLINE_STRINGS:
                # pre-1.18: pointers, in the header and in the string headers, that a PIE or
                # c-shared file gets relocated at load time
                read_ptr = reader.relocated_reader(notes)
                blob = read_ptr(magic_addr, HEADER_SIZE)
            info = parse_buildinfo_blob(blob, read_ptr, ptr_size, big_endian)
        except BadInput as e:
            notes.append(f"Go build info unreadable: {e.message}")
        except _READ_ERRORS as e:
            notes.append(f"Go build info unreadable: {_short(e)}")

    try:
        cgo_linked, cgo_evidence = _cgo_facts(reader, symtab_syms, dynsym_syms, dynsym_source, info)
    except _READ_ERRORS as e:
        notes.append(f"Go facts: cgo detection failed ({_short(e)})")
        cgo_linked, cgo_evidence = False, (f"cgo detection failed: {_short(e)}",)
    try:
        link_mode, link_evidence = _link_mode(reader, symtab_syms)
    except _READ_ERRORS as e:
        notes.append(f"Go facts: link mode detection failed ({_short(e)})")
        link_mode, link_evidence = "unknown", (f"detection failed: {_short(e)}",)
    return GoFacts(
        buildinfo=info,
        cgo_linked=cgo_linked,
        cgo_evidence=cgo_evidence,
        link_mode=link_mode,
        link_mode_evidence=link_evidence,
    )
