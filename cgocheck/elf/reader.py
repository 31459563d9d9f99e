"""Read an ELF file into ElfFacts.

Reading is split into a required part (ELF header, program and section headers, the
dynamic view) whose failure makes the file bad input, and optional parts (notes,
.comment, ARM attributes, DWARF, Go buildinfo) whose failure becomes a warning on the
facts: a damaged debug section must not hide what the header says.

Every structure is read by our own bounded code (:mod:`cgocheck.elf.layout`,
:mod:`~cgocheck.elf.dynamic`, :mod:`~cgocheck.elf.dwarf`, :mod:`~cgocheck.elf.armattr`,
:mod:`~cgocheck.elf.gobuildinfo`): sizes, counts and offsets are checked against the
file and a budget before anything is allocated or looped over, and no size the file
declares is handed to pyelftools or lief. Extents are judged by what the file holds: a
split-debug file (``objcopy --only-keep-debug``: PT_LOAD/PT_INTERP with ``p_filesz`` 0,
allocated sections SHT_NOBITS) is read as one, and said to be one (``debug_only``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import BinaryIO, TypeVar

from cgocheck.core.errors import BadInput, CgocheckError, NotAnElf
from cgocheck.elf import armattr, dynamic
from cgocheck.elf.damage import PARSE_ERRORS
from cgocheck.elf.dwarf import MAX_DWARF_BYTES, MAX_DWARF_RATIO, MAX_DWARF_UNITS, has_dwarf, nobits_info, read_units
from cgocheck.elf.header import ET_CORE, ET_DYN, ET_EXEC, ET_REL, HeaderError
from cgocheck.elf.layout import (
    PF_X,
    PT_DYNAMIC,
    PT_INTERP,
    PT_LOAD,
    PT_NOTE,
    SHF_ALLOC,
    SHF_EXECINSTR,
    SHT_NOBITS,
    SHT_NOTE,
    Damaged,
    Layout,
)
from cgocheck.elf.model import ArmAttributes, DwarfUnit, ElfFacts, ElfHeader, GoFacts, SharedObjectFacts
from cgocheck.elf.sniff import ELF_MAGIC, sniff
from cgocheck.elf.text import decode

__all__ = [
    "ELF_MAGIC",
    "MAX_DWARF_BYTES",
    "MAX_DWARF_RATIO",
    "MAX_DWARF_UNITS",
    "MAX_LIEF_BYTES",
    "is_debug_only",
    "read_dynamic_both",
    "read_elf",
    "read_elf_and_shared_object",
    "read_shared_object",
    "sniff",
]

T = TypeVar("T")
DF_1_PIE = 0x08000000
MAX_COMMENT = 1 << 20  # bytes of .comment we look at
MAX_NOTES = 1 << 20  # bytes of one SHT_NOTE section (or PT_NOTE segment) we look at
MAX_NOTES_TOTAL = 4 << 20  # ... and of all of them together (a file has 2-4 small ones)
# lief reads a whole file into memory; read_dynamic_both (the tests' second opinion) does
# not hand it a file above this size. libc is 2 MB, a big C++ library ~100 MB.
MAX_LIEF_BYTES = 256 << 20


def _open_checked(path: str) -> BinaryIO:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"{path}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{path}: is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(f"{path}: not a regular file")
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise BadInput(f"{path}: cannot open: {exc.strerror}") from None
    head = f.read(64)
    what = sniff(head)
    if what is not None:
        f.close()
        raise NotAnElf(f"{path}: {what}, not an ELF file")
    if len(head) < 52:
        f.close()
        raise NotAnElf(f"{path}: truncated ELF header ({len(head)} bytes)")
    f.seek(0)
    return f


def _layout(f: BinaryIO, shown: str) -> Layout:
    """The file's layout, or BadInput when what the file needs to be used at all is damaged:
    a header that cannot be decoded, a table or a PT_LOAD cut off by the end of the file."""
    size = os.fstat(f.fileno()).st_size
    try:
        layout = Layout(f, size)
    except HeaderError as err:
        raise NotAnElf(f"{shown}: damaged ELF header: {err.reason}") from None
    if layout.problems:
        raise BadInput(f"{shown}: damaged ELF: {layout.problems[0]}")
    return layout


def _soft(warnings: list[str], what: str, fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except CgocheckError:
        raise
    except OSError as exc:
        warnings.append(f"{what}: {exc.strerror or exc}")
        return default
    except Damaged as exc:
        warnings.append(f"{what}: {exc}")
        return default
    except PARSE_ERRORS as exc:
        warnings.append(f"{what}: {type(exc).__name__}: {str(exc)[:200]}")
        return default


def is_debug_only(layout: Layout) -> bool:
    """A split-debug file (``objcopy --only-keep-debug``, ``eu-strip -f``, a -dbg package's
    ``.debug`` file): its code is not in the file, only its headers, notes and debug data.

    With section headers: it has executable (SHF_ALLOC|SHF_EXECINSTR) sections and every
    one of them is SHT_NOBITS. Without: it has an executable PT_LOAD and none of them holds
    a byte of the file.
    """
    code = [s for s in layout.sections if s.flags & SHF_ALLOC and s.flags & SHF_EXECINSTR and s.size]
    if code:
        return all(s.sh_type == SHT_NOBITS for s in code)
    if layout.sections:
        return False
    exe = [s for s in layout.loads if s.flags & PF_X and s.memsz]
    return bool(exe) and all(s.filesz == 0 for s in exe)


def _header(layout: Layout, dyn: dynamic.DynamicView) -> ElfHeader:
    h = layout.header
    if h.e_type == ET_EXEC:
        ftype = "exec"
    elif h.e_type == ET_DYN:
        ftype = "pie" if (dyn.interpreter or dyn.flags_1 & DF_1_PIE) else "shared"
    elif h.e_type == ET_REL:
        ftype = "relocatable"
    elif h.e_type == ET_CORE:
        ftype = "core"
    else:
        ftype = "other"
    return ElfHeader(
        machine=h.machine,
        machine_code=h.e_machine,
        elf_class=h.elf_class,
        endian=h.endian,
        osabi=h.osabi,
        file_type=ftype,
        flags=h.e_flags,
        flags_decoded=h.flags_decoded,
        float_abi=h.float_abi,
        entry=h.e_entry,
    )


_ABI_OS = {0: "Linux", 1: "Gnu", 2: "Solaris2", 3: "Freebsd", 4: "Netbsd", 5: "Syllable"}
_NT_GNU_ABI_TAG = 1
_NT_GNU_BUILD_ID = 3


def _notes(layout: Layout) -> tuple[str | None, str | None]:
    """.note.ABI-tag and the GNU build id, parsed from at most MAX_NOTES bytes of each
    SHT_NOTE section (each PT_NOTE segment when the file has no section headers)."""
    abi_tag = build_id = None
    order = layout.header.endian
    if layout.sections:
        places = [(s.offset, s.held) for s in layout.sections if s.sh_type == SHT_NOTE and s.held]
    else:
        places = [(s.offset, s.held) for s in layout.segments_of(PT_NOTE) if s.held]
    left = MAX_NOTES_TOTAL
    for offset, held in places:
        if left <= 0:
            break
        data = layout.read(offset, min(held, MAX_NOTES, left))
        left -= len(data)
        pos = 0
        while pos + 12 <= len(data):
            namesz, descsz, ntype = (int.from_bytes(data[pos + i : pos + i + 4], order) for i in (0, 4, 8))
            name_end = pos + 12 + namesz
            desc_at = pos + 12 + ((namesz + 3) & ~3)
            desc_end = desc_at + descsz
            if desc_end > len(data):
                break  # a size past the section: the rest is damaged
            name = data[pos + 12 : name_end].rstrip(b"\0")
            desc = data[desc_at:desc_end]
            if name == b"GNU" and ntype == _NT_GNU_ABI_TAG and len(desc) >= 16 and abi_tag is None:
                os_code, major, minor, tiny = (int.from_bytes(desc[i : i + 4], order) for i in (0, 4, 8, 12))
                abi_tag = f"{_ABI_OS.get(os_code, str(os_code))} {major}.{minor}.{tiny}"
            elif name == b"GNU" and ntype == _NT_GNU_BUILD_ID and build_id is None and desc:
                build_id = desc.hex()
            pos = desc_at + ((descsz + 3) & ~3)
    return abi_tag, build_id


def _comment(layout: Layout) -> tuple[str, ...]:
    sec = layout.section(".comment")
    if sec is None or not sec.has_data:
        return ()
    data = layout.data(sec, limit=MAX_COMMENT)
    out: dict[str, None] = {}
    for part in bytes(data).split(b"\0"):
        text = decode(part).strip()
        if text:
            out.setdefault(text)
    return tuple(out)


def _go_facts(layout: Layout, warnings: list[str]) -> GoFacts | None:
    from cgocheck.elf.gobuildinfo import read_go_facts

    return read_go_facts(layout, warnings)


def _dwarf(layout: Layout, warnings: list[str]) -> tuple[DwarfUnit, ...]:
    try:
        return read_units(layout, warnings, MAX_DWARF_UNITS)
    except Damaged as exc:  # a section over the budget, cut off, or not inflating
        warnings.append(f"DWARF not read: {exc}")
    except CgocheckError:
        raise
    except PARSE_ERRORS as exc:
        warnings.append(f"DWARF not read: {type(exc).__name__}: {str(exc)[:200]}")
    return ()


def _required(path: str, f: BinaryIO, shown: str) -> tuple[Layout, dynamic.DynamicView, ElfHeader, list[str]]:
    layout = _layout(f, shown)
    try:
        warnings = list(layout.warnings)
        dyn = dynamic.from_layout(layout, warnings)
        header = _header(layout, dyn)
    except CgocheckError:
        raise
    except OSError as exc:
        raise BadInput(f"{shown}: cannot read: {exc.strerror or exc}") from None
    except PARSE_ERRORS as exc:
        raise BadInput(f"{shown}: damaged ELF: {type(exc).__name__}: {str(exc)[:160]}") from None
    return layout, dyn, header, warnings


def read_elf(path: str, *, dwarf: bool = True, go: bool = True) -> ElfFacts:
    """All the facts of one file. Raises BadInput/NotAnElf for files we cannot read."""
    return read_elf_and_shared_object(path, dwarf=dwarf, go=go)[0]


def read_elf_and_shared_object(
    path: str, *, dwarf: bool = True, go: bool = True
) -> tuple[ElfFacts, SharedObjectFacts]:
    """read_elf and read_shared_object of one file from one reading of it (inspect
    --sysroot needs both for every file: the facts, and what resolve binds)."""
    path = os.fspath(path)
    with _open_checked(path) as f:
        layout, dyn, header, warnings = _required(path, f, path)
        debug_only = is_debug_only(layout)
        names = {s.name for s in layout.sections}
        seg_types = {s.p_type for s in layout.segments}
        if debug_only:
            # the program headers are the original file's: they say what it was linked as
            static = PT_INTERP not in seg_types and PT_DYNAMIC not in seg_types
        else:
            static = dyn.interpreter is None and not dyn.needed and not (
                header.file_type == "shared" and PT_DYNAMIC in seg_types)
        no_notes: tuple[str | None, str | None] = (None, None)
        no_strings: tuple[str, ...] = ()
        abi_tag, build_id = _soft(warnings, "notes", lambda: _notes(layout), no_notes)
        comment = _soft(warnings, ".comment", lambda: _comment(layout), no_strings)
        no_arm: ArmAttributes | None = None
        arm = _soft(warnings, ".ARM.attributes", lambda: armattr.read(layout, warnings), no_arm) \
            if header.machine == "EM_ARM" else None
        has_debug = has_dwarf(layout)
        read_dwarf = dwarf and (has_debug or nobits_info(layout))
        units: tuple[DwarfUnit, ...] = _dwarf(layout, warnings) if read_dwarf else ()
        gofacts = _soft(warnings, "Go buildinfo", lambda: _go_facts(layout, warnings), None) if go else None
        if not layout.sections:
            warnings.append("no section headers (stripped of sections or damaged)")
        elif not debug_only and any(s.p_type == PT_LOAD and s.filesz == 0 and s.memsz and s.flags & PF_X
                                    for s in layout.segments):
            warnings.append("an executable PT_LOAD holds no bytes of the file")

    shared = _shared_facts(path, header, dyn)
    return ElfFacts(
        path=path,
        size=layout.size,
        header=header,
        interpreter=dyn.interpreter,
        needed=dyn.needed,
        soname=dyn.soname,
        rpath=dyn.rpath,
        runpath=dyn.runpath,
        static=static,
        stripped=".symtab" not in names,
        has_debug_info=has_debug,
        verneed=dyn.verneed,
        verdef=dyn.verdef,
        undefined=dyn.undefined,
        abi_tag=abi_tag,
        build_id=build_id,
        comment=comment,
        arm_attributes=arm,
        dwarf=units,
        go=gofacts,
        debug_only=debug_only,
        warnings=tuple(warnings),
        unrelocated=dyn.unrelocated,
    ), shared


def read_shared_object(path: str, *, display_path: str | None = None) -> SharedObjectFacts:
    """The cheap slice resolve needs from a library: header, dynamic tables, symbols."""
    path = os.fspath(path)
    with _open_checked(path) as f:
        _, dyn, header, _ = _required(path, f, display_path or path)
    return _shared_facts(display_path or path, header, dyn)


def read_dynamic_both(path: str) -> tuple[dynamic.DynamicView | None, dynamic.DynamicView]:
    """lief's dynamic view (None above MAX_LIEF_BYTES or when lief declines) and ours, for
    the cross-check tests."""
    with _open_checked(path) as f:
        layout = _layout(f, path)
        ours = dynamic.from_layout(layout, [])
        theirs = dynamic.from_lief(path) if layout.size <= MAX_LIEF_BYTES else None
    return theirs, ours


def read_arm_attributes(data: bytes) -> ArmAttributes | None:
    """The .ARM.attributes of an ELF file (an object, typically) held in memory; None when it
    has none or is not ELF. For the prebuilt-object scan, which has the bytes already."""
    import io

    try:
        layout = Layout(io.BytesIO(data), len(data))
    except HeaderError:
        return None
    if layout.header.e_machine != 40:
        return None
    try:
        return armattr.read(layout, [])
    except Damaged:
        return None


def _shared_facts(path: str, header: ElfHeader, dyn: dynamic.DynamicView) -> SharedObjectFacts:
    """A library's facts (what resolve needs) from its header and dynamic view."""
    return SharedObjectFacts(
        path=path,
        header=header,
        soname=dyn.soname,
        needed=dyn.needed,
        rpath=dyn.rpath,
        runpath=dyn.runpath,
        verneed=dyn.verneed,
        verdef=dyn.verdef,
        defined=dyn.defined,
        undefined=dyn.undefined,
        unrelocated=dyn.unrelocated,
    )
