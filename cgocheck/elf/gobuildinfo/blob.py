"""The ``.go.buildinfo`` blob: its 32-byte header, then the Go version and the modinfo,
inline (Go 1.18+, varint-length-prefixed) or through pointers (Go 1.13-1.17)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from cgocheck.core.errors import BadInput
from cgocheck.elf.gobuildinfo.modinfo import parse_modinfo
from cgocheck.elf.model import GoBuildInfo

BUILDINFO_MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
MAX_STRING = 1 << 20  # no version or modinfo string is anywhere near 1 MiB
MAX_VARINT = 10

FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE_STRINGS = 0x2

ReadAt = Callable[[int, int], bytes]
_ByteOrder = Literal["little", "big"]



def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 varint at ``pos``; returns (value, new position)."""
    value = 0
    for i in range(MAX_VARINT):
        if pos + i >= len(data):
            raise BadInput("Go build info truncated inside a string length")
        b = data[pos + i]
        value |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            if i == MAX_VARINT - 1 and b > 1:
                raise BadInput("Go build info string length overflows 64 bits")
            return value, pos + i + 1
    raise BadInput("Go build info string length overflows 64 bits")


def _inline_string(data: bytes, pos: int, what: str) -> tuple[bytes, int]:
    length, pos = _uvarint(data, pos)
    if length > MAX_STRING:
        raise BadInput(f"Go build info {what} claims {length} bytes (limit {MAX_STRING})")
    if pos + length > len(data):
        raise BadInput(f"Go build info truncated: {what} needs {length} bytes, {len(data) - pos} left")
    return data[pos : pos + length], pos + length


def _pointer_string(read_at: ReadAt, addr: int, ptr_size: int, order: _ByteOrder, what: str) -> bytes:
    hdr = read_at(addr, 2 * ptr_size)
    if len(hdr) < 2 * ptr_size:
        raise BadInput(f"Go build info {what} string header at {addr:#x} is not in the file")
    data_addr = int.from_bytes(hdr[:ptr_size], order)
    length = int.from_bytes(hdr[ptr_size:], order)
    if length > MAX_STRING:
        raise BadInput(f"Go build info {what} claims {length} bytes (limit {MAX_STRING})")
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
    if len(data) < HEADER_SIZE:
        raise BadInput(f"Go build info header truncated ({len(data)} of {HEADER_SIZE} bytes)")
    if not data.startswith(BUILDINFO_MAGIC):
        raise BadInput("Go build info does not start with the magic")
    flags = data[15]
    if flags & FLAG_INLINE_STRINGS:
        layout = "1.18+"
        vers, pos = _inline_string(data, HEADER_SIZE, "version")
        mod, _ = _inline_string(data, pos, "modinfo")
    else:
        layout = "pre-1.18"
        hdr_ptr = data[14]
        hdr_big = bool(flags & FLAG_BIG_ENDIAN)
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
