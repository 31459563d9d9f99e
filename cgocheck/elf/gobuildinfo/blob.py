"""Go-specific facts of an ELF file: build info, whether runtime/cgo is linked, link mode.

Our own reader of what Go's linker leaves in a binary, modelled on Go's ``debug/buildinfo``
and ``runtime/debug.ParseBuildInfo`` (read, not transliterated):

* ``.go.buildinfo`` starts with a 32-byte header: the magic ``"\\xff Go buildinf:"`` (14 bytes),
  a pointer size, a flags byte, then (pre-1.18 only) two target pointers. ``flags & 2`` set
  (Go 1.18+): the header is followed by two varint-length-prefixed strings, the Go version and
  the modinfo. ``flags & 2`` clear (Go 1.13-1.17): the two pointers point at Go string headers
  ``{data *byte; len int}`` of the header's pointer size and byte order (``flags & 1`` = big
  endian), which we follow through the PT_LOAD address map, with the file's RELATIVE
  relocations applied (PIE and c-shared files; Go's own reader skips that and misreads them).
* modinfo is framed by two 16-byte sentinels, then holds ``path``/``mod``/``dep``/``=>``/
  ``build`` lines; ``build`` keys and values may be strconv-quoted.

Everything read from the file is bounded (strings at 1 MiB, searches by the segment and the
file size) and damage surfaces as :class:`cgocheck.core.errors.BadInput` from the parsers, or as a
soft warning from :func:`read_go_facts` (a Go binary with damaged build info still gets
``GoFacts`` with ``buildinfo=None``).

The cgo and link-mode signals were chosen by building real binaries (Go 1.15, 1.19, 1.27;
amd64, arm64, arm, riscv64, 386, s390x, mips, ppc64; gcc, clang+lld; internal and external
linking; exe, pie, c-shared, static; stripped or not); see
``tests/integration/test_gobuildinfo_oracle.py``.

cgo_linked: C symbols only runtime/cgo defines (x_cgo_init, crosscall2, _cgo_topofstack,
x_cgo_thread_start) in .symtab or .dynsym -- crosscall2/_cgo_topofstack stay exported in
.dynsym after ``-s -w`` -- else ``runtime/cgo.`` / ``runtime/cgo/`` in .gopclntab (survives
stripping and static linking), else (no section table) a pthread_create import.
``_cgo_init``/``_cgo_thread_start`` are NOT evidence: every Go binary has those runtime
variables. CGO_ENABLED=1 in the build info is reported but proves nothing (a CGO_ENABLED=1
build that imports nothing cgo has no runtime/cgo).

link_mode: "external" from C-linker artefacts (.init/.fini from crti/crtn, PT_GNU_EH_FRAME,
a GCC/clang/LLD .comment, crt symbols); "internal" from Go-linker artefacts (entry point
``_rt0_<arch>_linux``, a dynamic relocation section named ``.rela``/``.rel`` instead of
``.rela.dyn``/``.rel.dyn``, PT_PAX_FLAGS from older Go linkers) or, weaker, Go's section
layout; both kinds at once gives "unknown".
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Literal

from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile

from cgocheck.core.errors import BadInput
from cgocheck.elf.damage import PARSE_ERRORS
from cgocheck.elf.model import GoBuildInfo, GoFacts, GoModule, GoSetting

__all__ = [
    "BUILDINFO_MAGIC",
    "parse_buildinfo_blob",
    "parse_modinfo",
    "read_go_facts",
]

BUILDINFO_MAGIC = b"\xff Go buildinf:"
_HEADER_SIZE = 32
_ALIGN = 16
_MAX_STRING = 1 << 20  # no version or modinfo string is anywhere near 1 MiB
_MAX_VARINT = 10
_SEARCH_CHUNK = 1 << 20
_MAX_SECTION_READ = 256 << 20  # never pull more than this of one section into memory
_MAX_DYN_SYMBOLS = 1 << 14  # a Go binary exports and imports a few hundred at most

_FLAG_BIG_ENDIAN = 0x1
_FLAG_INLINE_STRINGS = 0x2

# Errors a damaged file can make pyelftools (or our own struct reads) raise: every parse
# error by base class (cgocheck.elf.damage). BadInput is caught before it where it matters.
_READ_ERRORS = PARSE_ERRORS

ReadAt = Callable[[int, int], bytes]
_ByteOrder = Literal["little", "big"]


# --------------------------------------------------------------------------------------------
# modinfo text


def _unquote(s: str) -> str:
    """Go's ``strconv.Unquote`` for a double-quoted or back-quoted string; ValueError if not.

    ``\\x`` and octal escapes are bytes (possibly not UTF-8); the result is decoded as UTF-8
    with invalid bytes replaced, as our model holds ``str``.
    """
    if len(s) < 2 or s[0] != s[-1] or s[0] not in '"`':
        raise ValueError("not a quoted string")
    body = s[1:-1]
    if s[0] == "`":
        if "`" in body:
            raise ValueError("backquote inside raw string")
        return body.replace("\r", "")
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == '"' or c == "\n":
            raise ValueError("unescaped quote or newline")
        if c != "\\":
            out += c.encode("utf-8", "replace")
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError("trailing backslash")
        e = body[i + 1]
        i += 2
        simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
        if e in simple:
            out.append(simple[e])
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i : i + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("bad hex escape")
            v = int(digits, 16)
            i += width
            if e == "x":
                out.append(v)
            else:
                if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    raise ValueError("invalid rune")
                out += chr(v).encode("utf-8")
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise ValueError("bad octal escape")
            v = int(digits, 8)
            if v > 255:
                raise ValueError("octal escape out of range")
            out.append(v)
            i += 2
        else:
            raise ValueError(f"unknown escape \\{e}")
    return out.decode("utf-8", "replace")


def _quoted_prefix(s: str) -> str:
    """The quoted string at the start of ``s`` (Go's ``strconv.QuotedPrefix``)."""
    q = s[0]
    if q == "`":
        end = s.find("`", 1)
        if end < 0:
            raise ValueError("unterminated raw string")
        return s[: end + 1]
    i = 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            break
        if c == q:
            cand = s[: i + 1]
            _unquote(cand)  # validates the escapes
            return cand
        i += 1
    raise ValueError("unterminated quoted string")


def _needs_quoted_key(key: str) -> bool:
    return key == "" or any(ch in key for ch in '= \t\r\n"`')


def _needs_quoted_value(value: str) -> bool:
    return any(ch in value for ch in ' \t\r\n"`')


def _module(cols: list[str], lineno: int, *, replacement: bool = False) -> GoModule:
    if replacement:
        if len(cols) != 3:
            raise BadInput(f"Go build info line {lineno}: expected 3 columns for replacement, got {len(cols)}")
    elif len(cols) not in (2, 3):
        raise BadInput(f"Go build info line {lineno}: expected 2 or 3 columns, got {len(cols)}")
    sum_ = cols[2] if len(cols) == 3 and cols[2] else None
    return GoModule(path=cols[0], version=cols[1], sum=sum_)


def parse_modinfo(
    text: str,
) -> tuple[str | None, GoModule | None, tuple[GoModule, ...], tuple[GoSetting, ...]]:
    """Parse modinfo (sentinels already stripped) into (path, main, deps, settings).

    Follows Go's ``ParseBuildInfo``: a final line without a newline is ignored, unknown
    line kinds are skipped, a malformed known line raises :class:`BadInput` naming the line.
    """
    path: str | None = None
    main: GoModule | None = None
    deps: list[GoModule] = []
    settings: list[GoSetting] = []
    # which module the next "=>" line replaces: ("main", -1) or ("dep", index)
    last: tuple[str, int] | None = None

    lines = text.split("\n")
    lines.pop()  # the text after the last newline: Go drops it (empty for well-formed input)
    for lineno, line in enumerate(lines, start=1):
        if line.startswith("path\t"):
            path = line[len("path\t") :]
        elif line.startswith("mod\t"):
            main = _module(line[len("mod\t") :].split("\t"), lineno)
            last = ("main", -1)
        elif line.startswith("dep\t"):
            deps.append(_module(line[len("dep\t") :].split("\t"), lineno))
            last = ("dep", len(deps) - 1)
        elif line.startswith("=>\t"):
            rep = _module(line[len("=>\t") :].split("\t"), lineno, replacement=True)
            if last is None:
                raise BadInput(f"Go build info line {lineno}: replacement with no module before it")
            if last[0] == "main" and main is not None:
                main = GoModule(main.path, main.version, main.sum, rep)
            else:
                d = deps[last[1]]
                deps[last[1]] = GoModule(d.path, d.version, d.sum, rep)
            last = None
        elif line.startswith("build\t"):
            settings.append(_parse_build_line(line[len("build\t") :], lineno))
    return path, main, tuple(deps), tuple(settings)


def _parse_build_line(kv: str, lineno: int) -> GoSetting:
    where = f"Go build info line {lineno}"
    if not kv:
        raise BadInput(f"{where}: build line missing '='")
    if kv[0] == "=":
        raise BadInput(f"{where}: build line with missing key")
    if kv[0] in '"`':
        try:
            raw_key = _quoted_prefix(kv)
            key = _unquote(raw_key)
        except ValueError as e:
            raise BadInput(f"{where}: invalid quoted key ({e})") from None
        if len(kv) == len(raw_key) or kv[len(raw_key)] != "=":
            raise BadInput(f"{where}: no '=' after quoted key")
        raw_value = kv[len(raw_key) + 1 :]
    else:
        key, sep, raw_value = kv.partition("=")
        if not sep:
            raise BadInput(f"{where}: build line missing '=' after key")
        if _needs_quoted_key(key):
            raise BadInput(f"{where}: unquoted key {key!r} must be quoted")
    value = raw_value
    if raw_value and raw_value[0] in '"`':
        try:
            value = _unquote(raw_value)
        except ValueError as e:
            raise BadInput(f"{where}: invalid quoted value for {key} ({e})") from None
    elif _needs_quoted_value(raw_value):
        raise BadInput(f"{where}: unquoted value {raw_value!r} must be quoted")
    return GoSetting(key=key, value=value)


# --------------------------------------------------------------------------------------------
# the build info blob


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 varint at ``pos``; returns (value, new position)."""
    value = 0
    for i in range(_MAX_VARINT):
        if pos + i >= len(data):
            raise BadInput("Go build info truncated inside a string length")
        b = data[pos + i]
        value |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            if i == _MAX_VARINT - 1 and b > 1:
                raise BadInput("Go build info string length overflows 64 bits")
            return value, pos + i + 1
    raise BadInput("Go build info string length overflows 64 bits")


def _inline_string(data: bytes, pos: int, what: str) -> tuple[bytes, int]:
    length, pos = _uvarint(data, pos)
    if length > _MAX_STRING:
        raise BadInput(f"Go build info {what} claims {length} bytes (limit {_MAX_STRING})")
    if pos + length > len(data):
        raise BadInput(f"Go build info truncated: {what} needs {length} bytes, {len(data) - pos} left")
    return data[pos : pos + length], pos + length


def _pointer_string(read_at: ReadAt, addr: int, ptr_size: int, order: _ByteOrder, what: str) -> bytes:
    hdr = read_at(addr, 2 * ptr_size)
    if len(hdr) < 2 * ptr_size:
        raise BadInput(f"Go build info {what} string header at {addr:#x} is not in the file")
    data_addr = int.from_bytes(hdr[:ptr_size], order)
    length = int.from_bytes(hdr[ptr_size:], order)
    if length > _MAX_STRING:
        raise BadInput(f"Go build info {what} claims {length} bytes (limit {_MAX_STRING})")
    if length == 0:
        return b""
    data = read_at(data_addr, length)
    if len(data) < length:
        raise BadInput(f"Go build info {what} ({length} bytes at {data_addr:#x}) is not in the file")
    return data


def _strip_modinfo_frame(mod: bytes) -> bytes:
    # cmd/go frames modinfo with two 16-byte sentinels, the first ending in a newline.
    if len(mod) >= 33 and mod[-17] == 0x0A:
        return mod[16:-16]
    return b""


def parse_buildinfo_blob(data: bytes, read_ptr: ReadAt | None, ptr_size: int, big_endian: bool) -> GoBuildInfo:
    """Decode a build info blob that starts at the magic.

    ``data`` holds the header and whatever follows it in the segment (1.18+ strings are
    inline). ``read_ptr(addr, size)`` returns up to ``size`` bytes at virtual address
    ``addr`` (fewer, or none, where the file ends or nothing is mapped); it is needed only for
    the pre-1.18 layout. ``ptr_size`` and ``big_endian`` describe the ELF file; a pre-1.18
    header that disagrees with them is rejected as damaged. Raises :class:`BadInput`.
    """
    if len(data) < _HEADER_SIZE:
        raise BadInput(f"Go build info header truncated ({len(data)} of {_HEADER_SIZE} bytes)")
    if not data.startswith(BUILDINFO_MAGIC):
        raise BadInput("Go build info does not start with the magic")
    flags = data[15]
    if flags & _FLAG_INLINE_STRINGS:
        layout = "1.18+"
        vers, pos = _inline_string(data, _HEADER_SIZE, "version")
        mod, _ = _inline_string(data, pos, "modinfo")
    else:
        layout = "pre-1.18"
        hdr_ptr = data[14]
        hdr_big = bool(flags & _FLAG_BIG_ENDIAN)
        if hdr_ptr not in (4, 8):
            raise BadInput(f"Go build info header has pointer size {hdr_ptr}")
        if hdr_ptr != ptr_size or hdr_big != big_endian:
            raise BadInput(
                f"Go build info header says {hdr_ptr}-byte "
                f"{'big' if hdr_big else 'little'}-endian pointers, the ELF file "
                f"{ptr_size}-byte {'big' if big_endian else 'little'}-endian"
            )
        if read_ptr is None:
            raise BadInput("pre-1.18 Go build info needs the file's address map")
        order: _ByteOrder = "big" if hdr_big else "little"
        vers_ptr = int.from_bytes(data[16 : 16 + hdr_ptr], order)
        mod_ptr = int.from_bytes(data[16 + hdr_ptr : 16 + 2 * hdr_ptr], order)
        vers = _pointer_string(read_ptr, vers_ptr, hdr_ptr, order, "version")
        mod = _pointer_string(read_ptr, mod_ptr, hdr_ptr, order, "modinfo")
    if not vers:
        raise BadInput("Go build info has an empty Go version")
    go_version = vers.decode("utf-8", "replace")
    if any(ch in go_version for ch in "\n\t\x00"):
        raise BadInput(f"Go build info version {go_version[:40]!r} is not a version")
    path, main, deps, settings = parse_modinfo(_strip_modinfo_frame(mod).decode("utf-8", "replace"))
    return GoBuildInfo(go_version=go_version, layout=layout, path=path, main=main, deps=deps, settings=settings)


# --------------------------------------------------------------------------------------------
# reading the file


@dataclass(frozen=True)
class _Load:
    vaddr: int
    filesz: int  # clipped to what the file holds
    offset: int
    flags: int
    memsz: int
    declared_filesz: int  # p_filesz before clipping to a truncated file


@dataclass(frozen=True)
class _Section:
    index: int
    name: str
    sh_type: int
    addr: int
    offset: int
    size: int
    flags: int
    link: int


_PT_LOAD = 1
_PT_DYNAMIC = 2
_PT_NOTE = 4
_PT_GNU_EH_FRAME = 0x6474E550
_PT_PAX_FLAGS = 0x65041580
_SHT_RELA = 4
_SHT_NOBITS = 8
_SHF_ALLOC = 0x2
_MAX_SEGMENTS = 4096  # real files have a dozen or two
_MAX_SECTIONS = 1 << 18
_MAX_SECTION_NAME = 256


class _Reader:
    """Bounded reads of one ELF file: headers, by file offset, by virtual address (PT_LOAD).

    Program and section headers are decoded here with ``struct`` (cheap, and bounded by the
    file size) rather than through pyelftools, whose per-entry cost turns a damaged
    e_phnum/e_shnum of 65535 into seconds.
    """

    def __init__(self, elf: ELFFile, warnings: list[str]) -> None:
        self.elf = elf
        self.stream: IO[bytes] = elf.stream
        self.warnings = warnings
        self.stream.seek(0, 2)
        self.file_size = self.stream.tell()
        self.is64 = elf.elfclass == 64
        self.endian = "<" if elf.little_endian else ">"
        self.loads: list[_Load] = []
        self.segment_types: list[int] = []
        self.notes: list[tuple[int, int]] = []  # (offset, size) of PT_NOTE segments
        self.dynamic: list[int] = []  # indices of PT_DYNAMIC segments
        self.sections: list[_Section] = []
        h = elf.header
        self.entry = int(h["e_entry"])
        self._read_segments(int(h["e_phoff"]), int(h["e_phentsize"]), int(h["e_phnum"]))
        self._read_sections(int(h["e_shoff"]), int(h["e_shentsize"]), int(h["e_shnum"]), int(h["e_shstrndx"]))

    def _table(self, offset: int, entsize: int, count: int, fmt: struct.Struct, what: str) -> list[tuple[int, ...]]:
        if count <= 0 or offset <= 0:
            return []
        if entsize < fmt.size:
            self.warnings.append(f"Go facts: {what} entry size {entsize} is too small")
            return []
        fits = max(0, (self.file_size - offset) // entsize) if offset < self.file_size else 0
        if fits < count:
            self.warnings.append(f"Go facts: {count} {what}s declared, the file holds {fits}")
        data = self.read_file(offset, min(count, fits) * entsize)
        return [fmt.unpack_from(data, i) for i in range(0, len(data) - fmt.size + 1, entsize)]

    def _read_segments(self, phoff: int, entsize: int, count: int) -> None:
        if count > _MAX_SEGMENTS:
            self.warnings.append(f"Go facts: {count} program headers; reading the first {_MAX_SEGMENTS}")
            count = _MAX_SEGMENTS
        if self.is64:
            fmt = struct.Struct(self.endian + "IIQQQQQQ")
            rows = [
                (t, o, v, fs, ms, fl)
                for t, fl, o, v, _p, fs, ms, _a in self._table(phoff, entsize, count, fmt, "program header")
            ]
        else:
            fmt = struct.Struct(self.endian + "IIIIIIII")
            rows = [
                (t, o, v, fs, ms, fl)
                for t, o, v, _p, fs, ms, fl, _a in self._table(phoff, entsize, count, fmt, "program header")
            ]
        for index, (ptype, off, vaddr, filesz, memsz, flags) in enumerate(rows):
            self.segment_types.append(ptype)
            if ptype == _PT_NOTE:
                self.notes.append((off, filesz))
            elif ptype == _PT_DYNAMIC:
                self.dynamic.append(index)
            if ptype != _PT_LOAD or off >= self.file_size:
                continue
            kept = min(filesz, self.file_size - off)  # a truncated file keeps what it has
            self.loads.append(_Load(vaddr, kept, off, flags, max(memsz, filesz), filesz))

    def _read_sections(self, shoff: int, entsize: int, count: int, shstrndx: int) -> None:
        fmt = struct.Struct(self.endian + ("IIQQQQIIQQ" if self.is64 else "IIIIIIIIII"))
        if (shoff and count == 0) or shstrndx == 0xFFFF:
            # extended numbering: the real values live in section 0
            first = self._table(shoff, entsize, 1, fmt, "section header")
            if first:
                if count == 0:
                    count = first[0][5]
                if shstrndx == 0xFFFF:
                    shstrndx = first[0][6]
        if count > _MAX_SECTIONS:
            self.warnings.append(f"Go facts: {count} section headers; reading the first {_MAX_SECTIONS}")
            count = _MAX_SECTIONS
        rows = self._table(shoff, entsize, count, fmt, "section header")
        names = b""
        if 0 < shstrndx < len(rows):
            names = self.read_file(rows[shstrndx][4], min(rows[shstrndx][5], _MAX_SECTION_READ))
        for i, (name_off, sh_type, flags, addr, offset, size, link, _info, _al, _es) in enumerate(rows):
            end = names.find(b"\0", name_off, name_off + _MAX_SECTION_NAME)
            name = names[name_off:end].decode("utf-8", "replace") if end >= 0 else ""
            self.sections.append(_Section(i, name, sh_type, addr, offset, size, flags, link))

    def section(self, name: str) -> _Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def read_file(self, offset: int, size: int) -> bytes:
        if offset < 0 or size <= 0 or offset >= self.file_size:
            return b""
        size = min(size, self.file_size - offset)
        self.stream.seek(offset)
        return bytes(self.stream.read(size))

    def section_data(self, sec: _Section, limit: int = _MAX_SECTION_READ) -> bytes:
        if sec.sh_type == _SHT_NOBITS:
            return b""
        return self.read_file(sec.offset, min(sec.size, limit))

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
                return bytes(min(size, ld.vaddr + ld.memsz - addr, _MAX_STRING))
        return b""

    def relocated_reader(self) -> ReadAt:
        """``read_at`` with the file's symbol-less RELA relocations applied (load base 0).

        In a pre-1.18 PIE or c-shared file the build info pointers are relocated at load
        time; on RELA targets the linker may leave anything in the file (arm64's GNU ld
        leaves garbage: Go's own reader then prints a nonsense version). A RELA entry with
        symbol 0 (a RELATIVE relocation) at an address means "base + addend" there.
        """
        relocs = self._relative_relocations()
        if not relocs:
            return self.read_at
        offsets = [off for off, _ in relocs]
        width = 8 if self.is64 else 4
        order: _ByteOrder = "little" if self.endian == "<" else "big"
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

    def _relative_relocations(self) -> list[tuple[int, int]]:
        fmt = struct.Struct(self.endian + ("QQq" if self.is64 else "IIi"))
        sym_shift = 32 if self.is64 else 8
        out: list[tuple[int, int]] = []
        for sec in self.sections:
            if sec.sh_type != _SHT_RELA or not sec.flags & _SHF_ALLOC:
                continue
            data = self.section_data(sec)
            usable = len(data) - len(data) % fmt.size
            out += [(off, add) for off, info, add in fmt.iter_unpack(data[:usable]) if info >> sym_shift == 0]
        out.sort()
        return out


def _short(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:200]


def _search_magic(reader: _Reader, start: int, size: int) -> int | None:
    """Address of the first 16-byte-aligned magic in [start, start+size), or None."""
    end = start + size
    addr = (start + _ALIGN - 1) & ~(_ALIGN - 1)
    while addr < end:
        chunk = reader.read_at(addr, min(_SEARCH_CHUNK, end - addr))
        if not chunk:
            return None
        pos = 0
        while True:
            i = chunk.find(BUILDINFO_MAGIC, pos)
            if i < 0:
                break
            if i % _ALIGN == 0:
                return addr + i
            pos = (i + _ALIGN) & ~(_ALIGN - 1)
        addr += len(chunk)
        # chunks are multiples of 16 except a short last read; realign to be safe
        addr = (addr + _ALIGN - 1) & ~(_ALIGN - 1)
    return None


def _find_buildinfo(reader: _Reader) -> int | None:
    """Virtual address of the build info magic: in ``.go.buildinfo``, else in the first
    writable, non-executable PT_LOAD (what Go 1.13-1.17's ``go version`` searched)."""
    sec = reader.section(".go.buildinfo")
    if sec is not None and sec.size > 0:
        return _search_magic(reader, sec.addr, sec.size)
    for ld in reader.loads:
        if ld.flags & 0x2 and not ld.flags & 0x1:  # PF_W and not PF_X
            return _search_magic(reader, ld.vaddr, ld.filesz)
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
        while pos >= 0:
            found[pos] = name.decode("ascii")
            pos = strtab.find(needle, pos + 1)
    return found


def _prefixed_names(strtab: bytes, prefix: bytes, limit: int = 64) -> tuple[bytes, ...]:
    out: set[bytes] = set()
    pos = strtab.find(prefix)
    while pos >= 0 and len(out) < 64:
        end = strtab.find(b"\0", pos, pos + limit)
        if end > 0:
            out.add(strtab[pos:end])
        pos = strtab.find(prefix, pos + 1)
    return tuple(out)


def _scan_symbols(
    reader: _Reader, symtab: _Section, wanted: tuple[bytes, ...], prefix: bytes | None = None
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
    elf_class = reader.elf.elfclass
    endian = "<" if reader.elf.little_endian else ">"
    out: list[_Sym] = []
    if elf_class == 64:
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
    """For files without section headers: symbols through PT_DYNAMIC (pyelftools)."""
    out: list[_Sym] = []
    for index in reader.dynamic[:1]:
        seg = reader.elf.get_segment(index)
        if not isinstance(seg, DynamicSegment):
            continue
        for count, sym in enumerate(seg.iter_symbols()):
            if count >= _MAX_DYN_SYMBOLS:
                break
            if sym.name in wanted:
                shndx = sym["st_shndx"]
                out.append(
                    _Sym(
                        sym.name,
                        int(sym["st_value"]),
                        0 if shndx == "SHN_UNDEF" else 1 if isinstance(shndx, str) else shndx,
                        0,
                    )
                )
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
    order: _ByteOrder = "little" if reader.elf.little_endian else "big"
    for off, size in reader.notes:
        data = reader.read_file(off, min(size, 1 << 16))
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
        s for s in reader.sections if s.flags & _SHF_ALLOC and s.sh_type != _SHT_NOBITS and s.name not in _LAYOUT_SKIP
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


def read_go_facts(elf: ELFFile, warnings: list[str] | None = None) -> GoFacts | None:
    """Go facts of an ELF file, or None when it is not a Go binary.

    Never raises for a damaged file: what cannot be read is skipped and explained in
    ``warnings`` (when a list is given); a Go binary whose build info is damaged gets
    ``buildinfo=None``.
    """
    notes: list[str] = [] if warnings is None else warnings
    try:
        reader = _Reader(elf, notes)
        ptr_size = 8 if elf.elfclass == 64 else 4
        big_endian = not elf.little_endian
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
    if magic_addr is None:
        notes.append("Go binary without build info (no '\\xff Go buildinf:' magic found)")
    else:
        try:
            blob = reader.read_at(magic_addr, _HEADER_SIZE + 2 * (_MAX_VARINT + _MAX_STRING))
            read_ptr: ReadAt | None = None
            if len(blob) >= _HEADER_SIZE and not blob[15] & _FLAG_INLINE_STRINGS:
                # pre-1.18: pointers, in the header and in the string headers, that a PIE or
                # c-shared file gets relocated at load time
                read_ptr = reader.relocated_reader()
                blob = read_ptr(magic_addr, _HEADER_SIZE)
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
