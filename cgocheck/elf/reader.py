"""Read an ELF file into ElfFacts (pyelftools for structure, lief for the dynamic tables).

Reading is split into a required part (ELF header, program headers, dynamic view) whose
failure makes the file bad input, and optional parts (notes, .comment, ARM attributes,
DWARF, Go buildinfo) whose failure becomes a warning on the facts: a damaged debug
section must not hide what the header says.
"""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO, Literal, TypeVar

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from cgocheck.core.errors import BadInput, CgocheckError, NotAnElf
from cgocheck.elf import dynamic
from cgocheck.elf.damage import PARSE_ERRORS
from cgocheck.elf.decode import CPU_ARCH, FP_ARCH, VFP_ARGS, decode_flags
from cgocheck.elf.dwarf import read_units
from cgocheck.elf.model import (
    ArmAttributes,
    DwarfUnit,
    ElfFacts,
    ElfHeader,
    GoFacts,
    SharedObjectFacts,
)

T = TypeVar("T")
DF_1_PIE = 0x08000000
MAX_COMMENT = 1 << 20  # bytes of .comment we look at
MAX_NOTES = 1 << 20  # bytes of one SHT_NOTE section we look at
ELF_MAGIC = b"\x7fELF"
# DWARF: pyelftools reads every debug section whole, decompressing SHF_COMPRESSED and .zdebug
# ones in memory. What a file may make us hold, as declared by its headers (ch_size, the
# .zdebug size field) and checked against the real stream: the smaller of these.
MAX_DWARF_BYTES = 512 << 20
MAX_DWARF_RATIO = 50  # times the file's size (real DWARF compresses 3-10x)
MAX_DWARF_UNITS = 100_000  # compile units listed; a 100 MB Go binary has a few thousand
# lief reads a whole file into memory: above this size the pure-Python reader (which reads
# only what it needs) takes the dynamic tables. libc is 2 MB, a big C++ library ~100 MB.
MAX_LIEF_BYTES = 256 << 20

def sniff(head: bytes) -> str | None:
    """Name a non-ELF format from its first bytes, for a clear error message."""
    if not head:
        return "an empty file"
    if head.startswith(b"MZ"):
        return "a PE/COFF (Windows) file"
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"):
        return "a Mach-O file"
    if head[:4] == b"\xca\xfe\xba\xbe":
        return "a Mach-O universal (fat) file or Java class"
    if head.startswith(b"!<arch>"):
        return "an ar archive (static library)"
    if head.startswith(b"#!"):
        return "a script"
    if head[:4] != ELF_MAGIC:
        return "an unknown format"
    return None


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


def _check_extent(elf: ELFFile, size: int, segments: list[Any]) -> None:
    """A file cut short fails here, whatever part of it is missing."""
    h = elf.header
    if h["e_shoff"] and h["e_shnum"] and h["e_shoff"] + h["e_shnum"] * h["e_shentsize"] > size:
        raise ELFError(f"truncated: section headers end past the file's {size} bytes")
    if h["e_phoff"] + h["e_phnum"] * h["e_phentsize"] > size:
        raise ELFError(f"truncated: program headers end past the file's {size} bytes")
    for seg in segments:
        if seg["p_type"] == "PT_LOAD" and seg["p_offset"] + seg["p_filesz"] > size:
            raise ELFError(f"truncated: a PT_LOAD segment ends past the file's {size} bytes")


