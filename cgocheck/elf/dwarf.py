"""DWARF compile units: producer, language and, for C/C++ units, the files they read.

Our own bounded reader of the little cgocheck needs (DWARF 2-5, 32- and 64-bit formats):
unit headers in .debug_info, the one abbreviation each unit's top DIE uses, that DIE's
attributes, and the header of each C/C++ unit's line table (its directories and files,
where host-header contamination shows); line programs themselves are not decoded.

pyelftools, which this replaced, trusts what the file says: a DW_FORM_block or string is
read byte by byte into a Python list (a 100 MB block: 100 M list items), a DWARF 5 line
header with no entry format and 2^62 directories loops until memory runs out. Here every
length is checked against the bytes of its section before it is used, a skipped form
costs nothing per byte, a list whose entries would take no bytes is refused, and the work
of one file is bounded (:data:`MAX_DWARF_UNITS` units, :data:`MAX_FILES_PER_UNIT` files a
unit, :data:`MAX_WARNINGS` warnings). A damaged unit is skipped with a warning when its
length still says where the next one starts, and ends the reading (with a warning)
otherwise; nothing here raises for a damaged file.

The sections are read through :class:`cgocheck.elf.layout.Layout` against one
:class:`~cgocheck.elf.layout.Budget` (:data:`MAX_DWARF_BYTES`, at most
:data:`MAX_DWARF_RATIO` times the file size): a section that declares more, compressed
or not, is not read, and SHT_NOBITS sections hold nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from cgocheck.elf.decode import language_name
from cgocheck.elf.layout import Budget, Damaged, Layout, Refused, budget_for
from cgocheck.elf.model import DwarfUnit
from cgocheck.elf.text import cstring, decode

MAX_DWARF_BYTES = 512 << 20  # debug sections held at once, uncompressed
MAX_DWARF_RATIO = 50  # times the file's size (real DWARF compresses 3-10x)
MAX_DWARF_UNITS = 100_000  # compile units listed; a 100 MB Go binary has a few thousand
MAX_FILES_PER_UNIT = 20_000
MAX_WARNINGS = 20  # DWARF warnings of one file; the rest are counted in one more
MAX_ABBREV_ATTRS = 1024  # attributes of one abbreviation (real ones: < 40)
MAX_ABBREV_SCAN = 1 << 16  # abbreviations scanned to find one code in a table
MAX_STRING = 16 << 10  # bytes of one DWARF string (producers with a whole command line: ~3 KB)

# the sections read, in the order they are read (the first is required)
SECTIONS = (".debug_info", ".debug_abbrev", ".debug_str", ".debug_line", ".debug_line_str", ".debug_str_offsets")

DW_AT_name, DW_AT_stmt_list, DW_AT_language, DW_AT_comp_dir, DW_AT_producer = 0x03, 0x10, 0x13, 0x1B, 0x25
DW_AT_str_offsets_base = 0x72
_WANTED = {DW_AT_name, DW_AT_stmt_list, DW_AT_language, DW_AT_comp_dir, DW_AT_producer, DW_AT_str_offsets_base}
DW_UT_compile, DW_UT_type, DW_UT_partial, DW_UT_skeleton, DW_UT_split_compile, DW_UT_split_type = 1, 2, 3, 4, 5, 6
DW_LNCT_path, DW_LNCT_directory_index = 1, 2

# DWARF forms by the bytes they take: fixed sizes, and the variable ones handled below.
F_ADDR, F_BLOCK2, F_BLOCK4, F_DATA2, F_DATA4, F_DATA8, F_STRING, F_BLOCK, F_BLOCK1 = 1, 3, 4, 5, 6, 7, 8, 9, 10
F_DATA1, F_FLAG, F_SDATA, F_STRP, F_UDATA, F_REF_ADDR, F_REF1, F_REF2, F_REF4, F_REF8 = (
    11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
F_REF_UDATA, F_INDIRECT, F_SEC_OFFSET, F_EXPRLOC, F_FLAG_PRESENT, F_STRX, F_ADDRX = 21, 22, 23, 24, 25, 26, 27
F_REF_SUP4, F_STRP_SUP, F_DATA16, F_LINE_STRP, F_REF_SIG8, F_IMPLICIT_CONST = 28, 29, 30, 31, 32, 33
F_LOCLISTX, F_RNGLISTX, F_REF_SUP8, F_STRX1, F_STRX2, F_STRX3, F_STRX4 = 34, 35, 36, 37, 38, 39, 40
F_ADDRX1, F_ADDRX2, F_ADDRX3, F_ADDRX4 = 41, 42, 43, 44
F_GNU_ADDR_INDEX, F_GNU_STR_INDEX, F_GNU_REF_ALT, F_GNU_STRP_ALT = 0x1F01, 0x1F02, 0x1F20, 0x1F21

_FIXED = {
    F_DATA1: 1, F_REF1: 1, F_FLAG: 1, F_STRX1: 1, F_ADDRX1: 1,
    F_DATA2: 2, F_REF2: 2, F_STRX2: 2, F_ADDRX2: 2,
    F_STRX3: 3, F_ADDRX3: 3,
    F_DATA4: 4, F_REF4: 4, F_REF_SUP4: 4, F_STRX4: 4, F_ADDRX4: 4,
    F_DATA8: 8, F_REF8: 8, F_REF_SIG8: 8, F_REF_SUP8: 8,
    F_DATA16: 16,
    F_FLAG_PRESENT: 0, F_IMPLICIT_CONST: 0,
}
_OFFSET_SIZED = {F_STRP, F_SEC_OFFSET, F_LINE_STRP, F_STRP_SUP, F_GNU_REF_ALT, F_GNU_STRP_ALT}
_ULEB = {F_UDATA, F_REF_UDATA, F_STRX, F_ADDRX, F_LOCLISTX, F_RNGLISTX, F_GNU_ADDR_INDEX, F_GNU_STR_INDEX}
_STRX = {F_STRX, F_STRX1, F_STRX2, F_STRX3, F_STRX4, F_GNU_STR_INDEX}
_UNSIGNED_FIXED = {F_DATA1, F_DATA2, F_DATA4, F_DATA8, F_STRX1, F_STRX2, F_STRX3, F_STRX4}


_MAX_LEB = 16  # bytes of one LEB128 number (a 64-bit value takes 10; padding a few more)


class _Cut(Exception):
    """A read past the end of the bytes it must stay in (or a LEB128 number too long)."""


class _Exhausted(Exception):
    """The work allowed for one file's DWARF is spent."""


