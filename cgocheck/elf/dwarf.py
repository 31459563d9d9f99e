"""DWARF compile units: producer, language and, for C/C++ units, the files they read.

Only the top DIE of each unit is parsed (cheap even for Go binaries with thousands of
units); line programs are decoded for C/C++ units only, to list their source and header
files, which is where host-header contamination shows.
"""

from __future__ import annotations

import posixpath
from typing import Any

from cgocheck.elf.decode import language_name
from cgocheck.elf.model import DwarfUnit

MAX_FILES_PER_UNIT = 20000


def _attr_str(die: Any, name: str) -> str | None:
    attr = die.attributes.get(name)
    if attr is None:
        return None
    value = attr.value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return None


def _attr_int(die: Any, name: str) -> int | None:
    attr = die.attributes.get(name)
    if attr is None or not isinstance(attr.value, int):
        return None
    return int(attr.value)


def _decode(b: Any) -> str:
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)


def _line_files(dwarf: Any, cu: Any, comp_dir: str | None) -> tuple[str, ...]:
    lp = dwarf.line_program_for_CU(cu)
    if lp is None:
        return ()
    header = lp.header
    version = int(header["version"])
    dirs = [_decode(d) for d in header.get("include_directory", [])]
    files: list[str] = []
    for entry in header.get("file_entry", [])[:MAX_FILES_PER_UNIT]:
        name = _decode(entry.name)
        idx = int(entry.dir_index)
        if version >= 5:
            base = dirs[idx] if 0 <= idx < len(dirs) else None
        else:
            base = comp_dir if idx == 0 else (dirs[idx - 1] if 0 < idx <= len(dirs) else None)
        if base and not base.startswith("/") and comp_dir:
            base = posixpath.join(comp_dir, base)
        path = posixpath.normpath(posixpath.join(base, name)) if base else name
        if path not in files:
            files.append(path)
    return tuple(files)


def read_units(elf: Any, warnings: list[str] | None = None, limit: int = 100_000) -> tuple[DwarfUnit, ...]:
    if not elf.has_dwarf_info():
        return ()
    dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False)
    units: list[DwarfUnit] = []
    info_size = int(dwarf.debug_info_sec.size)
    for cu in dwarf.iter_CUs():
        if len(units) >= limit:
            if warnings is not None:
                warnings.append(f"DWARF: more than {limit} compile units; the rest were not read")
            break
        if int(cu.cu_offset) + int(cu.size) > info_size:
            if warnings is not None:
                warnings.append(
                    f"DWARF: the compile unit at {cu.cu_offset:#x} claims {cu.size} bytes, past the end of "
                    f".debug_info ({info_size} bytes); it and the rest were not read"
                )
            break
        top = cu.get_top_DIE()
        lang = language_name(_attr_int(top, "DW_AT_language"))
        comp_dir = _attr_str(top, "DW_AT_comp_dir")
        files: tuple[str, ...] = ()
        if lang in ("C", "C++", "Assembler"):
            files = _line_files(dwarf, cu, comp_dir)
        units.append(
            DwarfUnit(
                name=_attr_str(top, "DW_AT_name") or "",
                language=lang,
                producer=_attr_str(top, "DW_AT_producer"),
                comp_dir=comp_dir,
                files=files,
            )
        )
    return tuple(units)