def _soft(warnings: list[str], what: str, fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except CgocheckError:
        raise
    except OSError as exc:
        warnings.append(f"{what}: {exc.strerror or exc}")
        return default
    except PARSE_ERRORS as exc:
        warnings.append(f"{what}: {type(exc).__name__}: {str(exc)[:200]}")
        return default


def _header(elf: ELFFile, dyn: dynamic.DynamicView) -> ElfHeader:
    h = elf.header
    machine = h["e_machine"]
    machine_code = int(elf.structs.Elf_Ehdr.subcons[0].subcons[0].sizeof()) if False else 0
    # pyelftools gives the name; recover the number from its enum table.
    from elftools.elf.enums import ENUM_E_MACHINE

    if isinstance(machine, int):
        machine_code, machine = machine, f"EM_{machine}"
    else:
        machine_code = int(ENUM_E_MACHINE.get(machine, -1))
    flags = int(h["e_flags"])
    names, float_abi = decode_flags(machine, flags)
    etype = h["e_type"]
    if etype == "ET_EXEC":
        ftype = "exec"
    elif etype == "ET_DYN":
        ftype = "pie" if (dyn.interpreter or dyn.flags_1 & DF_1_PIE) else "shared"
    elif etype == "ET_REL":
        ftype = "relocatable"
    elif etype == "ET_CORE":
        ftype = "core"
    else:
        ftype = "other"
    return ElfHeader(
        machine=machine,
        machine_code=machine_code,
        elf_class=int(elf.elfclass),
        endian="little" if elf.little_endian else "big",
        osabi=str(h["e_ident"]["EI_OSABI"]),
        file_type=ftype,
        flags=flags,
        flags_decoded=names,
        float_abi=float_abi,
        entry=int(h["e_entry"]),
    )


_ABI_OS = {0: "Linux", 1: "Gnu", 2: "Solaris2", 3: "Freebsd", 4: "Netbsd", 5: "Syllable"}
_NT_GNU_ABI_TAG = 1
_NT_GNU_BUILD_ID = 3


def _notes(elf: ELFFile) -> tuple[str | None, str | None]:
    """.note.ABI-tag and the GNU build id, parsed from at most MAX_NOTES bytes a section.

    Our own loop rather than pyelftools' iter_notes, which reads n_namesz/n_descsz bytes
    (up to 4 GiB each, as the header says) and walks GNU property lists byte by byte.
    """
    abi_tag = build_id = None
    order: Literal["little", "big"] = "little" if elf.little_endian else "big"
    sec: Any
    for sec in elf.iter_sections():
        if sec["sh_type"] != "SHT_NOTE":
            continue
        elf.stream.seek(int(sec["sh_offset"]))
        data = elf.stream.read(min(int(sec["sh_size"]), MAX_NOTES))
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
            if name == b"GNU" and ntype == _NT_GNU_ABI_TAG and len(desc) >= 16:
                os_code, major, minor, tiny = (int.from_bytes(desc[i : i + 4], order) for i in (0, 4, 8, 12))
                abi_tag = f"{_ABI_OS.get(os_code, str(os_code))} {major}.{minor}.{tiny}"
            elif name == b"GNU" and ntype == _NT_GNU_BUILD_ID:
                build_id = desc.hex()
            pos = desc_at + ((descsz + 3) & ~3)
    return abi_tag, build_id


def _comment(elf: ELFFile) -> tuple[str, ...]:
    sec = elf.get_section_by_name(".comment")
    if sec is None or sec["sh_type"] == "SHT_NOBITS":
        return ()
    size = min(int(sec["sh_size"]), MAX_COMMENT)
    elf.stream.seek(int(sec["sh_offset"]))
    data = elf.stream.read(size)
    out: list[str] = []
    for part in data.split(b"\0"):
        text = part.decode("utf-8", "replace").strip()
        if text and text not in out:
            out.append(text)
    return tuple(out)


def _dwarf_refusal(elf: ELFFile, size: int) -> str | None:
    """Why the debug sections must not be read, or None.

    pyelftools holds every debug section whole and decompresses SHF_COMPRESSED ones up to
    their ch_size (a header field) and .zdebug ones without any bound. A header that claims
    gigabytes, or a small stream that inflates to gigabytes (a decompression bomb), must
    not become an allocation: sections are checked against MAX_DWARF_BYTES and
    MAX_DWARF_RATIO x the file size, alone and together, before pyelftools touches them.
    """
    limit = min(MAX_DWARF_BYTES, MAX_DWARF_RATIO * max(size, 1))
    total = 0
    sec: Any
    for sec in elf.iter_sections():
        name = str(sec.name)
        if not name.startswith((".debug_", ".zdebug_")) or sec["sh_type"] == "SHT_NOBITS":
            continue
        offset, stored = int(sec["sh_offset"]), int(sec["sh_size"])
        if offset + stored > size:
            return f"{name} ({stored} bytes at {offset:#x}) ends past the end of the file ({size} bytes)"
        declared = stored
        if sec.compressed:
            declared = int(sec.data_size)  # ch_size; pyelftools inflates up to exactly that
        elif name.startswith(".zdebug_"):
            declared = _zdebug_size(elf, name, offset, stored, limit)
        if declared > limit:
            return f"{name} declares {declared} bytes uncompressed (more than {limit}: refused)"
        total += declared
        if total > limit:
            return f"the debug sections declare more than {limit} bytes uncompressed together (refused)"
    return None


def _zdebug_size(elf: ELFFile, name: str, offset: int, stored: int, limit: int) -> int:
    """A .zdebug section's real inflated size, counted without keeping the output.

    Its "ZLIB" header states a size, but pyelftools inflates the stream without a bound, so
    the stream itself is measured, stopping as soon as it passes the limit.
    """
    elf.stream.seek(offset)
    head = elf.stream.read(12)
    if len(head) < 12 or head[:4] != b"ZLIB":
        raise ELFError(f"{name}: not a ZLIB-compressed section")
    declared = int.from_bytes(head[4:], "big")
    if declared > limit:
        return declared
    inflater = zlib.decompressobj()
    produced = 0
    left = stored - 12
    while left > 0 and produced <= limit:
        chunk = elf.stream.read(min(left, 1 << 16))
        if not chunk:
            break
        left -= len(chunk)
        buf = chunk
        while buf and produced <= limit:
            produced += len(inflater.decompress(buf, 1 << 20))
            buf = inflater.unconsumed_tail
    return max(declared, produced)


def _arm_attributes(elf: ELFFile) -> ArmAttributes | None:
    from elftools.elf.sections import ARMAttributesSection

    sec = next((s for s in elf.iter_sections() if isinstance(s, ARMAttributesSection)), None)
    if sec is None:
        return None
    values: dict[str, Any] = {}
    raw: list[tuple[str, str]] = []
    for sub in sec.iter_subsections():
        if sub.header["vendor_name"] != "aeabi":
            continue
        for subsub in sub.iter_subsubsections():
            for attr in subsub.iter_attributes():
                tag = str(attr.tag)
                if tag == "TAG_FILE":
                    continue
                values.setdefault(tag, attr.value)
                raw.append((tag.replace("TAG_", "Tag_"), str(attr.value)))

    def pick(tag: str, table: dict[int, str]) -> str | None:
        v = values.get(tag)
        if v is None:
            return None
        return table.get(int(v), str(v)) if isinstance(v, int) else str(v)

    return ArmAttributes(
        cpu_name=str(values["TAG_CPU_NAME"]) if "TAG_CPU_NAME" in values else None,
        cpu_arch=pick("TAG_CPU_ARCH", CPU_ARCH),
        fp_arch=pick("TAG_FP_ARCH", FP_ARCH),
        vfp_args=pick("TAG_ABI_VFP_ARGS", VFP_ARGS),
        raw=tuple(raw),
    )


def _go_facts(elf: ELFFile, warnings: list[str]) -> GoFacts | None:
    from cgocheck.elf.gobuildinfo import read_go_facts

    return read_go_facts(elf, warnings)


def _dynamic_view(path: str, elf: ELFFile, warnings: list[str], *, lief: bool) -> dynamic.DynamicView:
    """lief for library closures (many big tables in one process), pyelftools otherwise.

    Importing lief costs about 0.34 s once; on a Go binary's ~50 dynamic symbols pyelftools
    takes about 5 ms, so a single `inspect` never pays for lief. `resolve` reads libc-sized
    tables (3000 symbols: lief 0.006 s, pyelftools 0.15 s) for a whole closure, often for
    several binaries, and does.
    """
    view = None
    if lief and os.path.getsize(path) > MAX_LIEF_BYTES:
        lief = False  # lief would read it all into memory
    if lief:
        try:
            view = dynamic.from_lief(path)
        except (CgocheckError, OSError):
            raise
        except PARSE_ERRORS as exc:  # lief raises rarely; it mostly returns None
            warnings.append(f"lief: {type(exc).__name__}: {exc}")
    if view is None:
        view = dynamic.from_pyelftools(elf)
    return view


def read_elf(path: str, *, dwarf: bool = True, go: bool = True) -> ElfFacts:
    """All the facts of one file. Raises BadInput/NotAnElf for files we cannot read."""
    path = os.fspath(path)
    with _open_checked(path) as f:
        size = os.fstat(f.fileno()).st_size
        try:
            elf = ELFFile(f)
            # Touch the section and program header tables now so a truncated file fails
            # here, as bad input, and not later inside an optional part.
            segments = list(elf.iter_segments())
            _check_extent(elf, size, segments)
            nsec = elf.num_sections()
            warnings: list[str] = []
            dyn = _dynamic_view(path, elf, warnings, lief=False)
            header = _header(elf, dyn)
        except CgocheckError:
            raise
        except OSError as exc:
            raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
        except PARSE_ERRORS as exc:
            raise BadInput(f"{path}: damaged ELF: {type(exc).__name__}: {str(exc)[:160]}") from None

        no_names: list[str] = []
        names = set(_soft(warnings, "section names", lambda: [str(s.name) for s in elf.iter_sections()], no_names))
        has_load_dynamic = any(s["p_type"] == "PT_DYNAMIC" for s in segments)
        static = dyn.interpreter is None and not dyn.needed and not (header.file_type == "shared" and has_load_dynamic)
        no_notes: tuple[str | None, str | None] = (None, None)
        no_strings: tuple[str, ...] = ()
        no_units: tuple[DwarfUnit, ...] = ()
        abi_tag, build_id = _soft(warnings, "notes", lambda: _notes(elf), no_notes)
        comment = _soft(warnings, ".comment", lambda: _comment(elf), no_strings)
        arm = (
            _soft(warnings, ".ARM.attributes", lambda: _arm_attributes(elf), None)
            if header.machine == "EM_ARM"
            else None
        )
        has_debug = bool(names & {".debug_info", ".zdebug_info"})
        units = no_units
        if dwarf and has_debug:
            damaged: str | None = "its debug sections are damaged"
            refused = _soft(warnings, "DWARF", lambda: _dwarf_refusal(elf, size), damaged)
            if refused is not None:
                warnings.append(f"DWARF not read: {refused}")
            else:
                units = _soft(warnings, "DWARF", lambda: read_units(elf, warnings, MAX_DWARF_UNITS), no_units)
        gofacts = _soft(warnings, "Go buildinfo", lambda: _go_facts(elf, warnings), None) if go else None
        if nsec == 0:
            warnings.append("no section headers (stripped of sections or damaged)")

    return ElfFacts(
        path=path,
        size=size,
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
        warnings=tuple(warnings),
    )


def read_shared_object(path: str, *, display_path: str | None = None) -> SharedObjectFacts:
    """The cheap slice resolve needs from a library: header, dynamic tables, symbols."""
    path = os.fspath(path)
    with _open_checked(path) as f:
        try:
            elf = ELFFile(f)
            _check_extent(elf, os.fstat(f.fileno()).st_size, list(elf.iter_segments()))
            warnings: list[str] = []
            dyn = _dynamic_view(path, elf, warnings, lief=True)
            header = _header(elf, dyn)
        except CgocheckError:
            raise
        except OSError as exc:
            raise BadInput(f"{display_path or path}: cannot read: {exc.strerror or exc}") from None
        except PARSE_ERRORS as exc:
            raise BadInput(f"{display_path or path}: damaged ELF: {type(exc).__name__}") from None
    return SharedObjectFacts(
        path=display_path or path,
        header=header,
        soname=dyn.soname,
        needed=dyn.needed,
        rpath=dyn.rpath,
        runpath=dyn.runpath,
        verneed=dyn.verneed,
        verdef=dyn.verdef,
        defined=dyn.defined,
        undefined=dyn.undefined,
    )


def read_dynamic_both(path: str) -> tuple[dynamic.DynamicView | None, dynamic.DynamicView]:
    """Both implementations' dynamic views, for the cross-check tests."""
    with _open_checked(path) as f:
        return dynamic.from_lief(path), dynamic.from_pyelftools(ELFFile(f))