class _Work:
    """What one file's DWARF may cost, all units together, in the units Python pays for.

    Each unit's own bytes are read once; abbreviation tables, line-table headers and
    strings are shared between units, and a file can point every unit at a different
    place of a big one. Measured on this machine (the libc6-dbg file: 2063 units, 1 MB of
    abbreviations and of line headers, 2.9 s before the tables were parsed lazily), each
    limit below costs at most about 2 s; real files use a small part of them (that libc:
    60 KB of abbreviations, 1 MB of line headers, 130 000 attributes).
    """

    LIMITS: ClassVar[dict[str, int]] = {
        "abbrev": 4 << 20,  # bytes of abbreviation tables parsed
        "line": 4 << 20,  # bytes of line-table headers parsed
        "attrs": 2_000_000,  # attributes of top DIEs and line-table entries decoded
        "strings": 64 << 20,  # bytes of strings looked up (C-speed: cheap, but not free)
    }
    WHAT: ClassVar[dict[str, str]] = {
        "abbrev": "bytes of .debug_abbrev parsed",
        "line": "bytes of line-table headers parsed",
        "attrs": "attributes decoded",
        "strings": "bytes of strings looked up",
    }

    def __init__(self) -> None:
        self.left = dict(self.LIMITS)

    def spend(self, what: str, n: int) -> None:
        self.left[what] -= n
        if self.left[what] < 0:
            raise _Exhausted(f"more than {self.LIMITS[what]} {self.WHAT[what]}")


