"""Structure-aware edits of real ELF files, and the child process that reads the result.

The tests of hostile input (tests/integration/test_elf_hostile.py, test_split_debug.py,
test_fuzz_elf.py) and the coverage-guided harness (fuzz/fuzz_elf.py) start from real
binaries (Go builds, sysroot libraries) and change one structure the way an attacker
would: a header field, a section or program header, a version chain, a DWARF unit or
line-table header, a compression header, an ARM attribute sub-section. Where a structure
is is found with pyelftools on the untouched file (the oracle, never the code under test).

:func:`read_in_child` reads the edited file through the façade in a fresh interpreter
with a hard timeout and reports the child's own peak memory; :func:`cli` runs
``python -m cgocheck inspect`` on it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile

from tests.support import tally

SECONDS = 10.0  # every input, read through the façade
PEAK_MB = 1024  # ... and its peak memory
CHILD_AS = 3 << 30  # the address-space limit of a child (keeps a runaway from the machine)

SHF_COMPRESSED = 0x800
SHT_NOBITS = 8
PT_LOAD, PT_INTERP = 1, 3

_SHDR64 = {"name": (0, "I"), "type": (4, "I"), "flags": (8, "Q"), "addr": (16, "Q"), "offset": (24, "Q"),
           "size": (32, "Q"), "link": (40, "I"), "info": (44, "I"), "addralign": (48, "Q"), "entsize": (56, "Q")}
_SHDR32 = {"name": (0, "I"), "type": (4, "I"), "flags": (8, "I"), "addr": (12, "I"), "offset": (16, "I"),
           "size": (20, "I"), "link": (24, "I"), "info": (28, "I"), "addralign": (32, "I"), "entsize": (36, "I")}
_PHDR64 = {"type": (0, "I"), "flags": (4, "I"), "offset": (8, "Q"), "vaddr": (16, "Q"), "paddr": (24, "Q"),
           "filesz": (32, "Q"), "memsz": (40, "Q"), "align": (48, "Q")}
_PHDR32 = {"type": (0, "I"), "offset": (4, "I"), "vaddr": (8, "I"), "paddr": (12, "I"), "filesz": (16, "I"),
           "memsz": (20, "I"), "flags": (24, "I"), "align": (28, "I")}
_EHDR64 = {"type": (16, "H"), "machine": (18, "H"), "version": (20, "I"), "entry": (24, "Q"), "phoff": (32, "Q"),
           "shoff": (40, "Q"), "flags": (48, "I"), "ehsize": (52, "H"), "phentsize": (54, "H"), "phnum": (56, "H"),
           "shentsize": (58, "H"), "shnum": (60, "H"), "shstrndx": (62, "H")}
_EHDR32 = {"type": (16, "H"), "machine": (18, "H"), "version": (20, "I"), "entry": (24, "I"), "phoff": (28, "I"),
           "shoff": (32, "I"), "flags": (36, "I"), "ehsize": (40, "H"), "phentsize": (42, "H"), "phnum": (44, "H"),
           "shentsize": (46, "H"), "shnum": (48, "H"), "shstrndx": (50, "H")}


@dataclass(frozen=True)
class Sec:
    index: int
    name: str
    sh_type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    compressed: bool


class ElfEdit:
    """A real ELF file in memory, where its structures are, and edits of them."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)
        elf = ELFFile(io.BytesIO(bytes(data)))
        self.is64 = elf.elfclass == 64
        self.le = "<" if elf.little_endian else ">"
        self.order: Any = "little" if elf.little_endian else "big"
        h = elf.header
        self.shoff, self.shentsize = int(h["e_shoff"]), int(h["e_shentsize"])
        self.phoff, self.phentsize = int(h["e_phoff"]), int(h["e_phentsize"])
        self.sections: dict[str, Sec] = {}
        self.by_index: list[Sec] = []
        for i, s in enumerate(elf.iter_sections()):
            flags = int(s["sh_flags"])
            sec = Sec(i, s.name, _num(s["sh_type"], elf, "sh_type"), flags, int(s["sh_offset"]), int(s["sh_size"]),
                      int(s["sh_link"]), int(s["sh_info"]), bool(flags & SHF_COMPRESSED))
            self.sections.setdefault(s.name, sec)
            self.by_index.append(sec)
        self.segments = [(_num(p["p_type"], elf, "p_type"), int(p["p_offset"]), int(p["p_filesz"]))
                         for p in elf.iter_segments()]

    # --- headers ---------------------------------------------------------------------

    def _pack(self, at: int, table: dict[str, tuple[int, str]], **fields: int) -> None:
        for name, value in fields.items():
            off, fmt = table[name]
            width = struct.calcsize(fmt)
            struct.pack_into(self.le + fmt, self.data, at + off, value & ((1 << (8 * width)) - 1))

    def set_ehdr(self, **fields: int) -> ElfEdit:
        self._pack(0, _EHDR64 if self.is64 else _EHDR32, **fields)
        return self

    def set_shdr(self, section: str | int, **fields: int) -> ElfEdit:
        index = section if isinstance(section, int) else self.sections[section].index
        self._pack(self.shoff + index * self.shentsize, _SHDR64 if self.is64 else _SHDR32, **fields)
        return self

    def set_phdr(self, index: int, **fields: int) -> ElfEdit:
        self._pack(self.phoff + index * self.phentsize, _PHDR64 if self.is64 else _PHDR32, **fields)
        return self

    def shdr_field(self, section: str | int, field: str) -> int:
        index = section if isinstance(section, int) else self.sections[section].index
        off, fmt = (_SHDR64 if self.is64 else _SHDR32)[field]
        value: int = struct.unpack_from(self.le + fmt, self.data, self.shoff + index * self.shentsize + off)[0]
        return value

    def segment_index(self, p_type: int) -> int:
        return next(i for i, (t, _o, _s) in enumerate(self.segments) if t == p_type)

    # --- contents --------------------------------------------------------------------

    def section_bytes(self, name: str) -> bytes:
        s = self.sections[name]
        return bytes(self.data[s.offset : s.offset + s.size])

    def patch(self, offset: int, payload: bytes) -> ElfEdit:
        self.data[offset : offset + len(payload)] = payload
        return self

    def append(self, payload: bytes, align: int = 8) -> int:
        self.data += bytes(-len(self.data) % align)
        off = len(self.data)
        self.data += payload
        return off

    def point_at(self, section: str, payload: bytes, *, compressed: bool | None = None) -> ElfEdit:
        """Append PAYLOAD and make SECTION's sh_offset/sh_size cover exactly it (and set or
        clear SHF_COMPRESSED)."""
        off = self.append(payload)
        self.set_shdr(section, offset=off, size=len(payload))
        if compressed is not None:
            flags = self.sections[section].flags
            self.set_shdr(section, flags=(flags | SHF_COMPRESSED) if compressed else (flags & ~SHF_COMPRESSED))
        return self

    def chdr(self, size: int, ch_type: int = 1) -> bytes:
        """An ELF compression header (ELFCOMPRESS_ZLIB by default) declaring SIZE bytes."""
        if self.is64:
            return struct.pack(self.le + "IIQQ", ch_type, 0, size, 1)
        return struct.pack(self.le + "III", ch_type, size, 1)

    def dynamic_entries(self) -> list[tuple[int, int, int]]:
        """(file offset, d_tag, d_val) of each .dynamic entry."""
        sec = self.sections[".dynamic"]
        fmt = self.le + ("qQ" if self.is64 else "iI")
        n = struct.calcsize(fmt)
        out = []
        for i in range(sec.size // n):
            tag, val = struct.unpack_from(fmt, self.data, sec.offset + i * n)
            out.append((sec.offset + i * n, tag, val))
        return out

    def set_dynamic(self, tag: int, value: int) -> ElfEdit:
        fmt = self.le + ("qQ" if self.is64 else "iI")
        hit = [(off, t) for off, t, _v in self.dynamic_entries() if t == tag]
        assert hit, f"no dynamic entry {tag:#x}"
        for off, t in hit:
            struct.pack_into(fmt, self.data, off, t, value)
        return self

    def replace_string(self, section: str, old: bytes, new: bytes) -> ElfEdit:
        """Overwrite the NUL-terminated string OLD in SECTION with NEW (same length)."""
        assert len(old) == len(new)
        s = self.sections[section]
        at = self.data.find(old + b"\0", s.offset, s.offset + s.size)
        assert at >= 0, f"{old!r} not in {section}"
        self.data[at : at + len(new)] = new
        return self

    def write(self, path: Path) -> Path:
        path.write_bytes(bytes(self.data))
        return path


def _num(value: object, elf: ELFFile, field: str) -> int:
    """pyelftools gives enum names; the number back from the file itself is simpler."""
    if isinstance(value, int):
        return value
    from elftools.elf import enums

    for table in (enums.ENUM_SH_TYPE_BASE, enums.ENUM_SH_TYPE_ARM, enums.ENUM_P_TYPE_BASE, enums.ENUM_P_TYPE_ARM,
                  enums.ENUM_P_TYPE_AARCH64, enums.ENUM_P_TYPE_RISCV, enums.ENUM_SH_TYPE_RISCV):
        if value in table:
            return int(table[value])  # type: ignore[index]
    raise KeyError(f"{field} {value}")


def zlib_bomb(mib: int) -> bytes:
    """A valid zlib stream inflating to MIB MiB of zeros, made without compressing them all:
    after a sync flush, each further MiB of zeros compresses to the same bytes."""
    z = bytes(1 << 20)
    c = zlib.compressobj(9)
    first = c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    again = c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    adler = 1
    for _ in range(mib):
        adler = zlib.adler32(z, adler)
    return first + again * (mib - 1) + tail[:-4] + adler.to_bytes(4, "big")


def uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


# --- reading an edited file ------------------------------------------------------------------

_CHILD = r"""
import json, resource, sys, time
from cgocheck.core.errors import BadInput
from cgocheck.elf import read_elf, read_shared_object
out = {}
t0 = time.monotonic()
for name, fn in (("elf", read_elf), ("so", read_shared_object)):
    try:
        f = fn(sys.argv[1])
        out[name] = {"facts": True, "warnings": list(getattr(f, "warnings", ())),
                     "strings_ok": __import__("tests.support.elfedit", fromlist=["x"]).all_str(f)}
        if name == "elf":
            out[name].update(machine=f.header.machine, file_type=f.header.file_type, interpreter=f.interpreter,
                             needed=list(f.needed), units=len(f.dwarf), debug_only=getattr(f, "debug_only", None),
                             build_id=f.build_id, verneed={v.library: list(v.versions) for v in f.verneed},
                             verdef=list(f.verdef), producers=sorted({u.producer or "" for u in f.dwarf}),
                             arm=None if f.arm_attributes is None else [f.arm_attributes.cpu_arch,
                                  f.arm_attributes.fp_arch, f.arm_attributes.vfp_args],
                             go=f.go.buildinfo.go_version if f.go and f.go.buildinfo else None,
                             undefined=len(f.undefined))
        else:
            out[name].update(defined=len(f.defined), verdef=list(f.verdef), needed=list(f.needed))
    except BadInput as err:
        out[name] = {"error": err.message}
out["seconds"] = time.monotonic() - t0
# VmHWM, not ru_maxrss: that one carries the forking parent's resident size across exec
out["peak_mb"] = int(next(ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))) // 1024
print(json.dumps(out))
"""


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_AS, CHILD_AS))


