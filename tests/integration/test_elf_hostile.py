"""Hostile input, one class of defect at a time, at the depth where it lives: real binaries
(Go cross builds, sysroot libraries) with one structure edited at test time the way an
attacker would. Each input is read in a child process that must end within 10 s, stay under
1 GiB, and give facts with a warning or exactly one BadInput line; `cgocheck inspect` on it
must exit 0/1/2 with at most one stderr line and no traceback.

Each of these hung, ran out of memory or crashed with the readers that trusted pyelftools
and lief (see the commit that added them): the counts, sizes and offsets they edit are the
ones those libraries looped over or allocated from.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from cgocheck.core.errors import CgocheckError
from cgocheck.elf import read_dynamic_both, read_elf
from tests.support.builder import GO_NEW, Builder
from tests.support.elfedit import SHT_NOBITS, ElfEdit, cli, read_in_child, uleb, zlib_bomb
from tests.support.need import need, need_tool

pytestmark = pytest.mark.integration

MAX_LIEF_BYTES = 256 << 20


def sysroot_file(name: str, rel: str) -> Path:
    from cgocheck.sysroot import find_sysroot

    try:
        root = find_sysroot(name)
    except CgocheckError as err:
        need(False, f"sysroot {name} ({err.message})")
        raise
    path = (root / rel).resolve()
    need(path.is_file(), f"{rel} in sysroot {name}")
    return path


def objcopy(machine: str) -> str:
    return need_tool({"EM_AARCH64": "aarch64-linux-gnu-objcopy", "EM_ARM": "arm-linux-gnueabihf-objcopy",
                      "EM_X86_64": "x86_64-linux-gnu-objcopy", "EM_RISCV": "riscv64-linux-gnu-objcopy"}[machine])


def plain_copy(src: Path, dest: Path) -> Path:
    """SRC with its debug sections decompressed by binutils (so their headers can be edited)."""
    machine = read_elf(str(src), dwarf=False, go=False).header.machine
    subprocess.run([objcopy(machine), "--decompress-debug-sections", str(src), str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def armv7(builder: Builder) -> Path:
    return builder.build("clean/libc", "linux/arm/v7", GO_NEW, "gcc").path


@pytest.fixture(scope="module")
def arm64(builder: Builder) -> Path:
    return builder.build("clean/libc", "linux/arm64", GO_NEW, "gcc").path


@pytest.fixture(scope="module")
def clang_plain(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cgo program whose C units clang compiled (DWARF 5: strx forms, DW_AT_addr_base),
    its DWARF decompressed."""
    built = builder.build("clean/libc", "linux/arm64", GO_NEW, "clang").path
    return plain_copy(built, tmp_path_factory.mktemp("clang") / "prog")


