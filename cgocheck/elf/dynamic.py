"""The dynamic view of an ELF file: PT_INTERP, DT_* entries, dynamic symbols, symbol versions.

Two independent implementations that must agree (tests cross-check them on real builds,
and both against readelf):

- :func:`from_layout`, our own bounded reader, is what the façade uses. Every count it
  loops over is checked against the bytes the file holds first: the dynamic table runs
  to DT_NULL or the end of its bytes; symbols are ``held // entsize`` (at most
  :data:`MAX_SYMBOLS`); a Verneed/Verdef chain is walked by its ``vn_next``/``vd_next``
  links, never more entries than its section can hold whatever ``sh_info`` or
  DT_VERNEEDNUM say, and stops at a link of 0 (as glibc's loader does) or one that leaves
  the section. It reads libc.so.6's ~3000 versioned symbols in a few milliseconds, so a
  library closure never needs the 0.34 s import of lief.
- :func:`from_lief` (lief, C++) is the second opinion in the tests and in
  :func:`cgocheck.elf.reader.read_dynamic_both`. It is never given a file the façade
  serves facts from: lief reads a file whole and loops over counts we cannot bound.

Strings are decoded by :mod:`cgocheck.elf.text` in both.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from typing import Any

from cgocheck.elf.layout import (
    PT_DYNAMIC,
    PT_INTERP,
    SHT_DYNAMIC,
    SHT_DYNSYM,
    SHT_GNU_VERDEF,
    SHT_GNU_VERNEED,
    SHT_GNU_VERSYM,
    Damaged,
    Layout,
    Section,
)
from cgocheck.elf.model import DynamicSymbol, VersionNeed
from cgocheck.elf.text import cstring, decode

VERSYM_HIDDEN = 0x8000
VERSYM_MASK = 0x7FFF
VER_FLG_BASE = 0x1

MAX_DYNAMIC = 1 << 16  # DT_* entries read (real files have ~40)
MAX_SYMBOLS = 1 << 18  # dynamic symbols read (libc: 3000; a big C++ library: ~100k); ~1 s
MAX_VERSION_ENTRIES = 1 << 16  # Verneed/Vernaux/Verdef entries visited (libc defines ~40)
MAX_STRING_BYTES = 64 << 20  # bytes of string tables scanned for the names, all names together
MAX_STRTAB = 64 << 20  # bytes of .dynstr read
MAX_INTERP = 4096  # PATH_MAX: the kernel refuses a longer PT_INTERP
MAX_HASH_WALK = 1 << 22  # GNU hash chain entries walked to count symbols without sections

MAX_RELOCATIONS = 1 << 22  # dynamic relocation entries read, all tables together (libLLVM: ~1M)
RELOC_CHUNK = 1 << 16  # entries decoded at a time (1.5 MiB of ELF64 RELA)

DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT = 0, 1, 4, 5, 6, 10, 11
DT_PLTRELSZ, DT_RELA, DT_RELASZ, DT_RELAENT = 2, 7, 8, 9
DT_REL, DT_RELSZ, DT_RELENT, DT_PLTREL, DT_JMPREL = 17, 18, 19, 20, 23
EM_MIPS = 8
DT_SONAME, DT_RPATH, DT_RUNPATH = 14, 15, 29
DT_GNU_HASH = 0x6FFFFEF5
DT_VERSYM, DT_FLAGS_1 = 0x6FFFFFF0, 0x6FFFFFFB
DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFC, 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF

_BIND = {0: "LOCAL", 1: "GLOBAL", 2: "WEAK", 10: "GNU_UNIQUE", 13: "LOPROC", 15: "HIPROC"}
_TYPE = {0: "NOTYPE", 1: "OBJECT", 2: "FUNC", 3: "SECTION", 4: "FILE", 5: "COMMON", 6: "TLS", 10: "IFUNC"}


@dataclass(frozen=True)
class DynamicView:
    interpreter: str | None
    needed: tuple[str, ...]
    soname: str | None
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    flags_1: int
    verneed: tuple[VersionNeed, ...]
    verdef: tuple[str, ...]  # names of version nodes defined (the BASE node excluded)
    symbols: tuple[DynamicSymbol, ...]  # every named dynamic symbol
    # The names of the undefined symbols no dynamic relocation names (R_*_NONE aside): the
    # loader never looks them up. None: unknown (no relocation table, one not wholly read,
    # or MIPS, whose loader binds global GOT entries without relocations): every one counts.
    unrelocated: tuple[str, ...] | None = None

    @property
    def undefined(self) -> tuple[DynamicSymbol, ...]:
        return tuple(s for s in self.symbols if not s.defined)

    @property
    def defined(self) -> tuple[DynamicSymbol, ...]:
        return tuple(s for s in self.symbols if s.defined)


# STT_GNU_IFUNC and STB_GNU_UNIQUE share numbers with STT_LOOS / STB_LOOS; both readers
# are normalised to one spelling.
_TYPE_ALIASES = {"GNU_IFUNC": "IFUNC", "LOOS": "IFUNC"}
_BIND_ALIASES = {"LOOS": "GNU_UNIQUE", "UNIQUE": "GNU_UNIQUE"}


def _norm_type(name: str) -> str:
    return _TYPE_ALIASES.get(name, name)


def _norm_bind(name: str) -> str:
    return _BIND_ALIASES.get(name, name)


def _decode_versym(
    raw: int | None, defined: bool, index_to_def: dict[int, str], index_to_lib: dict[int, tuple[str, str]]
) -> tuple[str | None, str | None, bool]:
    """(version, library, hidden) of one .gnu.version entry.

    Index 0 is local and 1 global (no version); a defined symbol names one of this file's
    Verdef nodes, an undefined one a Vernaux entry of the library Verneed names for it.
    """
    if raw is None:
        return None, None, False
    hidden = bool(raw & VERSYM_HIDDEN)
    idx = raw & VERSYM_MASK
    if idx < 2:
        return None, None, hidden
    if defined and idx in index_to_def:
        return index_to_def[idx], None, hidden
    if idx in index_to_lib:
        library, version = index_to_lib[idx]
        return version, library, hidden
    return index_to_def.get(idx), None, hidden


def _split_paths(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(":") if p)


# --- our own reader ------------------------------------------------------------------


def interpreter(layout: Layout, notes: list[str]) -> str | None:
    """The PT_INTERP path, judged by the bytes the segment holds in the file.

    A PT_INTERP that holds no bytes (``p_filesz`` 0, as in a split-debug file, or an offset
    past the end) names no interpreter; the path ends at the first NUL inside the segment
    (a segment without one is used whole, and said so); an empty path is no interpreter.
    """
    seg = next(iter(layout.segments_of(PT_INTERP)), None)
    if seg is None:
        return None
    if seg.held == 0:
        if seg.filesz:
            notes.append(f"PT_INTERP ({seg.filesz} bytes at {seg.offset:#x}) lies past the end of the file")
        return None
    raw = layout.read(seg.offset, min(seg.held, MAX_INTERP + 1))
    end = raw.find(b"\0")
    if end < 0:
        notes.append(f"PT_INTERP holds no NUL-terminated path in its {seg.held} bytes; read as it is")
        end = min(len(raw), MAX_INTERP)
    return decode(raw[:end]) or None


class _Tables:
    """What the dynamic entries say, with the string table they use."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int]] = []
        self.strtab: bytes | bytearray = b""

    def first(self, tag: int) -> int | None:
        return next((v for t, v in self.entries if t == tag), None)