def read_in_child(path: Path, seconds: float = SECONDS) -> dict[str, Any]:
    """read_elf and read_shared_object on PATH in a fresh interpreter: what each gave, the
    time both took and the child's peak memory. Fails the test on a hang (past SECONDS),
    a crash or a traceback."""
    repo = str(Path(__file__).resolve().parents[2])  # the repository: tests.support importable
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(path.resolve())], capture_output=True, text=True,
                              timeout=seconds + 5, check=False, env=env, preexec_fn=_limit_child, cwd=repo)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"reading {path.name} did not end within {seconds + 5:.0f} s (a hang)") from None
    assert proc.returncode == 0, f"reading {path.name} crashed (exit {proc.returncode}): {proc.stderr[-2000:]}"
    got: dict[str, Any] = json.loads(proc.stdout)
    got["wall"] = time.monotonic() - t0
    assert got["seconds"] < seconds, f"{path.name}: {got['seconds']:.1f} s"
    assert got["peak_mb"] < PEAK_MB, f"{path.name}: peak {got['peak_mb']} MB"
    for part in ("elf", "so"):
        assert got[part].get("strings_ok", True), f"{path.name}: a {part} fact that should be str is not"
        if "error" in got[part]:
            assert "\n" not in got[part]["error"]
    tally.hostile("ELF edits, a process each").add(error="error" in got["elf"], seconds=got["seconds"],
                                                   peak_mb=float(got["peak_mb"]))
    return got


