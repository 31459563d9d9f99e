"""The one bounded ELF header reader (cgocheck.elf.header) against binutils' readelf and
pyelftools on real files (the host's programs and libraries, every sysroot's libc and
loader), and on any bytes at all: a decoded header or one HeaderError line, nothing else."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import given, settings
from hypothesis import strategies as st

from cgocheck.core.errors import BadInput, NotAnElf
from cgocheck.elf.decode import RISCV_FLOAT_ABI, riscv_float_abi
from cgocheck.elf.header import EHDR_MAX, HeaderError, machine_name, parse_header, parse_ident, read_header


def real_files() -> list[Path]:
    from cgocheck.core import folders

    found = [Path(p) for p in ("/bin/ls", "/usr/bin/python3", "/lib/x86_64-linux-gnu/libc.so.6") if Path(p).is_file()]
    top = folders.sysroots()
    if top.is_dir():
        for root in sorted(top.iterdir()):
            for name in ("libc.so.6", "crt1.o", "ld-linux-aarch64.so.1", "ld-linux-armhf.so.3", "ld-linux.so.3"):
                found += [p.resolve() for p in (root / "usr" / "lib").glob(f"*-linux-*/{name}") if p.is_file()]
    return sorted(set(found))


READELF_TYPE = {1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE"}


@pytest.mark.parametrize("path", real_files(), ids=lambda p: p.name)
def test_header_matches_readelf_and_pyelftools(path: Path) -> None:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) is missing")
    h = read_header(path)
    out = subprocess.run([readelf, "-h", "-W", str(path)], capture_output=True, text=True, check=True).stdout
    fields = dict(re.findall(r"^\s+([^:]+):\s+(.*)$", out, re.M))
    assert f"ELF{h.elf_class}" == fields["Class"]
    assert h.endian in fields["Data"]
    assert fields["Type"].startswith(READELF_TYPE[h.e_type])
    assert int(fields["Flags"].split(",")[0], 16) == h.e_flags
    assert int(fields["Entry point address"], 16) == h.e_entry
    assert int(fields["Start of program headers"].split()[0]) == h.e_phoff
    assert int(fields["Start of section headers"].split()[0]) == h.e_shoff
    assert int(fields["Number of program headers"]) == h.e_phnum == 0 or h.e_phentsize == h.phentsize_expected
    assert int(fields["Size of program headers"].split()[0]) == h.e_phentsize
    assert int(fields["Number of section headers"]) == h.e_shnum
    assert int(fields["Section header string table index"]) == h.e_shstrndx
    # pyelftools names (the facts have always used its spellings)
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert h.machine == elf.header["e_machine"]
        assert h.osabi == elf.header["e_ident"]["EI_OSABI"]
        assert h.type_name == elf.header["e_type"]
    assert h.machine_name != f"e_machine {h.e_machine}"  # every machine we ship has a person's name


def test_float_abi_and_machine_names() -> None:
    assert [riscv_float_abi(f) for f in (0x0, 0x2, 0x4, 0x6, 0x5)] == ["soft", "single", "double", "quad", "double"]
    assert set(RISCV_FLOAT_ABI.values()) == {"soft", "single", "double", "quad"}
    assert machine_name(183) == "AArch64" and machine_name(243) == "RISC-V" and machine_name(9999) == "e_machine 9999"
    hard = bytearray(64)
    hard[:7] = b"\x7fELF\x01\x01\x01"
    hard[18:20] = (40).to_bytes(2, "little")
    hard[36:40] = (0x05000400).to_bytes(4, "little")
    h = parse_header(bytes(hard))
    assert (h.machine, h.arm_eabi, h.float_abi) == ("EM_ARM", 5, "hard")
    assert h.flags_decoded == ("EABI5", "hard-float")


def test_bad_headers_are_one_line() -> None:
    for head, reason in [
        (b"", "file too short (0 bytes)"), (b"MZ\x90\x00", "not an ELF file"), (b"\x7fEL", "file too short"),
        (b"\x7fELF\x02\x01\x01", "file too short"), (b"\x7fELF\x03\x01\x01" + bytes(57), "invalid ELF class byte 3"),
        (b"\x7fELF\x02\x00\x01" + bytes(57), "invalid ELF data encoding byte 0"),
        (b"\x7fELF\x02\x01\x01" + bytes(40), "file too short (47 bytes) for a 64-bit ELF header"),
    ]:
        with pytest.raises(HeaderError, match=re.escape(reason)) as err:
            parse_header(head)
        assert "\n" not in err.value.reason
    assert parse_ident(b"\x7fELF\x01\x02\x01\x61" + bytes(8)).osabi == "ELFOSABI_ARM"


def test_read_header_errors(tmp_path: Path) -> None:
    (tmp_path / "text").write_text("hello\n")
    (tmp_path / "short").write_bytes(b"\x7fELF\x02\x01\x01\x00")
    with pytest.raises(NotAnElf, match="an unknown format"):
        read_header(tmp_path / "text")
    with pytest.raises(NotAnElf, match="file too short"):
        read_header(tmp_path / "short")
    with pytest.raises(BadInput, match="cannot read"):
        read_header(tmp_path / "missing")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80), st.integers(0, 2))
def test_any_bytes_decode_or_one_error(data: bytes, prefix: int) -> None:
    head = (b"", b"\x7fELF", b"\x7fELF\x02\x01\x01")[prefix] + data
    try:
        h = parse_header(head)
    except HeaderError as err:
        assert "\n" not in err.reason
        return
    assert h.elf_class in (32, 64) and len(head) >= h.size
    assert isinstance(h.machine, str) and isinstance(h.float_abi, str) and isinstance(h.flags_decoded, tuple)
    # the same bytes through pyelftools: the same fields
    elf = ELFFile(io.BytesIO(head[:EHDR_MAX] + bytes(EHDR_MAX)))
    assert int(elf.header["e_flags"]) == h.e_flags and int(elf.header["e_phoff"]) == h.e_phoff