@pytest.fixture(scope="module")
def gcc_plain(arm64: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gcc-built arm64 program (C units' line tables are DWARF 5), DWARF decompressed."""
    return plain_copy(arm64, tmp_path_factory.mktemp("gcc") / "prog")


@pytest.fixture(scope="module")
def libm() -> Path:
    """A real shared library with version definitions and needs."""
    return sysroot_file("bookworm-arm64", "usr/lib/aarch64-linux-gnu/libm.so.6")


def facts_with_warning(got: dict[str, object], *needles: str) -> list[str]:
    elf = got["elf"]
    assert isinstance(elf, dict) and elf.get("facts"), got
    warnings = [str(w) for w in elf["warnings"]]
    for n in needles:
        assert any(n in w for w in warnings), (n, warnings)
    assert not any("MemoryError" in w or "RecursionError" in w for w in warnings), warnings
    return warnings


# --- .ARM.attributes: our own bounded parser -------------------------------------------------


def test_arm_attributes_zero_length_subsection(armv7: Path, tmp_path: Path) -> None:
    """A sub-section of length 0 under a vendor other than "aeabi" (pyelftools: forever)."""
    e = ElfEdit(armv7.read_bytes())
    real = e.section_bytes(".ARM.attributes")
    e.point_at(".ARM.attributes", real + b"\0\0\0\0gnu\0" + b"\x01" * 16)
    bad = e.write(tmp_path / "arm-attr-zero")
    got = read_in_child(bad)
    facts_with_warning(got, ".ARM.attributes: a sub-section of 0 bytes")
    assert got["elf"]["arm"] == read_in_child(armv7)["elf"]["arm"] != [None, None, None]  # aeabi still decoded
    cli(bad)


def test_arm_attributes_oversized_size(armv7: Path, tmp_path: Path) -> None:
    e = ElfEdit(armv7.read_bytes())
    e.set_shdr(".ARM.attributes", size=0x7FFFFFF0)
    bad = e.write(tmp_path / "arm-attr-size")
    got = read_in_child(bad)
    facts_with_warning(got, ".ARM.attributes: 2147483632 bytes declared")
    assert got["elf"]["arm"][0] == "v7"
    cli(bad)


# --- DWARF: damage in one unit is a warning about that unit ----------------------------------


def _first_unit(path: Path, language: set[int] | None = None) -> tuple[int, int, int]:
    """(.debug_info file offset, unit offset, unit count) of the first unit (of LANGUAGE)."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        dw = elf.get_dwarf_info(relocate_dwarf_sections=False, follow_links=False)
        info = elf.get_section_by_name(".debug_info")
        assert info is not None and not info["sh_flags"] & 0x800
        units = list(dw.iter_CUs())
        for cu in units:
            lang = cu.get_top_DIE().attributes.get("DW_AT_language")
            if language is None or (lang is not None and lang.value in language):
                return int(info["sh_offset"]), int(cu.cu_offset), len(units)
    raise AssertionError("no such unit")


C_LANGS = {0x1, 0x2, 0xC, 0x1D, 0x2C}


@pytest.mark.parametrize(("field", "at", "value", "warning"), [
    ("version 7", 4, (7).to_bytes(2, "little"), "has version 7 (not 2-5); skipped"),
    ("abbrev offset out of range", 8, b"\xff\xff\xff\x7f", "abbreviation offset 0x7fffffff is past .debug_abbrev"),
])
def test_damaged_unit_is_skipped_not_the_rest(clang_plain: Path, tmp_path: Path, field: str, at: int, value: bytes,
                                               warning: str) -> None:
    """pyelftools stopped at the first bad unit header (all units lost, or a traceback)."""
    base, unit, n = _first_unit(clang_plain, C_LANGS)
    e = ElfEdit(clang_plain.read_bytes()).patch(base + unit + at, value)
    bad = e.write(tmp_path / field.replace(" ", "-"))
    got = read_in_child(bad)
    facts_with_warning(got, warning)
    assert got["elf"]["units"] == n - 1, got["elf"]["units"]
    assert any("clang" in p for p in got["elf"]["producers"])  # the other clang units
    cli(bad)


def _abbrev_attr_offsets(data: bytes, start: int, code: int) -> dict[int, int]:
    """Where each attribute number of abbreviation CODE of the table at START is (a walk of
    the ULEB128 lists, written here so the test does not trust the reader it tests)."""
    def leb(pos: int) -> tuple[int, int]:
        v = s = 0
        while True:
            b = data[pos]
            pos += 1
            v |= (b & 0x7F) << s
            s += 7
            if b < 0x80:
                return v, pos

    pos = start
    while True:
        this, pos = leb(pos)
        assert this, f"abbreviation {code} not found"
        _tag, pos = leb(pos)
        pos += 1
        found: dict[int, int] = {}
        while True:
            at = pos
            attr, pos = leb(pos)
            form, pos = leb(pos)
            if form == 0x21:
                _c, pos = leb(pos)
            if attr == 0 and form == 0:
                break
            found[attr] = at
        if this == code:
            return found


def test_missing_addr_base_is_not_fatal(clang_plain: Path, tmp_path: Path) -> None:
    """clang's C units use DW_FORM_addrx: without DW_AT_addr_base pyelftools raised for the
    first such unit and every unit was lost. Here the attribute is renamed in every
    abbreviation that has it (to a reserved number of the same size)."""
    e = ElfEdit(clang_plain.read_bytes())
    abbrev = e.sections[".debug_abbrev"]
    with open(clang_plain, "rb") as f:
        dw = ELFFile(f).get_dwarf_info(relocate_dwarf_sections=False, follow_links=False)
        tables = {(int(cu["debug_abbrev_offset"]), int(cu.get_top_DIE().abbrev_code or 0)) for cu in dw.iter_CUs()
                  if "DW_AT_addr_base" in cu.get_top_DIE().attributes}
    renamed = 0
    for table, code in tables:
        where = _abbrev_attr_offsets(e.section_bytes(".debug_abbrev"), table, code).get(0x73)
        if where is not None:
            e.patch(abbrev.offset + where, b"\x05")
            renamed += 1
    assert renamed
    bad = e.write(tmp_path / "no-addr-base")
    got = read_in_child(bad)
    assert got["elf"]["units"] == _first_unit(clang_plain)[2]
    assert any("clang" in p for p in got["elf"]["producers"]), got["elf"]["producers"]
    cli(bad)


# --- SHT_NOBITS debug sections: no bytes, whatever sh_size says --------------------------------


@pytest.mark.parametrize("section", [".debug_str", ".debug_info"])
def test_nobits_debug_section_is_not_allocated(gcc_plain: Path, tmp_path: Path, section: str) -> None:
    """A 2 MB file whose NOBITS .debug_* declares 2.1 GB: pyelftools gave b'\\0' * sh_size."""
    e = ElfEdit(gcc_plain.read_bytes()).set_shdr(section, type=SHT_NOBITS, size=0x7D000000)
    bad = e.write(tmp_path / f"nobits{section}")
    got = read_in_child(bad)
    if section == ".debug_info":
        facts_with_warning(got, "DWARF not read: .debug_info holds no bytes in the file (SHT_NOBITS)")
        assert got["elf"]["units"] == 0
    else:
        facts_with_warning(got, f"{section} holds no bytes in the file (SHT_NOBITS)")
        assert got["elf"]["units"] == _first_unit(gcc_plain)[2]
    cli(bad)


# --- compressed sections anywhere: inflated only within a budget -------------------------------


def test_compressed_eh_frame_bomb(arm64: Path, tmp_path: Path) -> None:
    """1 MiB inflating to 1 GiB in .eh_frame, which the DWARF size check did not cover."""
    e = ElfEdit(arm64.read_bytes())
    e.point_at(".eh_frame", e.chdr(1 << 30) + zlib_bomb(1024), compressed=True)
    bad = e.write(tmp_path / "eh-frame-bomb")
    got = read_in_child(bad)
    assert got["elf"]["units"] == read_in_child(arm64)["elf"]["units"] > 0  # .eh_frame is never read
    cli(bad)


@pytest.mark.parametrize("declared", ["honest", "lying"])
def test_compressed_gnu_version_bomb(armv7: Path, tmp_path: Path, declared: str) -> None:
    """.gnu.version is read in the required part: a bomb there hung and took GBs."""
    e = ElfEdit(armv7.read_bytes())
    size = (1 << 30) if declared == "honest" else e.sections[".gnu.version"].size
    e.point_at(".gnu.version", e.chdr(size) + zlib_bomb(1024), compressed=True)
    bad = e.write(tmp_path / f"versym-bomb-{declared}")
    got = read_in_child(bad)
    warning = "declares 1073741824 bytes uncompressed" if declared == "honest" else "inflates to more"
    facts_with_warning(got, "symbol versions not read: .gnu.version", warning)
    assert got["elf"]["needed"] == read_in_child(armv7)["elf"]["needed"]
    cli(bad)


# --- version chains: walked by their links, within the section --------------------------------


def _sparse(src: Path, dest: Path, size: int) -> Path:
    shutil.copyfile(src, dest)
    with open(dest, "r+b") as f:
        f.truncate(size)
    return dest


@pytest.mark.parametrize("big", [False, True], ids=["small", "over-MAX_LIEF_BYTES"])
def test_verneed_count_ffffffff(armv7: Path, tmp_path: Path, big: bool) -> None:
    e = ElfEdit(armv7.read_bytes()).set_shdr(".gnu.version_r", info=0xFFFFFFFF).set_dynamic(0x6FFFFFFF, 0xFFFFFFFF)
    bad = e.write(tmp_path / "verneed")
    if big:
        bad = _sparse(bad, tmp_path / "verneed-big", MAX_LIEF_BYTES + (16 << 20))
    got = read_in_child(bad)
    facts_with_warning(got, ".gnu.version_r: 4294967295 entries declared")
    assert got["elf"]["verneed"] == read_in_child(armv7)["elf"]["verneed"] != {}
    assert "error" not in got["so"]
    cli(bad)


@pytest.mark.parametrize("big", [False, True], ids=["small", "over-MAX_LIEF_BYTES"])
def test_verdef_count_ffffffff(libm: Path, tmp_path: Path, big: bool) -> None:
    e = ElfEdit(libm.read_bytes()).set_shdr(".gnu.version_d", info=0xFFFFFFFF).set_dynamic(0x6FFFFFFD, 0xFFFFFFFF)
    bad = e.write(tmp_path / "libm.so.6")
    if big:
        bad = _sparse(bad, tmp_path / "libm-big.so.6", MAX_LIEF_BYTES + (16 << 20))
    got = read_in_child(bad)
    facts_with_warning(got, ".gnu.version_d: 4294967295 entries declared")
    good = read_in_child(libm)
    assert got["so"]["verdef"] == good["so"]["verdef"] != []
    assert got["so"]["defined"] == good["so"]["defined"] > 100
    cli(bad)


@pytest.mark.parametrize("big", [False, True], ids=["small", "over-MAX_LIEF_BYTES"])
def test_resolve_reads_a_library_whose_version_counts_lie(arm64: Path, tmp_path: Path, big: bool) -> None:
    """`inspect --sysroot` resolves the program's closure (read_shared_object on each
    library): a libc whose Verdef and Verneed counts say 0xffffffff is read like any other,
    also when it is too big for lief (padded with real bytes: resolve skips sparse files)."""
    root = tmp_path / "root"
    libdir = root / "usr" / "lib" / "aarch64-linux-gnu"
    libdir.mkdir(parents=True)
    (root / "lib").symlink_to("usr/lib")
    src = sysroot_file("bookworm-arm64", "usr/lib/aarch64-linux-gnu/libc.so.6")
    loader = sysroot_file("bookworm-arm64", "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1")
    shutil.copyfile(loader, root / "usr" / "lib" / "ld-linux-aarch64.so.1")
    e = ElfEdit(src.read_bytes()).set_shdr(".gnu.version_d", info=0xFFFFFFFF).set_shdr(".gnu.version_r",
                                                                                       info=0xFFFFFFFF)
    lib = e.write(libdir / "libc.so.6")
    if big:
        with open(lib, "ab") as f:
            f.write(b"\xa5" * (MAX_LIEF_BYTES + (16 << 20) - lib.stat().st_size))
    assert read_in_child(lib)["so"]["verdef"] == read_in_child(src)["so"]["verdef"] != []
    proc = cli(arm64, "--sysroot", str(root), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    (f,) = json.loads(proc.stdout)["files"]
    res = f["resolution"]
    assert not res["missing_libraries"], res["missing_libraries"]
    assert res["libraries"][0]["name"] == "libc.so.6"
    assert sum(b["provider"] == "libc.so.6" for b in res["bindings"]) > 20


# --- DWARF 5 line-table headers: an entry list that takes no bytes -----------------------------


def test_line_header_without_entry_format(gcc_plain: Path, tmp_path: Path) -> None:
    """directory_entry_format_count 0 and directories_count 2^62: pyelftools appended empty
    entries until memory ran out."""
    e = ElfEdit(gcc_plain.read_bytes())
    line = e.sections[".debug_line"]
    with open(gcc_plain, "rb") as f:
        dw = ELFFile(f).get_dwarf_info(relocate_dwarf_sections=False, follow_links=False)
        stmt = next(int(cu.get_top_DIE().attributes["DW_AT_stmt_list"].value) for cu in dw.iter_CUs()
                    if cu.get_top_DIE().attributes.get("DW_AT_language") is not None
                    and cu.get_top_DIE().attributes["DW_AT_language"].value in C_LANGS)
    at = line.offset + stmt
    assert int.from_bytes(e.data[at + 4 : at + 6], "little") == 5, "expected a DWARF 5 line table"
    opcode_base = e.data[at + 4 + 2 + 2 + 4 + 5]
    formats = at + 4 + 2 + 2 + 4 + 6 + (opcode_base - 1)  # directory_entry_format_count
    e.patch(formats, b"\x00" + uleb(1 << 62))
    bad = e.write(tmp_path / "line-no-format")
    got = read_in_child(bad)
    facts_with_warning(got, "4611686018427387904 directories with no entry format")
    assert got["elf"]["units"] == _first_unit(gcc_plain)[2]
    cli(bad)


# --- strings that are not UTF-8: str under one policy ------------------------------------------


def test_non_utf8_names_are_str(armv7: Path, tmp_path: Path) -> None:
    """lief gave bytes (TypeError in resolve, `inspect --sysroot`) or raised for these."""
    e = ElfEdit(armv7.read_bytes())
    e.replace_string(".dynstr", b"libc.so.6", b"lib\xff.so.6")
    e.replace_string(".dynstr", b"pthread_create", b"p\xc3(read_create")
    e.replace_string(".dynstr", b"GLIBC_2.4", b"GLIBC\n2.4")
    bad = e.write(tmp_path / "non-utf8")
    got = read_in_child(bad)
    assert got["elf"]["strings_ok"] and got["so"]["strings_ok"]
    assert "lib\\xff.so.6" in got["elf"]["needed"]
    assert "GLIBC\\x0a2.4" in got["elf"]["verneed"]["lib\\xff.so.6"]
    facts = read_elf(str(bad))
    assert "p\\xc3(read_create" in {s.name for s in facts.undefined}
    lief_view, ours = read_dynamic_both(str(bad))
    assert lief_view == ours  # lief's bytes, decoded by the same policy
    proc = cli(bad, "--format", "json")
    assert proc.returncode in (0, 1)
    assert "lib\\\\xff.so.6" in proc.stdout
    sysroot = sysroot_file("bookworm-armhf", "usr/lib/arm-linux-gnueabihf/libc.so.6").parents[3]
    proc = cli(bad, "--sysroot", str(sysroot), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["files"]


# --- the façade's own structures: headers that lie about the file --------------------------------


@pytest.mark.parametrize(("what", "edit"), [
    ("PT_LOAD p_filesz past the end", lambda e: e.set_phdr(e.segment_index(1), filesz=0x7FFFFFF0)),
    ("section headers past the end", lambda e: e.set_ehdr(shnum=0xFFFF)),
    ("program header entry size 1", lambda e: e.set_ehdr(phentsize=1)),
])
def test_lying_tables_are_one_error_line(armv7: Path, tmp_path: Path, what: str, edit: object) -> None:
    e = ElfEdit(armv7.read_bytes())
    edit(e)  # type: ignore[operator]
    bad = e.write(tmp_path / what.replace(" ", "-"))
    got = read_in_child(bad)
    assert "damaged ELF" in got["elf"]["error"] and got["so"]["error"] == got["elf"]["error"]
    assert cli(bad).returncode == 2


def test_interp_without_nul_and_empty(armv7: Path, tmp_path: Path) -> None:
    """PT_INTERP is judged by its p_filesz: an empty path is no interpreter; a path the
    segment does not terminate is read to the segment's end, not to the next NUL."""
    e = ElfEdit(armv7.read_bytes())
    interp = e.segment_index(3)
    _t, off, size = e.segments[interp]
    e.patch(off, b"\0" * size)
    got = read_in_child(e.write(tmp_path / "interp-empty"))
    assert got["elf"]["interpreter"] is None and got["elf"]["file_type"] == "exec"
    e = ElfEdit(armv7.read_bytes())
    e.set_phdr(interp, filesz=size - 2)  # drop "3\0": "/lib/ld-linux-armhf.so." ends the segment
    got = read_in_child(e.write(tmp_path / "interp-cut"))
    assert got["elf"]["interpreter"] == str(read_elf(str(armv7)).interpreter)[:-1]
    facts_with_warning(got, "PT_INTERP holds no NUL-terminated path")