def cli(path: Path, *args: str, seconds: float = SECONDS + 5) -> subprocess.CompletedProcess[str]:
    """``python -m cgocheck inspect PATH ARGS``: exit 0/1/2, at most one stderr line for the
    file, never a traceback, within the time allowed."""
    repo = str(Path(__file__).resolve().parents[2])  # the repository: tests.support importable
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "cgocheck", "inspect", str(path), *args], capture_output=True,
                              text=True, timeout=seconds, check=False, env=env, preexec_fn=_limit_child)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"inspect {path.name} did not end within {seconds:.0f} s") from None
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr[-3000:]
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) <= 1, proc.stderr
    if proc.returncode == 2:
        assert len(lines) == 1 and lines[0].startswith("cgocheck: error: "), proc.stderr
    tally.hostile("ELF edits, cgocheck inspect").add(error=proc.returncode == 2, seconds=time.monotonic() - t0)
    return proc


def all_str(obj: object) -> bool:
    """Every string-typed fact is a str (not bytes), recursively through the dataclasses."""
    import dataclasses

    if isinstance(obj, bytes | bytearray):
        return False
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return all(all_str(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    if isinstance(obj, tuple | list):
        return all(all_str(x) for x in obj)
    return True


# --- structure-aware mutations (the property tests and fuzz/fuzz_elf.py) -----------------------

# Values an attacker tries: boundaries, sign and width edges, "everything".
INTERESTING = (0, 1, 2, 3, 4, 7, 8, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
               0x80000000, 0xFFFFFFF0, 0xFFFFFFFF, 1 << 32, 1 << 40, 1 << 62, (1 << 63) - 1, (1 << 64) - 1)
KINDS = ("header", "section", "segment", "versions", "dwarf_unit", "line_header", "compression", "arm_attributes",
         "dynamic", "strings")
_EH_FIELDS = ("type", "machine", "entry", "phoff", "shoff", "flags", "phentsize", "phnum", "shentsize", "shnum",
              "shstrndx")
_SH_FIELDS = ("type", "flags", "offset", "size", "link", "info", "entsize", "addr")
_SH_TYPES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF, 0x70000003)
_PH_FIELDS = ("type", "offset", "filesz", "memsz", "vaddr", "flags")
_PH_TYPES = (1, 2, 3, 4, 6, 7, 0x6474E550, 0x6474E551, 0x65041580)
_DT_TAGS = (1, 4, 5, 6, 10, 11, 14, 15, 29, 0x6FFFFEF5, 0x6FFFFFF0, 0x6FFFFFFB, 0x6FFFFFFC, 0x6FFFFFFD, 0x6FFFFFFE,
            0x6FFFFFFF)


def value_for(pick: int, original: int, size: int) -> int:
    """An interesting value: a fixed one, or one relative to the field's own value or to the
    file's size (just inside, at, just past the end)."""
    rel = (original + 1, original - 1, original * 2, original * 1000 + 7, size, size - 1, size + 1, size // 2)
    table = INTERESTING + rel
    return table[pick % len(table)] & ((1 << 64) - 1)


def _walk_units(data: bytes | bytearray, start: int, end: int, order: Any) -> list[int]:
    """Offsets of the DWARF units (of .debug_info or .debug_line) in data[start:end]."""
    out: list[int] = []
    pos = start
    while pos + 4 <= end and len(out) < 10_000:
        length = int.from_bytes(data[pos : pos + 4], order)
        step = 4
        if length == 0xFFFFFFFF:
            length = int.from_bytes(data[pos + 4 : pos + 12], order)
            step = 12
        if length == 0 or pos + step + length > end:
            break
        out.append(pos)
        pos += step + length
    return out


def _chain(data: bytes | bytearray, start: int, size: int, order: Any, entry: int, aux_at: int, next_at: int,
           aux_next_at: int, count_at: int, aux_size: int) -> list[tuple[int, list[int]]]:
    """(entry offset, aux entry offsets) of a well-formed Verneed/Verdef chain."""
    out: list[tuple[int, list[int]]] = []
    pos = start
    while pos + entry <= start + size and len(out) < 1000:
        cnt = int.from_bytes(data[pos + count_at : pos + count_at + 2], order)
        aux = pos + int.from_bytes(data[pos + aux_at : pos + aux_at + 4], order)
        auxes = []
        for _ in range(min(cnt, 1000)):
            if aux + aux_size > start + size:
                break
            auxes.append(aux)
            nxt = int.from_bytes(data[aux + aux_next_at : aux + aux_next_at + 4], order)
            if not nxt:
                break
            aux += nxt
        out.append((pos, auxes))
        nxt = int.from_bytes(data[pos + next_at : pos + next_at + 4], order)
        if not nxt:
            break
        pos += nxt
    return out


_C_LINE_TABLES: dict[bytes, list[int]] = {}


def c_line_tables(data: bytes) -> list[int]:
    """.debug_line offsets of the C/C++ units' line tables (found with pyelftools; cached)."""
    key = hashlib.sha256(data).digest()
    if key not in _C_LINE_TABLES:
        found: list[int] = []
        try:
            dw = ELFFile(io.BytesIO(data)).get_dwarf_info(relocate_dwarf_sections=False, follow_links=False)
            for cu in dw.iter_CUs():
                top = cu.get_top_DIE()
                lang, stmt = top.attributes.get("DW_AT_language"), top.attributes.get("DW_AT_stmt_list")
                if lang is not None and stmt is not None and lang.value in (0x1, 0x2, 0x4, 0xC, 0x1D, 0x2C, 0x21):
                    found.append(int(stmt.value))
        except Exception:
            pass
        _C_LINE_TABLES[key] = sorted(set(found))
    return _C_LINE_TABLES[key]


def mutate_structure(data: bytes, kind: str, which: int, field: int, pick: int) -> bytes:
    """One structure-aware edit of a real ELF file, chosen by small integers (so Hypothesis
    shrinks them and atheris can drive them): KIND of structure, WHICH one of them, which
    FIELD of it, and PICK of the value (see :func:`value_for`). A structure the file does
    not have leaves it unchanged."""
    try:
        e = ElfEdit(data)
    except Exception:
        return data
    size = len(data)
    order = e.order
    secs = [s for s in e.by_index if s.index]
    if kind == "header":
        name = _EH_FIELDS[field % len(_EH_FIELDS)]
        off, fmt = (_EHDR64 if e.is64 else _EHDR32)[name]
        original = struct.unpack_from(e.le + fmt, e.data, off)[0]
        e.set_ehdr(**{name: value_for(pick, original, size)})
    elif kind == "section" and secs:
        sec = secs[which % len(secs)]
        name = _SH_FIELDS[field % len(_SH_FIELDS)]
        original = e.shdr_field(sec.index, name)
        if name == "type":
            value = _SH_TYPES[pick % len(_SH_TYPES)]
        elif name == "flags":
            value = original ^ (SHF_COMPRESSED if pick % 2 else (1 << (pick % 12)))
        else:
            value = value_for(pick, original, size)
        e.set_shdr(sec.index, **{name: value})
    elif kind == "segment" and e.segments:
        index = which % len(e.segments)
        name = _PH_FIELDS[field % len(_PH_FIELDS)]
        off, fmt = (_PHDR64 if e.is64 else _PHDR32)[name]
        at = e.phoff + index * e.phentsize + off
        original = struct.unpack_from(e.le + fmt, e.data, at)[0]
        value = _PH_TYPES[pick % len(_PH_TYPES)] if name == "type" else value_for(pick, original, size)
        e.set_phdr(index, **{name: value})
    elif kind == "versions":
        _mutate_versions(e, which, field, pick, size)
    elif kind == "dwarf_unit":
        info = e.sections.get(".debug_info")
        if info is not None and not info.compressed and info.sh_type != SHT_NOBITS:
            units = _walk_units(e.data, info.offset, info.offset + info.size, order)
            if units:
                at = units[which % len(units)]
                # unit_length, version, (v5) unit_type + address_size / (v4) abbrev offset, ...
                spot = (0, 4, 6, 7, 8, 12)[field % 6]
                width = (4, 2, 1, 1, 4, 1)[field % 6]
                original = int.from_bytes(e.data[at + spot : at + spot + width], order)
                e.patch(at + spot, (value_for(pick, original, size) & ((1 << (8 * width)) - 1)).to_bytes(width, order))
        abbrev = e.sections.get(".debug_abbrev")
        if field % 7 == 6 and abbrev is not None and not abbrev.compressed and abbrev.size:
            e.patch(abbrev.offset + which % abbrev.size, bytes([pick & 0xFF]))
    elif kind == "line_header":
        line = e.sections.get(".debug_line")
        if line is not None and not line.compressed and line.sh_type != SHT_NOBITS:
            # the line tables of C units (the ones the façade reads), else any
            units = [line.offset + t for t in c_line_tables(data)] or _walk_units(
                e.data, line.offset, line.offset + line.size, order)
            if units:
                at = units[which % len(units)]
                version = int.from_bytes(e.data[at + 4 : at + 6], order)
                # v5: length, version, addr size, seg size, header_length, min_inst, max_ops,
                # is_stmt, line_base, line_range, opcode_base, then the format/count lists
                spot = (0, 4, 6, 7, 8, 12, 13, 17, 18, 19, 20, 21, 22, 23)[field % 14]
                if field % 14 >= 11 and version == 5:  # directory_entry_format_count and the 2 bytes after it
                    opcode_base = e.data[at + 17]
                    spot = 18 + max(0, opcode_base - 1) + (field % 14 - 11)
                    payload = bytes([pick & 0xFF]) if pick % 3 else uleb(value_for(pick, 0, size))
                    e.patch(at + spot, payload)
                else:
                    original = e.data[at + spot]
                    e.patch(at + spot, bytes([value_for(pick, original, size) & 0xFF]))
    elif kind == "compression" and secs:
        sec = secs[which % len(secs)]
        real = e.section_bytes(sec.name) if sec.sh_type != SHT_NOBITS else b""
        bomb = (1 + pick % 64) * (16 if (field // 60) % 2 else 1)  # MiB: up to 1 GiB
        stream = (zlib.compress(real), zlib_bomb(bomb), zlib.compress(real)[: max(1, len(real) // 3)],
                  bytes([pick & 0xFF]) * 64, b"")[field % 5]
        declared = (len(real), 1 << 30, value_for(pick, len(real), size), 0)[(field // 5) % 4]
        if sec.name.startswith(".zdebug") or (field // 20) % 3 == 2:
            payload = b"ZLIB" + (declared & ((1 << 64) - 1)).to_bytes(8, "big") + stream
            e.point_at(sec.name, payload, compressed=False)
        else:
            ch_type = (1, 1, 1, 2, 3)[pick % 5]
            e.point_at(sec.name, e.chdr(declared & ((1 << 64) - 1) if e.is64 else declared & 0xFFFFFFFF, ch_type)
                       + stream, compressed=True)
    elif kind == "arm_attributes" and ".ARM.attributes" in e.sections:
        attrs = bytearray(e.section_bytes(".ARM.attributes"))
        spots = [1, 5, 6, 11, 12, 16, 17, *range(len(attrs))]
        spot = spots[field % len(spots)]
        if spot + 4 <= len(attrs) and pick % 2:
            attrs[spot : spot + 4] = (value_for(pick, 0, size) & 0xFFFFFFFF).to_bytes(4, "little")
        elif spot < len(attrs):
            attrs[spot] = pick & 0xFF
        extra = (b"", b"\0\0\0\0gnu\0", b"\x05\0\0\0x\0", b"\xff\xff\xff\x7fgnu\0")[which % 4]
        e.point_at(".ARM.attributes", bytes(attrs) + extra)
    elif kind == "dynamic" and ".dynamic" in e.sections:
        entries = e.dynamic_entries()
        if entries:
            off, tag, val = entries[which % len(entries)]
            fmt = e.le + ("qQ" if e.is64 else "iI")
            if field % 2:
                struct.pack_into(fmt, e.data, off, _DT_TAGS[pick % len(_DT_TAGS)], val)
            else:
                mask = (1 << (64 if e.is64 else 32)) - 1
                struct.pack_into(fmt, e.data, off, tag, value_for(pick, val, size) & mask)
    elif kind == "strings":
        tables = [s for s in secs if s.sh_type == 3 and s.size]
        if tables:
            sec = tables[which % len(tables)]
            e.patch(sec.offset + field % sec.size, bytes([(0x80, 0xFF, 0xC3, 0x0A, 0x00, 0x1B, 0x7F)[pick % 7]]))
    return bytes(e.data)


def _mutate_versions(e: ElfEdit, which: int, field: int, pick: int, size: int) -> None:
    order = e.order
    for name, entry, aux_at, next_at, aux_next_at, count_at, aux_size, fields in (
        (".gnu.version_r", 16, 8, 12, 12, 2, 16, ((2, 2), (4, 4), (8, 4), (12, 4))),
        (".gnu.version_d", 20, 12, 16, 4, 6, 8, ((2, 2), (4, 2), (6, 2), (12, 4), (16, 4))),
    ):
        sec = e.sections.get(name)
        if sec is None or sec.sh_type == SHT_NOBITS or (which % 2) != (name == ".gnu.version_d"):
            continue
        if field % 5 == 4:
            e.set_shdr(name, info=value_for(pick, sec.info, size))
            return
        chain = _chain(e.data, sec.offset, sec.size, order, entry, aux_at, next_at, aux_next_at, count_at, aux_size)
        if not chain:
            return
        at, auxes = chain[(which // 2) % len(chain)]
        if field % 3 == 2 and auxes:  # an aux entry's name / next
            aux = auxes[pick % len(auxes)]
            spot = (8, 12)[field % 2] if name == ".gnu.version_r" else (0, 4)[field % 2]
            e.patch(aux + spot, (value_for(pick, 0, size) & 0xFFFFFFFF).to_bytes(4, order))
        else:
            spot, width = fields[field % len(fields)]
            original = int.from_bytes(e.data[at + spot : at + spot + width], order)
            e.patch(at + spot, (value_for(pick, original, size) & ((1 << (8 * width)) - 1)).to_bytes(width, order))
        return