class _Cursor:
    """Reads within ``data[pos:end]``; every read past ``end`` raises _Cut."""

    __slots__ = ("data", "end", "order", "pos")

    def __init__(self, data: bytes | bytearray, pos: int, end: int, order: str) -> None:
        self.data = data
        self.pos = pos
        self.end = min(end, len(data))
        self.order: str = order

    def take(self, n: int) -> bytes | bytearray:
        if n < 0 or self.pos + n > self.end:
            raise _Cut
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.end:
            raise _Cut
        self.pos += n

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "little" if self.order == "<" else "big")

    def uleb(self) -> int:
        pos = self.pos
        if pos < self.end and self.data[pos] < 0x80:  # the common one-byte number
            self.pos = pos + 1
            return self.data[pos]
        value = shift = 0
        data, end = self.data, min(self.end, pos + _MAX_LEB)
        while True:
            if pos >= end:
                raise _Cut
            b = data[pos]
            pos += 1
            if shift < 64:
                value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                self.pos = pos
                return value

    def sleb(self) -> int:
        value = shift = 0
        data, pos, end = self.data, self.pos, min(self.end, self.pos + _MAX_LEB)
        while True:
            if pos >= end:
                raise _Cut
            b = data[pos]
            pos += 1
            if shift < 64:
                value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                if b & 0x40 and shift < 64:
                    value -= 1 << shift
                self.pos = pos
                return value

    def cstr(self) -> bytes | bytearray:
        nul = self.data.find(b"\0", self.pos, self.end)
        if nul < 0:
            raise _Cut
        out = self.data[self.pos : nul]
        self.pos = nul + 1
        return out


@dataclass(frozen=True)
class _Abbrev:
    tag: int
    has_children: bool
    attrs: tuple[tuple[int, int, int], ...]  # (attribute, form, implicit constant)


@dataclass
class _Unit:
    offset: int
    end: int
    version: int
    offset_size: int
    address_size: int
    die_offset: int
    abbrev_offset: int


class _Sections:
    def __init__(self, found: dict[str, bytes | bytearray]) -> None:
        self.info = found.get(".debug_info", b"")
        self.abbrev = found.get(".debug_abbrev", b"")
        self.str = found.get(".debug_str", b"")
        self.line = found.get(".debug_line", b"")
        self.line_str = found.get(".debug_line_str", b"")
        self.str_offsets = found.get(".debug_str_offsets", b"")


class _Warn:
    """Warnings of one file's DWARF, at most MAX_WARNINGS (and a count of the rest)."""

    def __init__(self, out: list[str] | None) -> None:
        self.out = out
        self.n = 0

    def __call__(self, text: str) -> None:
        self.n += 1
        if self.out is not None and self.n <= MAX_WARNINGS:
            self.out.append(f"DWARF: {text}")

    def close(self) -> None:
        if self.out is not None and self.n > MAX_WARNINGS:
            self.out.append(f"DWARF: {self.n - MAX_WARNINGS} more warnings like these")


def has_dwarf(layout: Layout) -> bool:
    """The file holds DWARF (a .debug_info or .zdebug_info with bytes in the file)."""
    sec = layout.section(".debug_info") or layout.section(".zdebug_info")
    return sec is not None and sec.has_data


def nobits_info(layout: Layout) -> bool:
    """.debug_info (or .zdebug_info) is there, but SHT_NOBITS: it declares bytes it has not."""
    sec = layout.section(".debug_info") or layout.section(".zdebug_info")
    return sec is not None and sec.nobits and sec.size > 0


