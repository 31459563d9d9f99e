"""The bounded layout of one ELF file: header, program headers, section headers and names,
and the bytes of a section, read by our own code.

Everything here is judged by what the file really holds, before anything is allocated or
looped over:

* a table (program or section headers) is read only as far as the file holds it, at most
  :data:`MAX_SEGMENTS` / :data:`MAX_SECTIONS` entries, and with an entry size of at least
  the structure's own;
* a segment's extent is its ``p_filesz`` bytes from ``p_offset``, as far as the file holds
  them (:attr:`Segment.held`): a split-debug file's PT_LOAD and PT_INTERP with
  ``p_filesz`` 0 hold nothing, whatever their ``p_offset``;
* a section's bytes are read only when it has any (SHT_NOBITS holds none, whatever its
  ``sh_size``), up to a limit the caller sets, and a compressed section (SHF_COMPRESSED,
  or a ``.zdebug_*`` "ZLIB" header) is inflated only when its declared size fits the
  caller's :class:`Budget` and the file's own inflation budget, and only up to that size:
  a stream that inflates past what its header declares is refused, not followed.

Damage found while reading the tables is recorded, not raised: :attr:`Layout.problems`
lists what makes the file unusable as a whole (a table or a PT_LOAD cut off by the end of
the file), which the façade's reader turns into BadInput; :attr:`Layout.warnings` lists
the rest. Reading a section raises :class:`Damaged` (one line) for damage in it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from cgocheck.elf.header import SHENT_SIZE, Ehdr, parse_header
from cgocheck.elf.text import cstring

MAX_SEGMENTS = 1 << 16  # program headers read (PN_XNUM allows more; real files have ~15)
MAX_SECTIONS = 1 << 18  # section headers read (real executables have ~50, objects thousands)
MAX_SECTION_NAMES = 16 << 20  # bytes of .shstrtab read
MAX_NAME = 256  # bytes of one section name
MAX_SECTION_READ = 256 << 20  # default limit of one section's bytes
MAX_INFLATED = 512 << 20  # bytes all compressed sections of one file may inflate to, together
MAX_INFLATE_RATIO = 50  # ... and at most this many times the file's size
_CHUNK = 1 << 16

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
PF_X, PF_W, PF_R = 1, 2, 4
SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA = 0, 1, 2, 3, 4
SHT_HASH, SHT_DYNAMIC, SHT_NOTE, SHT_NOBITS, SHT_REL, SHT_DYNSYM = 5, 6, 7, 8, 9, 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
SHT_ARM_ATTRIBUTES = 0x70000003
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_COMPRESSED = 0x1, 0x2, 0x4, 0x800
SHN_XINDEX = 0xFFFF
PN_XNUM = 0xFFFF
ELFCOMPRESS_ZLIB, ELFCOMPRESS_ZSTD = 1, 2


class Damaged(Exception):
    """Damage met while reading one structure of the file; the message is one line."""


class Refused(Damaged):
    """A size the file declares is over a budget: the structure is not read at all."""


class Budget:
    """Bytes a reader may pull into memory, all reads together (checked before reading)."""

    def __init__(self, limit: int, what: str = "the sections read") -> None:
        self.limit = max(0, limit)
        self.used = 0
        self.what = what

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def charge(self, n: int) -> None:
        if self.used + n > self.limit:
            raise Refused(f"{self.what} declare more than {self.limit} bytes uncompressed together (refused)")
        self.used += n


def budget_for(size: int, cap: int, what: str, ratio: int = MAX_INFLATE_RATIO) -> Budget:
    """The smaller of ``cap`` and ``ratio`` times a file of ``size`` bytes."""
    return Budget(min(cap, ratio * max(size, 1)), what)


@dataclass(frozen=True)
class Segment:
    index: int
    p_type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int
    held: int  # bytes of the p_filesz from p_offset that the file really holds (0: none)

    @property
    def end(self) -> int:
        return self.offset + self.filesz


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    sh_type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int
    held: int  # bytes of sh_size from sh_offset the file holds (0 for SHT_NOBITS)

    @property
    def nobits(self) -> bool:
        return self.sh_type == SHT_NOBITS

    @property
    def compressed(self) -> bool:
        return bool(self.flags & SHF_COMPRESSED) or self.name.startswith(".zdebug")

    @property
    def has_data(self) -> bool:
        """Bytes of this section are in the file (not SHT_NOBITS, not empty)."""
        return self.held > 0


class Layout:
    """The header and tables of one ELF file, read with bounds, and bounded reads of it."""

    def __init__(self, stream: BinaryIO, size: int | None = None) -> None:
        self.stream = stream
        if size is None:
            stream.seek(0, 2)
            size = stream.tell()
        self.size = size
        stream.seek(0)
        self.header: Ehdr = parse_header(stream.read(64))  # HeaderError: the caller's to judge
        self.problems: list[str] = []  # what makes the file unusable as a whole
        self.warnings: list[str] = []  # what the reader should say, but can read past
        self.inflate_budget = budget_for(size, MAX_INFLATED, "the compressed sections")
        h = self.header
        self.is64 = h.elf_class == 64
        self.order = "<" if h.endian == "little" else ">"
        first = self._section_zero()
        phnum = h.e_phnum
        if phnum == PN_XNUM and first is not None:
            phnum = first[7]  # sh_info holds the real count
        self.segments: tuple[Segment, ...] = self._read_segments(phnum)
        self.loads: tuple[Segment, ...] = tuple(s for s in self.segments if s.p_type == PT_LOAD)
        shnum, shstrndx = h.e_shnum, h.e_shstrndx
        if first is not None:
            if shnum == 0:
                shnum = first[5]  # sh_size
            if shstrndx == SHN_XINDEX:
                shstrndx = first[6]  # sh_link
        self.sections: tuple[Section, ...] = self._read_sections(shnum, shstrndx)
        self._by_name: dict[str, Section] = {}
        for s in self.sections:
            self._by_name.setdefault(s.name, s)
        for seg in self.segments:
            if seg.p_type == PT_LOAD and seg.filesz > 0 and seg.end > size:
                self.problems.append(f"truncated: a PT_LOAD segment ends past the file's {size} bytes")
                break

    # --- tables ------------------------------------------------------------------------

    def _shdr_struct(self) -> struct.Struct:
        return struct.Struct(self.order + ("IIQQQQIIQQ" if self.is64 else "IIIIIIIIII"))

    def _section_zero(self) -> tuple[int, ...] | None:
        """Section header 0, which holds the real counts when a file has too many."""
        h = self.header
        fmt = self._shdr_struct()
        if not h.e_shoff or h.e_shentsize < fmt.size or h.e_shoff + fmt.size > self.size:
            return None
        if h.e_shnum != 0 and h.e_shstrndx != SHN_XINDEX and h.e_phnum != PN_XNUM:
            return None
        return fmt.unpack(self.read(h.e_shoff, fmt.size))

    def _table(self, offset: int, entsize: int, count: int, fmt: struct.Struct, what: str,
               cap: int) -> list[tuple[int, ...]]:
        if count <= 0:
            return []
        if entsize < fmt.size:
            bits = self.header.elf_class
            self.problems.append(f"damaged: {what} entries of {entsize} bytes (a {bits}-bit file's are {fmt.size})")
            return []
        if offset + count * entsize > self.size:
            self.problems.append(f"truncated: {what}s end past the file's {self.size} bytes")
        fits = max(0, (self.size - offset) // entsize) if offset < self.size else 0
        if count > cap:
            self.warnings.append(f"{count} {what}s declared; the first {cap} were read")
            count = cap
        count = min(count, fits)
        data = self.read(offset, count * entsize)
        return [fmt.unpack_from(data, i * entsize) for i in range(len(data) // entsize)]

    def _read_segments(self, count: int) -> tuple[Segment, ...]:
        h = self.header
        if self.is64:
            fmt = struct.Struct(self.order + "IIQQQQQQ")
            rows = [(t, fl, o, v, fs, ms, a) for t, fl, o, v, _p, fs, ms, a in
                    self._table(h.e_phoff, h.e_phentsize, count, fmt, "program header", MAX_SEGMENTS)]
        else:
            fmt = struct.Struct(self.order + "IIIIIIII")
            rows = [(t, fl, o, v, fs, ms, a) for t, o, v, _p, fs, ms, fl, a in
                    self._table(h.e_phoff, h.e_phentsize, count, fmt, "program header", MAX_SEGMENTS)]
        out = []
        for i, (ptype, flags, off, vaddr, filesz, memsz, align) in enumerate(rows):
            held = max(0, min(filesz, self.size - off)) if off < self.size else 0
            out.append(Segment(i, ptype, flags, off, vaddr, filesz, memsz, align, held))
        return tuple(out)

    def _read_sections(self, count: int, shstrndx: int) -> tuple[Section, ...]:
        h = self.header
        if not h.e_shoff:
            return ()
        fmt = self._shdr_struct()
        if h.e_shentsize != SHENT_SIZE[h.elf_class] and count > 0 and h.e_shentsize >= fmt.size:
            self.warnings.append(f"section header entries of {h.e_shentsize} bytes (expected {fmt.size})")
        rows = self._table(h.e_shoff, h.e_shentsize, count, fmt, "section header", MAX_SECTIONS)
        names = b""
        if 0 < shstrndx < len(rows):
            _n, stype, _f, _a, off, size, *_ = rows[shstrndx]
            if stype != SHT_NOBITS:
                names = self.read(off, min(size, MAX_SECTION_NAMES))
        elif rows and shstrndx != 0:
            self.warnings.append(f"section names unreadable (e_shstrndx {shstrndx} of {len(rows)} sections)")
        out = []
        for i, (name_off, stype, flags, addr, off, size, link, info, _align, entsize) in enumerate(rows):
            name = cstring(names, name_off, MAX_NAME) or ""
            held = 0 if stype == SHT_NOBITS or off >= self.size else max(0, min(size, self.size - off))
            out.append(Section(i, name, stype, flags, addr, off, size, link, info, entsize, held))
        return tuple(out)

    # --- lookups -----------------------------------------------------------------------

    def section(self, name: str) -> Section | None:
        """The first section of that name."""
        return self._by_name.get(name)

    def of_type(self, sh_type: int) -> Section | None:
        """The first section of that type."""
        return next((s for s in self.sections if s.sh_type == sh_type), None)

    def linked(self, sec: Section) -> Section | None:
        """The section ``sec.sh_link`` names (its string or symbol table), if any."""
        return self.sections[sec.link] if 0 < sec.link < len(self.sections) else None

    def segments_of(self, p_type: int) -> list[Segment]:
        return [s for s in self.segments if s.p_type == p_type]

    def vaddr_to_offset(self, addr: int) -> tuple[int, int] | None:
        """(file offset, bytes the file holds from there in that segment) of a virtual
        address inside a PT_LOAD's file image, or None."""
        for ld in self.loads:
            if ld.vaddr <= addr < ld.vaddr + ld.held:
                delta = addr - ld.vaddr
                return ld.offset + delta, ld.held - delta
        return None

    # --- reads -------------------------------------------------------------------------

    def read(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``: fewer where the file ends, none past it."""
        if offset < 0 or size <= 0 or offset >= self.size:
            return b""
        self.stream.seek(offset)
        return bytes(self.stream.read(min(size, self.size - offset)))

    def read_vaddr(self, addr: int, size: int) -> bytes:
        """Up to ``size`` bytes at a virtual address, within one PT_LOAD's file image."""
        where = self.vaddr_to_offset(addr)
        if where is None:
            return b""
        return self.read(where[0], min(size, where[1]))

    def data(self, sec: Section, *, limit: int = MAX_SECTION_READ, budget: Budget | None = None,
             whole: bool = False) -> bytes | bytearray:
        """The bytes of a section, uncompressed: at most ``limit`` of a plain section (all of
        them or Damaged when ``whole``); a compressed one whole, or Refused when its
        declared size is over ``limit``, ``budget`` or the file's inflation budget.

        SHT_NOBITS gives no bytes at all. ``budget``, when given, is charged with every
        byte returned.
        """
        if sec.nobits or sec.size == 0:
            return b""
        if sec.held < sec.size and (whole or sec.compressed):
            raise Damaged(f"{sec.name} ({sec.size} bytes at {sec.offset:#x}) ends past the end of the file "
                          f"({self.size} bytes)")
        if sec.flags & SHF_COMPRESSED:
            return self._inflate_chdr(sec, limit, budget)
        if sec.name.startswith(".zdebug"):
            return self._inflate_zdebug(sec, limit, budget)
        n = min(sec.held, limit)
        if whole and n < sec.size:
            raise Refused(f"{sec.name} holds {sec.size} bytes (more than {limit}: refused)")
        if budget is not None:
            if n > budget.limit:
                raise Refused(f"{sec.name} holds {n} bytes (more than {budget.limit}: refused)")
            budget.charge(n)
        return self.read(sec.offset, n)

    def _inflate_chdr(self, sec: Section, limit: int, budget: Budget | None) -> bytearray:
        if self.is64:
            head = self.read(sec.offset, 24)
            if len(head) < 24 or sec.size < 24:
                raise Damaged(f"{sec.name}: compression header truncated")
            ch_type, _res, declared, _align = struct.unpack(self.order + "IIQQ", head)
            skip = 24
        else:
            head = self.read(sec.offset, 12)
            if len(head) < 12 or sec.size < 12:
                raise Damaged(f"{sec.name}: compression header truncated")
            ch_type, declared, _align = struct.unpack(self.order + "III", head)
            skip = 12
        if ch_type == ELFCOMPRESS_ZSTD:
            raise Damaged(f"{sec.name} is zstd-compressed (not supported)")
        if ch_type != ELFCOMPRESS_ZLIB:
            raise Damaged(f"{sec.name}: unknown compression type {ch_type}")
        return self._inflate(sec, sec.offset + skip, sec.size - skip, declared, limit, budget)

    def _inflate_zdebug(self, sec: Section, limit: int, budget: Budget | None) -> bytearray:
        head = self.read(sec.offset, 12)
        if len(head) < 12 or head[:4] != b"ZLIB":
            raise Damaged(f"{sec.name}: not a ZLIB-compressed section")
        declared = int.from_bytes(head[4:12], "big")
        return self._inflate(sec, sec.offset + 12, sec.size - 12, declared, limit, budget)

    def _inflate(self, sec: Section, start: int, stored: int, declared: int, limit: int,
                 budget: Budget | None) -> bytearray:
        """Inflate a zlib stream of ``stored`` bytes at ``start`` to exactly ``declared``
        bytes, after checking ``declared`` against every budget (never past it)."""
        cap = min(limit, self.inflate_budget.limit, budget.limit if budget is not None else limit)
        if declared > cap:
            raise Refused(f"{sec.name} declares {declared} bytes uncompressed (more than {cap}: refused)")
        self.inflate_budget.charge(declared)
        if budget is not None:
            budget.charge(declared)
        out = bytearray()
        inflater = zlib.decompressobj()
        pos, end = start, start + stored
        try:
            while pos < end and not inflater.eof:
                chunk = self.read(pos, min(end - pos, _CHUNK))
                if not chunk:
                    break
                pos += len(chunk)
                buf: bytes = chunk
                while buf and not inflater.eof:
                    out += inflater.decompress(buf, declared - len(out) + 1)  # never 0 (unbounded)
                    if len(out) > declared:
                        raise Refused(f"{sec.name} declares {declared} bytes uncompressed but inflates to more "
                                      "(refused)")
                    buf = inflater.unconsumed_tail
        except zlib.error as exc:
            raise Damaged(f"{sec.name}: compressed data damaged ({exc})") from None
        if not inflater.eof or len(out) != declared:
            raise Damaged(f"{sec.name}: compressed data ends after {len(out)} of the {declared} bytes it declares")
        return out
