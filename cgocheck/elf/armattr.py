"""Our own bounded reader of .ARM.attributes (ARM IHI 0045, "Build attributes").

The section is ``'A'`` then sub-sections: a 4-byte length (itself included), a
NUL-terminated vendor name and, for the public ``"aeabi"`` vendor, sub-sub-sections
(a ULEB128 tag, a 4-byte size, attributes). Only ``Tag_File`` sub-sub-sections of the
``aeabi`` sub-section are decoded; every other one is stepped over by its length.

pyelftools loops forever on a sub-section of length 0 under another vendor and trusts an
``sh_size`` past the file; here at most :data:`MAX_ATTRIBUTES` bytes of the section are
read, every length is checked against what is left before it is used, and a length that
does not move the reading forward ends it with a warning.
"""

from __future__ import annotations

from cgocheck.elf.decode import CPU_ARCH, FP_ARCH, VFP_ARGS
from cgocheck.elf.layout import SHT_ARM_ATTRIBUTES, Layout
from cgocheck.elf.model import ArmAttributes
from cgocheck.elf.names import ATTR_TAG_ARM as _TAG_NAMES
from cgocheck.elf.text import decode

MAX_ATTRIBUTES = 1 << 20  # bytes of the section read (real ones: ~50)
MAX_VALUES = 4096  # attributes decoded

TAG_FILE, TAG_SECTION, TAG_SYMBOL = 1, 2, 3
TAG_CPU_RAW_NAME, TAG_CPU_NAME, TAG_CPU_ARCH, TAG_FP_ARCH, TAG_ABI_VFP_ARGS = 4, 5, 6, 10, 28
TAG_COMPATIBILITY, TAG_ALSO_COMPATIBLE_WITH, TAG_CONFORMANCE = 32, 65, 67
_STRING_TAGS = {TAG_CPU_RAW_NAME, TAG_CPU_NAME, TAG_CONFORMANCE}


class _End(Exception):
    pass


def _uleb(data: bytes, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(10):
        if pos >= end:
            raise _End
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos
    raise _End


def _ntbs(data: bytes, pos: int, end: int) -> tuple[str, int]:
    nul = data.find(b"\0", pos, end)
    if nul < 0:
        raise _End
    return decode(data[pos:nul]), nul + 1


def tag_name(tag: int) -> str:
    """``Tag_CPU_ARCH``-style names (pyelftools' spelling, which the facts have used)."""
    return _TAG_NAMES.get(tag, f"TAG_{tag}").replace("TAG_", "Tag_", 1)


def _attribute(data: bytes, pos: int, end: int, depth: int = 0) -> tuple[int, int | str, int]:
    """(tag, value, next position) of one attribute."""
    tag, pos = _uleb(data, pos, end)
    if tag in _STRING_TAGS:
        text, pos = _ntbs(data, pos, end)
        return tag, text, pos
    if tag == TAG_COMPATIBILITY:
        flag, pos = _uleb(data, pos, end)
        vendor, pos = _ntbs(data, pos, end)
        return tag, f"{flag} {vendor}", pos
    if tag == TAG_ALSO_COMPATIBLE_WITH and depth == 0:
        inner, value, pos = _attribute(data, pos, end, 1)
        if isinstance(value, int):  # a numeric inner attribute is followed by a NUL
            if pos >= end or data[pos] != 0:
                raise _End
            pos += 1
        return tag, f"{tag_name(inner)}={value}", pos
    if tag >= 32 and tag % 2:  # the generic rule: odd tags from 32 on are strings
        text, pos = _ntbs(data, pos, end)
        return tag, text, pos
    value, pos = _uleb(data, pos, end)
    return tag, value, pos


def parse(data: bytes, notes: list[str]) -> ArmAttributes | None:
    """The aeabi attributes of .ARM.attributes bytes; damage ends the reading with a note."""
    if not data or data[0] != ord("A"):
        if data:
            notes.append(f".ARM.attributes: format version {data[0]:#x}, not 'A'")
        return None
    values: dict[int, int | str] = {}
    raw: list[tuple[str, str]] = []
    pos, end = 1, len(data)
    try:
        while pos < end:
            if pos + 4 > end:
                raise _End
            length = int.from_bytes(data[pos : pos + 4], "little")
            if length < 5 or pos + length > end:
                notes.append(f".ARM.attributes: a sub-section of {length} bytes at {pos:#x} "
                             f"({end - pos} left); the rest was not read")
                break
            sub_end = pos + length
            vendor, at = _ntbs(data, pos + 4, sub_end)
            if vendor == "aeabi":
                _subsection(data, at, sub_end, values, raw, notes)
            pos = sub_end
    except _End:
        notes.append(".ARM.attributes: an attribute is cut off by the end of its (sub-)section")

    def pick(tag: int, table: dict[int, str]) -> str | None:
        v = values.get(tag)
        if v is None:
            return None
        return table.get(v, str(v)) if isinstance(v, int) else v

    name = values.get(TAG_CPU_NAME)
    return ArmAttributes(
        cpu_name=str(name) if name is not None else None,
        cpu_arch=pick(TAG_CPU_ARCH, CPU_ARCH),
        fp_arch=pick(TAG_FP_ARCH, FP_ARCH),
        vfp_args=pick(TAG_ABI_VFP_ARGS, VFP_ARGS),
        raw=tuple(raw),
    )


def _subsection(data: bytes, pos: int, end: int, values: dict[int, int | str], raw: list[tuple[str, str]],
                notes: list[str]) -> None:
    while pos < end:
        tag, at = _uleb(data, pos, end)
        if at + 4 > end:
            raise _End
        size = int.from_bytes(data[at : at + 4], "little")
        if size < (at + 4 - pos) or pos + size > end:
            notes.append(f".ARM.attributes: a {tag_name(tag)} block of {size} bytes at {pos:#x} "
                         f"({end - pos} left); the rest was not read")
            return
        block_end = pos + size
        if tag == TAG_FILE:
            at += 4
            while at < block_end and len(raw) < MAX_VALUES:
                attr, value, at = _attribute(data, at, block_end)
                values.setdefault(attr, value)
                raw.append((tag_name(attr), str(value)))
        pos = block_end


def read(layout: Layout, notes: list[str]) -> ArmAttributes | None:
    """The .ARM.attributes of a file (the first section of that type), or None."""
    sec = layout.of_type(SHT_ARM_ATTRIBUTES) or layout.section(".ARM.attributes")
    if sec is None or not sec.has_data:
        return None
    if sec.held < sec.size:
        notes.append(f".ARM.attributes: {sec.size} bytes declared, the file holds {sec.held}")
    return parse(bytes(layout.data(sec, limit=MAX_ATTRIBUTES)), notes)