def read_sections(layout: Layout, warnings: list[str] | None = None,
                  budget: Budget | None = None) -> dict[str, bytes | bytearray]:
    """The debug sections this reader uses, uncompressed, within the budget.

    Refused (naming the section and the sizes) when one or all of them declare more than
    the budget; Damaged when one is cut off by the end of the file or does not inflate, or
    when .debug_info holds no bytes. Another SHT_NOBITS one is read as absent, with a
    warning: its sh_size is never an allocation.
    """
    budget = budget or budget_for(layout.size, MAX_DWARF_BYTES, "the debug sections", MAX_DWARF_RATIO)
    found: dict[str, bytes | bytearray] = {}
    for name in SECTIONS:
        sec = layout.section(name) or layout.section(".z" + name[1:])
        if sec is None or not sec.has_data:
            if sec is not None and sec.nobits and sec.size:
                if name == ".debug_info":
                    raise Damaged(f"{sec.name} holds no bytes in the file (SHT_NOBITS)")
                if warnings is not None:
                    warnings.append(f"DWARF: {sec.name} holds no bytes in the file (SHT_NOBITS); read without it")
            continue
        found[name] = layout.data(sec, limit=budget.limit, budget=budget, whole=True)
    return found


def read_units(layout: Layout, warnings: list[str] | None = None,
               limit: int = MAX_DWARF_UNITS) -> tuple[DwarfUnit, ...]:
    """Every compile unit's top DIE (and C/C++ units' line-table files). Never raises for
    damage in the DWARF itself: Refused/Damaged come only from reading the sections."""
    if not has_dwarf(layout) and not nobits_info(layout):
        return ()
    secs = _Sections(read_sections(layout, warnings))
    warn = _Warn(warnings)
    order = layout.order
    work = _Work()
    abbrevs: dict[int, _AbbrevTable] = {}
    lines: dict[tuple[int, str | None], tuple[str, ...]] = {}
    units: list[DwarfUnit] = []
    pos = 0
    info = secs.info
    seen = 0
    try:
        while pos < len(info):
            if seen >= limit:
                warn(f"more than {limit} units; the rest were not read")
                break
            seen += 1
            unit = _unit_header(info, pos, order)
            if isinstance(unit, str):
                warn(unit)
                break
            if unit.end > len(info):
                warn(f"the compile unit at {pos:#x} claims {unit.end - pos} bytes, past the end of .debug_info "
                     f"({len(info)} bytes); it and the rest were not read")
                break
            pos = unit.end
            if not 2 <= unit.version <= 5:
                warn(f"the unit at {unit.offset:#x} has version {unit.version} (not 2-5); skipped")
                continue
            if unit.address_size not in (1, 2, 4, 8):
                warn(f"the unit at {unit.offset:#x} has address size {unit.address_size}; skipped")
                continue
            try:
                units.append(_top_die(secs, unit, order, abbrevs, lines, work, warn))
            except _Cut:
                warn(f"the unit at {unit.offset:#x}: its top DIE runs past the unit; skipped")
            except Damaged as exc:
                warn(f"the unit at {unit.offset:#x}: {exc}; skipped")
    except _Exhausted as exc:
        warn(f"{exc}; the rest was not read")
    warn.close()
    return tuple(units)


def _unit_header(info: bytes | bytearray, pos: int, order: str) -> _Unit | str:
    """The header of the unit at ``pos``, or why the units cannot be followed past it.

    A unit whose own fields are cut off by its length comes back with version 0 (skipped:
    its length still says where the next one starts).
    """
    c = _Cursor(info, pos, len(info), order)
    try:
        length = c.uint(4)
        offset_size = 4
        if length == 0xFFFFFFFF:
            length = c.uint(8)
            offset_size = 8
    except _Cut:
        return f"the unit header at {pos:#x} is cut off by the end of .debug_info; it and the rest were not read"
    if offset_size == 4 and length >= 0xFFFFFFF0:
        return f"the unit at {pos:#x} has a reserved length {length:#x}; it and the rest were not read"
    end = c.pos + length
    c.end = min(end, len(info))
    try:
        return _unit_fields(c, pos, end, offset_size)
    except _Cut:
        return _Unit(pos, end, 0, offset_size, 0, c.pos, 0)