def _dynamic_entries(layout: Layout, notes: list[str]) -> _Tables:
    tables = _Tables()
    width = 16 if layout.is64 else 8
    fmt = struct.Struct(layout.order + ("qQ" if layout.is64 else "iI"))
    sec = layout.of_type(SHT_DYNAMIC)
    data: bytes | bytearray = b""
    strsec: Section | None = None
    if sec is not None and sec.has_data:
        data = layout.data(sec, limit=MAX_DYNAMIC * width)
        strsec = layout.linked(sec)
    else:
        seg = next(iter(layout.segments_of(PT_DYNAMIC)), None)
        if seg is not None and seg.held:
            data = layout.read(seg.offset, min(seg.held, MAX_DYNAMIC * width))
    for i in range(len(data) // width):
        tag, val = fmt.unpack_from(data, i * width)
        if tag == DT_NULL:
            break
        tables.entries.append((tag, val))
    if strsec is not None and strsec.has_data:
        tables.strtab = layout.data(strsec, limit=MAX_STRTAB)
    else:
        addr, size = tables.first(DT_STRTAB), tables.first(DT_STRSZ)
        if addr is not None:
            tables.strtab = layout.read_vaddr(addr, min(size if size is not None else MAX_STRTAB, MAX_STRTAB))
    return tables


class _Strings:
    """Strings of one table by offset, decoded once; bad offsets noted once each kind."""

    def __init__(self, data: bytes | bytearray, what: str, notes: list[str]) -> None:
        self.data = data
        self.what = what
        self.notes = notes
        self.cache: dict[int, str | None] = {}
        self.bad = 0
        self.left = MAX_STRING_BYTES  # a table without NULs makes each lookup scan MAX_TEXT

    def __call__(self, offset: int) -> str | None:
        if offset in self.cache:
            return self.cache[offset]
        if self.left <= 0:
            if self.left == 0:
                self.notes.append(f"{self.what}: more than {MAX_STRING_BYTES} bytes of names; the rest were not read")
                self.left = -1
            return None
        s = cstring(self.data, offset)
        self.left -= len(s) + 1 if s is not None else 1
        if s is None:
            if not self.bad:
                self.notes.append(f"{self.what}: a string offset ({offset:#x}) past its string table "
                                  f"({len(self.data)} bytes)")
            self.bad += 1
        self.cache[offset] = s
        return s


def _symbol_table(layout: Layout, tables: _Tables, notes: list[str]) -> tuple[bytes | bytearray, _Strings, int]:
    """(symbol table bytes, its strings, entry size): .dynsym, or DT_SYMTAB without sections."""
    entsize = 24 if layout.is64 else 16
    sec = layout.of_type(SHT_DYNSYM)
    if sec is not None:
        strsec = layout.linked(sec)
        strtab = layout.data(strsec, limit=MAX_STRTAB) if strsec is not None else b""
        data = layout.data(sec, limit=MAX_SYMBOLS * entsize)
        if sec.held // entsize > MAX_SYMBOLS:
            notes.append(f".dynsym: {sec.held // entsize} symbols; the first {MAX_SYMBOLS} were read")
        return data, _Strings(strtab, ".dynsym", notes), entsize
    addr = tables.first(DT_SYMTAB)
    if addr is None or layout.sections:
        return b"", _Strings(b"", ".dynsym", notes), entsize
    count = _count_symbols(layout, tables)
    data = layout.read_vaddr(addr, min(count, MAX_SYMBOLS) * entsize)
    return data, _Strings(tables.strtab, "DT_SYMTAB", notes), entsize


def _count_symbols(layout: Layout, tables: _Tables) -> int:
    """How many symbols DT_SYMTAB has, from DT_HASH's nchain or a bounded DT_GNU_HASH walk."""
    order = layout.header.endian
    addr = tables.first(DT_HASH)
    if addr is not None:
        head = layout.read_vaddr(addr, 8)
        if len(head) == 8:
            return int.from_bytes(head[4:8], order)
    addr = tables.first(DT_GNU_HASH)
    if addr is None:
        return 0
    head = layout.read_vaddr(addr, 16)
    if len(head) < 16:
        return 0
    nbuckets, symoffset, bloom_size = (int.from_bytes(head[i : i + 4], order) for i in (0, 4, 8))
    word = 8 if layout.is64 else 4
    buckets_at = addr + 16 + bloom_size * word
    buckets = layout.read_vaddr(buckets_at, min(nbuckets, MAX_HASH_WALK) * 4)
    top = max((int.from_bytes(buckets[i : i + 4], order) for i in range(0, len(buckets) - 3, 4)), default=0)
    if top < symoffset:
        return symoffset
    chain_at = buckets_at + nbuckets * 4
    chain = layout.read_vaddr(chain_at + (top - symoffset) * 4, MAX_HASH_WALK * 4)
    for i in range(0, len(chain) - 3, 4):
        if int.from_bytes(chain[i : i + 4], order) & 1:
            return top + i // 4 + 1
    return top + len(chain) // 4


def _version_section(layout: Layout, sh_type: int, tables: _Tables, addr_tag: int, num_tag: int,
                     ) -> tuple[bytes | bytearray, int, bytes | bytearray, str]:
    """(bytes, declared entry count, string table, name) of .gnu.version_r/_d."""
    sec = layout.of_type(sh_type)
    if sec is not None:
        strsec = layout.linked(sec)
        strtab = layout.data(strsec, limit=MAX_STRTAB) if strsec is not None else tables.strtab
        return layout.data(sec, limit=MAX_STRTAB), sec.info, strtab, sec.name or hex(sh_type)
    addr, num = tables.first(addr_tag), tables.first(num_tag)
    if addr is None or num is None or layout.sections:
        return b"", 0, b"", ""
    where = layout.vaddr_to_offset(addr)
    if where is None:
        return b"", 0, b"", ""
    # no section to say where it ends: at most what MAX_VERSION_ENTRIES entries take
    data = layout.read(where[0], min(where[1], MAX_VERSION_ENTRIES * 20))
    return data, num, tables.strtab, "DT_VERNEED" if num_tag == DT_VERNEEDNUM else "DT_VERDEF"


def _verneed(layout: Layout, tables: _Tables, notes: list[str]) -> tuple[list[VersionNeed], dict[int, tuple[str, str]]]:
    data, count, strtab, name = _version_section(layout, SHT_GNU_VERNEED, tables, DT_VERNEED, DT_VERNEEDNUM)
    strings = _Strings(strtab, name, notes)
    fmt = struct.Struct(layout.order + "HHIII")  # vn_version vn_cnt vn_file vn_aux vn_next
    aux_fmt = struct.Struct(layout.order + "IHHII")  # vna_hash vna_flags vna_other vna_name vna_next
    # Entries and their aux entries are 16 bytes each and never overlap in a real file:
    # together no more of them than the section holds 16-byte slots are visited.
    room = len(data) // 16
    if count > room:
        notes.append(f"{name}: {count} entries declared, room for {room} at most")
    if room > MAX_VERSION_ENTRIES:
        if not name.startswith("DT_"):
            notes.append(f"{name}: room for {room} entries; the first {MAX_VERSION_ENTRIES} were read")
        room = MAX_VERSION_ENTRIES
    visits = 0
    index_to_lib: dict[int, tuple[str, str]] = {}
    out: list[VersionNeed] = []
    off = 0
    for _ in range(min(count, room)):
        if off + 16 > len(data) or visits >= room:
            notes.append(f"{name}: the chain leaves the section ({len(data)} bytes) or repeats at {off:#x}")
            break
        _ver, cnt, file_off, aux, nxt = fmt.unpack_from(data, off)
        visits += 1
        lib = strings(file_off)
        names: list[str] = []
        at = off + aux
        for _j in range(cnt):
            if at + 16 > len(data) or visits >= room:
                notes.append(f"{name}: the chain leaves the section ({len(data)} bytes) or repeats at {at:#x}")
                break
            _hash, _flags, other, name_off, aux_next = aux_fmt.unpack_from(data, at)
            visits += 1
            version = strings(name_off)
            if lib is not None and version is not None:
                index_to_lib[other & VERSYM_MASK] = (lib, version)
                names.append(version)
            if aux_next == 0:
                break
            at += aux_next
        if lib is not None:
            out.append(VersionNeed(library=lib, versions=tuple(names)))
        if nxt == 0:
            break
        off += nxt
    return out, index_to_lib


def _verdef(layout: Layout, tables: _Tables, notes: list[str]) -> tuple[list[str], dict[int, str]]:
    data, count, strtab, name = _version_section(layout, SHT_GNU_VERDEF, tables, DT_VERDEF, DT_VERDEFNUM)
    strings = _Strings(strtab, name, notes)
    fmt = struct.Struct(layout.order + "HHHHIII")  # vd_version vd_flags vd_ndx vd_cnt vd_hash vd_aux vd_next
    aux_fmt = struct.Struct(layout.order + "II")  # vda_name vda_next
    room = len(data) // 20  # a Verdef entry is 20 bytes: no more of them are read
    if count > room:
        notes.append(f"{name}: {count} entries declared, room for {room} at most")
    if room > MAX_VERSION_ENTRIES:
        if not name.startswith("DT_"):
            notes.append(f"{name}: room for {room} entries; the first {MAX_VERSION_ENTRIES} were read")
        room = MAX_VERSION_ENTRIES
    index_to_def: dict[int, str] = {}
    out: list[str] = []
    off = 0
    for _ in range(min(count, room)):
        if off + 20 > len(data):
            notes.append(f"{name}: the chain leaves the section ({len(data)} bytes) at {off:#x}")
            break
        _ver, flags, ndx, cnt, _hash, aux, nxt = fmt.unpack_from(data, off)
        if cnt and off + aux + 8 <= len(data):
            name_off, _next = aux_fmt.unpack_from(data, off + aux)
            first = strings(name_off)
            if first is not None:
                index_to_def[ndx] = first
                if not flags & VER_FLG_BASE:  # the BASE node names the file itself
                    out.append(first)
        if nxt == 0:
            break
        off += nxt
    return out, index_to_def


def _relocated(layout: Layout, tables: _Tables, notes: list[str]) -> set[int] | None:
    """The dynamic symbol indices that a dynamic relocation of a type other than R_*_NONE
    names, from the tables the loader reads (DT_RELA/DT_RELASZ, DT_REL/DT_RELSZ,
    DT_JMPREL/DT_PLTRELSZ of DT_PLTREL's kind; DT_RELR has no symbols). None: unknown.

    Bounded: at most MAX_RELOCATIONS entries in all, decoded RELOC_CHUNK at a time; a
    table's size is checked against the bytes its PT_LOAD holds before anything is read.
    A table that is not wholly in the file, over the cap, or of an entry size other than
    the ABI's makes the answer unknown (noted), never a guess.
    """
    if layout.header.e_machine == EM_MIPS:
        # ld.so binds the global GOT entries (DT_MIPS_GOTSYM to DT_MIPS_SYMTABNO) with no
        # relocation naming them, and MIPS64's r_info is laid out its own way: unknown.
        return None
    is64 = layout.is64
    sizes = {True: 24 if is64 else 12, False: 16 if is64 else 8}  # RELA, REL entry sizes
    wanted: list[tuple[str, int, int, bool]] = []  # (name, address, size, rela)
    for name, addr_tag, size_tag, rela in (("DT_RELA", DT_RELA, DT_RELASZ, True), ("DT_REL", DT_REL, DT_RELSZ, False)):
        addr = tables.first(addr_tag)
        if addr is not None:
            wanted.append((name, addr, tables.first(size_tag) or 0, rela))
    jmprel = tables.first(DT_JMPREL)
    if jmprel is not None:
        kind = tables.first(DT_PLTREL)
        if kind not in (DT_REL, DT_RELA):
            notes.append(f"DT_JMPREL: DT_PLTREL is {kind!r}, neither DT_REL nor DT_RELA; relocations not read")
            return None
        wanted.append(("DT_JMPREL", jmprel, tables.first(DT_PLTRELSZ) or 0, kind == DT_RELA))
    if not wanted:
        return None
    for ent_tag, rela in ((DT_RELAENT, True), (DT_RELENT, False)):
        ent = tables.first(ent_tag)
        if ent is not None and ent != sizes[rela]:
            notes.append(f"{'DT_RELAENT' if rela else 'DT_RELENT'} is {ent}, not {sizes[rela]}; relocations not read")
            return None
    order = layout.order
    left = MAX_RELOCATIONS
    out: set[int] = set()
    for name, addr, size, rela in wanted:
        ent = sizes[rela]
        count = size // ent
        if count == 0:
            continue
        if count > left:
            notes.append(f"dynamic relocations: more than {MAX_RELOCATIONS} entries ({name}: {size} bytes); not read")
            return None
        where = layout.vaddr_to_offset(addr)
        if where is None or where[1] < count * ent or where[0] + count * ent > layout.size:
            notes.append(f"{name}: {size} bytes at {addr:#x} are not all in the file; relocations not read")
            return None
        left -= count
        # r_info is the second word of an entry (r_offset, r_info[, r_addend])
        words = ent // (8 if is64 else 4)
        fmt = struct.Struct(order + ("Q" if is64 else "I") * words)
        off = where[0]
        for start in range(0, count, RELOC_CHUNK):
            n = min(RELOC_CHUNK, count - start)
            data = layout.read(off + start * ent, n * ent)
            if len(data) < n * ent:
                notes.append(f"{name}: cut off at entry {start + len(data) // ent}; relocations not read")
                return None
            if is64:
                out.update(row[1] >> 32 for row in fmt.iter_unpack(data) if row[1] & 0xFFFFFFFF)
            else:
                out.update(row[1] >> 8 for row in fmt.iter_unpack(data) if row[1] & 0xFF)
    return out


def from_layout(layout: Layout, notes: list[str]) -> DynamicView:
    """The dynamic view, read with bounds by our own code; damage is noted, not raised."""
    interp = interpreter(layout, notes)
    try:
        tables = _dynamic_entries(layout, notes)
    except Damaged as exc:
        notes.append(f"dynamic section not read: {exc}")
        tables = _Tables()
    dstr = _Strings(tables.strtab, "the dynamic section", notes)
    needed: list[str] = []
    soname = None
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    flags_1 = 0
    for tag, val in tables.entries:
        if tag == DT_NEEDED:
            if (s := dstr(val)) is not None:
                needed.append(s)
        elif tag == DT_SONAME:
            soname = dstr(val)
        elif tag == DT_RPATH:
            rpath += _split_paths(dstr(val) or "")
        elif tag == DT_RUNPATH:
            runpath += _split_paths(dstr(val) or "")
        elif tag == DT_FLAGS_1:
            flags_1 = val

    verneed: list[VersionNeed] = []
    index_to_lib: dict[int, tuple[str, str]] = {}
    try:
        verneed, index_to_lib = _verneed(layout, tables, notes)
    except Damaged as exc:
        notes.append(f"version needs not read: {exc}")
    verdef: list[str] = []
    index_to_def: dict[int, str] = {}
    try:
        verdef, index_to_def = _verdef(layout, tables, notes)
    except Damaged as exc:
        notes.append(f"version definitions not read: {exc}")
    entsize = 24 if layout.is64 else 16
    symdata: bytes | bytearray = b""
    names = _Strings(b"", ".dynsym", notes)
    try:
        symdata, names, entsize = _symbol_table(layout, tables, notes)
    except Damaged as exc:
        notes.append(f"dynamic symbols not read: {exc}")
    nsyms = len(symdata) // entsize
    vdata: bytes | bytearray = b""
    try:
        versym_sec = layout.of_type(SHT_GNU_VERSYM)
        if versym_sec is not None:
            vdata = layout.data(versym_sec, limit=2 * MAX_SYMBOLS)
        elif (vaddr := tables.first(DT_VERSYM)) is not None and not layout.sections:
            vdata = layout.read_vaddr(vaddr, 2 * nsyms)
    except Damaged as exc:
        notes.append(f"symbol versions not read: {exc}")
    order = layout.header.endian
    raw_versions = [int.from_bytes(vdata[i : i + 2], order) for i in range(0, len(vdata) - 1, 2)]
    if layout.is64:
        rows = ((n, info, shndx) for n, info, _o, shndx, _v, _s in
                struct.iter_unpack(layout.order + "IBBHQQ", symdata[: nsyms * entsize]))
    else:
        rows = ((n, info, shndx) for n, _v, _s, info, _o, shndx in
                struct.iter_unpack(layout.order + "IIIBBH", symdata[: nsyms * entsize]))
    relocated: set[int] | None = None
    try:
        relocated = _relocated(layout, tables, notes)
    except Damaged as exc:
        notes.append(f"dynamic relocations not read: {exc}")
    named: set[str] = set()  # undefined symbols a relocation names
    unnamed: set[str] = set()  # ... and those none does
    symbols: list[DynamicSymbol] = []
    for i, (name_off, info, shndx) in enumerate(rows):
        if not name_off:
            continue
        name = names(name_off)
        if not name:
            continue
        defined = shndx != 0
        if not defined and relocated is not None:
            (named if i in relocated else unnamed).add(name)
        raw = raw_versions[i] if i < len(raw_versions) else None
        version, library, hidden = _decode_versym(raw, defined, index_to_def, index_to_lib)
        symbols.append(
            DynamicSymbol(
                name=name,
                version=version,
                library=library,
                binding=_BIND.get(info >> 4, str(info >> 4)),
                sym_type=_TYPE.get(info & 0xF, str(info & 0xF)),
                defined=defined,
                hidden=hidden,
            )
        )
    return DynamicView(
        interpreter=interp,
        needed=tuple(needed),
        soname=soname,
        rpath=rpath,
        runpath=runpath,
        flags_1=flags_1,
        verneed=tuple(verneed),
        verdef=tuple(verdef),
        symbols=tuple(symbols),
        unrelocated=None if relocated is None else tuple(sorted(unnamed - named)),
    )


# --- lief ----------------------------------------------------------------------------

_lief: Any = None


def _lief_module() -> Any:
    global _lief
    if _lief is None:
        import lief

        lief.logging.disable()
        _lief = lief
    return _lief


def _enum_name(value: Any) -> str:
    name = str(value)
    return name.rsplit(".", 1)[-1]


def _text(obj: Any, attr: str) -> str:
    """A string attribute lief gives as str, as bytes (not UTF-8), or raises on (a
    UnicodeDecodeError that holds the bytes): under our policy."""
    try:
        value = getattr(obj, attr)
    except UnicodeDecodeError as exc:
        return decode(exc.object)
    if isinstance(value, bytes):
        return decode(value)
    return decode(str(value).encode("utf-8", "surrogateescape"))


def from_lief(path: str) -> DynamicView | None:
    """Read the dynamic view with lief; None when lief cannot parse the file."""
    lief = _lief_module()
    cfg = lief.ELF.ParserConfig()
    cfg.parse_symtab_symbols = False
    cfg.parse_relocations = True  # for the unrelocated undefined symbols
    cfg.parse_notes = False
    cfg.parse_overlay = False
    with warnings.catch_warnings():
        # lief warns (RuntimeWarning) on enum values it does not know, e.g. a damaged
        # st_info; the name then reads as the number, which is what we want.
        warnings.simplefilter("ignore", RuntimeWarning)
        return _from_lief_binary(lief, lief.ELF.parse(path, cfg))


def _from_lief_binary(lief: Any, binary: Any) -> DynamicView | None:
    if binary is None:
        return None
    tag = lief.ELF.DynamicEntry.TAG
    needed: list[str] = []
    soname = None
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    flags_1 = 0
    for entry in binary.dynamic_entries:
        t = entry.tag
        if t == tag.NEEDED:
            needed.append(_text(entry, "name"))
        elif t == tag.SONAME:
            soname = _text(entry, "name")
        elif t == tag.RPATH:
            rpath += _split_paths(_text(entry, "rpath"))
        elif t == tag.RUNPATH:
            runpath += _split_paths(_text(entry, "runpath"))
        elif t == tag.FLAGS_1:
            flags_1 = int(entry.value)

    index_to_lib: dict[int, tuple[str, str]] = {}
    verneed: list[VersionNeed] = []
    for req in binary.symbols_version_requirement:
        names = []
        lib = _text(req, "name")
        for aux in req.get_auxiliary_symbols():
            node = _text(aux, "name")
            index_to_lib[int(aux.other) & VERSYM_MASK] = (lib, node)
            names.append(node)
        verneed.append(VersionNeed(library=lib, versions=tuple(names)))

    index_to_def: dict[int, str] = {}
    verdef: list[str] = []
    for vd in binary.symbols_version_definition:
        aux = list(vd.auxiliary_symbols)
        if not aux:
            continue
        first = _text(aux[0], "name")
        index_to_def[int(vd.ndx)] = first
        if not int(vd.flags) & VER_FLG_BASE:
            verdef.append(first)

    symbols: list[DynamicSymbol] = []
    for sym in binary.dynamic_symbols:
        sym_name = _text(sym, "name")
        if not sym_name:
            continue
        defined = int(sym.shndx) != 0
        sv = sym.symbol_version
        raw = int(sv.value) if sv is not None else None
        version, library, hidden = _decode_versym(raw, defined, index_to_def, index_to_lib)
        symbols.append(
            DynamicSymbol(
                name=sym_name,
                version=version,
                library=library,
                binding=_norm_bind(_enum_name(sym.binding)),
                sym_type=_norm_type(_enum_name(sym.type)),
                defined=defined,
                hidden=hidden,
            )
        )
    interp = _text(binary, "interpreter") if binary.has_interpreter else None
    return DynamicView(
        unrelocated=_lief_unrelocated(binary, symbols),
        interpreter=interp or None,
        needed=tuple(needed),
        soname=soname,
        rpath=rpath,
        runpath=runpath,
        flags_1=flags_1,
        verneed=tuple(verneed),
        verdef=tuple(verdef),
        symbols=tuple(symbols),
    )


def _lief_unrelocated(binary: Any, symbols: list[DynamicSymbol]) -> tuple[str, ...] | None:
    """lief's opinion of DynamicView.unrelocated: the undefined symbols none of its dynamic
    and PLT relocations (R_*_NONE aside) names; None where ours says unknown."""
    if int(binary.header.machine_type) == EM_MIPS:
        return None
    relocs = [*binary.dynamic_relocations, *binary.pltgot_relocations]
    if not relocs:
        return None
    named = {_text(r.symbol, "name") for r in relocs
             if r.has_symbol and not _enum_name(r.type).endswith("NONE")}
    return tuple(sorted({s.name for s in symbols if not s.defined} - named))


__all__ = ["Damaged", "DynamicView", "from_layout", "from_lief", "interpreter"]