def _unit_fields(c: _Cursor, pos: int, end: int, offset_size: int) -> _Unit:
    version = c.uint(2)
    if version == 5:
        unit_type = c.uint(1)
        address_size = c.uint(1)
        abbrev_offset = c.uint(offset_size)
        if unit_type in (DW_UT_skeleton, DW_UT_split_compile):
            c.skip(8)
        elif unit_type in (DW_UT_type, DW_UT_split_type):
            c.skip(8 + offset_size)
    elif 2 <= version <= 4:
        abbrev_offset = c.uint(offset_size)
        address_size = c.uint(1)
    else:
        return _Unit(pos, end, version, offset_size, 0, c.pos, 0)
    return _Unit(pos, end, version, offset_size, address_size, c.pos, abbrev_offset)


class _AbbrevTable:
    """One abbreviation table, parsed only as far as the codes asked for (a unit's top DIE
    is nearly always code 1, the first entry), at most MAX_ABBREV_SCAN entries."""

    def __init__(self, data: bytes | bytearray, start: int) -> None:
        self.cursor = _Cursor(data, start, len(data), "<")
        self.found: dict[int, _Abbrev] = {}
        self.entries = 0
        self.done = False

    def get(self, code: int, work: _Work) -> _Abbrev | None:
        c = self.cursor
        while code not in self.found and not self.done:
            start = c.pos
            try:
                self._next(c)
            except _Cut:
                self.done = True  # a table cut short keeps the abbreviations before the cut
            finally:
                work.spend("abbrev", c.pos - start)
        return self.found.get(code)

    def _next(self, c: _Cursor) -> None:
        this = c.uleb()
        self.entries += 1
        if this == 0 or self.entries > MAX_ABBREV_SCAN:
            self.done = True
            return
        tag = c.uleb()
        children = c.uint(1) != 0
        attrs: list[tuple[int, int, int]] = []
        while True:
            attr, form = c.uleb(), c.uleb()
            if attr == 0 and form == 0:
                break
            const = c.sleb() if form == F_IMPLICIT_CONST else 0
            if len(attrs) >= MAX_ABBREV_ATTRS:
                raise Damaged(f"abbreviation {this} has more than {MAX_ABBREV_ATTRS} attributes")
            attrs.append((attr, form, const))
        self.found.setdefault(this, _Abbrev(tag, children, tuple(attrs)))


def _form_value(c: _Cursor, form: int, unit: _Unit, const: int) -> int | bytes | bytearray | None:
    """The value of one attribute: an int (constants, offsets, indexes), the bytes of an
    inline string, or None for forms whose value we skip (blocks, addresses...)."""
    for _ in range(4):  # DW_FORM_indirect names the form in the data (at most a few deep)
        if form != F_INDIRECT:
            break
        form = c.uleb()
    else:
        raise Damaged("DW_FORM_indirect nested too deep")
    size = _FIXED.get(form)
    if size is not None:
        if form == F_IMPLICIT_CONST:
            return const
        if form in _UNSIGNED_FIXED or form in (F_REF1, F_REF2, F_REF4, F_REF8, F_FLAG):
            return c.uint(size)
        c.skip(size)
        return None
    if form in _OFFSET_SIZED:
        return c.uint(unit.offset_size)
    if form in _ULEB:
        return c.uleb()
    if form == F_SDATA:
        return c.sleb()
    if form == F_STRING:
        return c.cstr()
    if form == F_ADDR:
        c.skip(unit.address_size)
        return None
    if form == F_REF_ADDR:
        c.skip(unit.address_size if unit.version == 2 else unit.offset_size)
        return None
    if form == F_BLOCK1:
        c.skip(c.uint(1))
    elif form == F_BLOCK2:
        c.skip(c.uint(2))
    elif form == F_BLOCK4:
        c.skip(c.uint(4))
    elif form in (F_BLOCK, F_EXPRLOC):
        c.skip(c.uleb())
    else:
        raise Damaged(f"unknown attribute form {form:#x}")
    return None


class _StrForms:
    """Resolve string forms against .debug_str, .debug_line_str, .debug_str_offsets."""

    def __init__(self, secs: _Sections, unit: _Unit, base: int | None, order: str, work: _Work) -> None:
        self.secs = secs
        self.unit = unit
        self.base = base
        self.order = order
        self.work = work

    def _at(self, table: bytes | bytearray, offset: int) -> str | None:
        got = cstring(table, offset, MAX_STRING)
        self.work.spend("strings", len(got) + 1 if got is not None else 1)
        return got

    def __call__(self, form: int, value: int | bytes | bytearray | None) -> str | None:
        if isinstance(value, (bytes, bytearray)):
            return decode(value, MAX_STRING)
        if value is None:
            return None
        if form == F_STRP:
            return self._at(self.secs.str, value)
        if form == F_LINE_STRP:
            return self._at(self.secs.line_str, value)
        if form in _STRX:
            base = self.base if self.base is not None else (16 if self.unit.offset_size == 8 else 8)
            at = base + value * self.unit.offset_size
            if at < 0 or at + self.unit.offset_size > len(self.secs.str_offsets):
                return None
            off = int.from_bytes(self.secs.str_offsets[at : at + self.unit.offset_size],
                                 "little" if self.order == "<" else "big")
            return self._at(self.secs.str, off)
        return None  # the strings of a supplementary file (DW_FORM_GNU_strp_alt...) are not here


def _top_die(secs: _Sections, unit: _Unit, order: str, cache: dict[int, _AbbrevTable],
             lines: dict[tuple[int, str | None], tuple[str, ...]], work: _Work, warn: Callable[[str], None],
             ) -> DwarfUnit:
    c = _Cursor(secs.info, unit.die_offset, unit.end, order)
    code = c.uleb()
    if code == 0:
        return DwarfUnit(name="", language=language_name(None), producer=None, comp_dir=None)
    table = cache.get(unit.abbrev_offset)
    if table is None:
        if unit.abbrev_offset >= len(secs.abbrev):
            raise Damaged(f"its abbreviation offset {unit.abbrev_offset:#x} is past .debug_abbrev "
                          f"({len(secs.abbrev)} bytes)")
        table = cache[unit.abbrev_offset] = _AbbrevTable(secs.abbrev, unit.abbrev_offset)
    ab = table.get(code, work)
    if ab is None:
        raise Damaged(f"abbreviation {code} is not in the table at {unit.abbrev_offset:#x} of .debug_abbrev")
    raw: dict[int, tuple[int, int | bytes | bytearray | None]] = {}
    work.spend("attrs", len(ab.attrs))
    for attr, form, const in ab.attrs:
        value = _form_value(c, form, unit, const)
        if attr in _WANTED and attr not in raw:
            raw[attr] = (form, value)
    base = raw.get(DW_AT_str_offsets_base, (0, None))[1]
    strings = _StrForms(secs, unit, base if isinstance(base, int) else None, order, work)

    def text(attr: int) -> str | None:
        got = raw.get(attr)
        return strings(*got) if got is not None else None

    lang_value = raw.get(DW_AT_language, (0, None))[1]
    lang = language_name(lang_value if isinstance(lang_value, int) else None)
    comp_dir = text(DW_AT_comp_dir)
    files: tuple[str, ...] = ()
    stmt = raw.get(DW_AT_stmt_list, (0, None))[1]
    if lang in ("C", "C++", "Assembler") and isinstance(stmt, int):
        try:
            key = (stmt, comp_dir)
            if key not in lines:
                lines[key] = ()
                lines[key] = _line_files(secs, stmt, comp_dir, order, strings, work)
            files = lines[key]
        except _Cut:
            warn(f"the line table at {stmt:#x} of .debug_line is cut off; its files were not read")
        except Damaged as exc:
            warn(f"the line table at {stmt:#x} of .debug_line: {exc}; its files were not read")
    return DwarfUnit(
        name=text(DW_AT_name) or "",
        language=lang,
        producer=text(DW_AT_producer),
        comp_dir=comp_dir,
        files=files,
    )


def _line_files(secs: _Sections, offset: int, comp_dir: str | None, order: str, unit_strings: _StrForms,
                work: _Work) -> tuple[str, ...]:
    """The files a line table's header names, as paths (absolute where it allows)."""
    line = secs.line
    if offset >= len(line):
        raise Damaged(f"offset past the end of .debug_line ({len(line)} bytes)")
    c = _Cursor(line, offset, len(line), order)
    try:
        return _line_header(c, secs, offset, comp_dir, order, unit_strings)
    finally:
        work.spend("line", c.pos - offset)


def _line_header(c: _Cursor, secs: _Sections, offset: int, comp_dir: str | None, order: str,
                 unit_strings: _StrForms) -> tuple[str, ...]:
    line = secs.line
    length = c.uint(4)
    offset_size = 4
    if length == 0xFFFFFFFF:
        length = c.uint(8)
        offset_size = 8
    c.end = min(c.pos + length, len(line))
    version = c.uint(2)
    if not 2 <= version <= 5:
        raise Damaged(f"version {version} (not 2-5)")
    if version >= 5:
        c.skip(2)  # address_size, segment_selector_size
    header_length = c.uint(offset_size)
    c.end = min(c.end, c.pos + header_length)
    c.skip(1)  # minimum_instruction_length
    if version >= 4:
        c.skip(1)  # maximum_operations_per_instruction
    c.skip(3)  # default_is_stmt, line_base, line_range
    opcode_base = c.uint(1)
    c.skip(max(0, opcode_base - 1))  # standard_opcode_lengths
    unit = _Unit(offset, c.end, version, offset_size, 0, 0, 0)
    strings = _StrForms(secs, unit, unit_strings.base, order, unit_strings.work)
    dirs: list[str] = []
    entries: list[tuple[str, int]] = []
    if version >= 5:
        dirs = [d for d, _ in _v5_entries(c, unit, strings, "directories")]
        entries = _v5_entries(c, unit, strings, "file names")
    else:
        while True:
            d = c.cstr()
            if not d:
                break
            if len(dirs) < MAX_FILES_PER_UNIT:
                dirs.append(decode(d))
        while len(entries) < MAX_FILES_PER_UNIT:
            unit_strings.work.spend("attrs", 1)
            raw_name = c.cstr()
            if not raw_name:
                break
            dir_index = c.uleb()
            c.uleb()  # mtime
            c.uleb()  # length
            entries.append((decode(raw_name), dir_index))
    files: dict[str, None] = {}
    for name, idx in entries:
        if version >= 5:
            base = dirs[idx] if 0 <= idx < len(dirs) else None
        else:
            base = comp_dir if idx == 0 else (dirs[idx - 1] if 0 < idx <= len(dirs) else None)
        if base and not base.startswith("/") and comp_dir:
            base = posixpath.join(comp_dir, base)
        path = posixpath.normpath(posixpath.join(base, name)) if base else name
        files.setdefault(path)
    return tuple(files)


def _v5_entries(c: _Cursor, unit: _Unit, strings: _StrForms, what: str) -> list[tuple[str, int]]:
    """A DWARF 5 directory or file-name list: (path, directory index) of each entry."""
    nformats = c.uint(1)
    formats = [(c.uleb(), c.uleb()) for _ in range(nformats)]
    count = c.uleb()
    if count and not formats:
        raise Damaged(f"{count} {what} with no entry format")
    if count and all(_FIXED.get(f) == 0 for _, f in formats):
        raise Damaged(f"{count} {what} whose entries take no bytes")
    if count > c.end - c.pos:  # every entry takes at least one byte
        raise Damaged(f"{count} {what} declared in {c.end - c.pos} bytes of header")
    out: list[tuple[str, int]] = []
    for _ in range(count):
        path = ""
        index = 0
        strings.work.spend("attrs", len(formats))
        for content, form in formats:
            value = _form_value(c, form, unit, 0)
            if content == DW_LNCT_path:
                path = strings(form, value) or ""
            elif content == DW_LNCT_directory_index and isinstance(value, int):
                index = value
        if len(out) < MAX_FILES_PER_UNIT:
            out.append((path, index))
    return out


__all__ = ["MAX_DWARF_BYTES", "MAX_DWARF_RATIO", "MAX_DWARF_UNITS", "Refused", "has_dwarf", "nobits_info",
           "read_sections", "read_units"]
