"""Header-declared sizes never become allocations: real binaries whose headers (or debug
streams) were edited at test time to claim gigabytes.

- an SHF_COMPRESSED .debug_info whose ch_size claims 1 TiB (4 GiB on 32-bit);
- a decompression bomb: .debug_info pointed at a real zlib stream of 1 MiB that inflates
  to 1 GiB, its ch_size saying so honestly (pyelftools would inflate it all: 2 GB, 7 s);
- the same bomb in a Go 1.15 binary's .zdebug_info, whose "ZLIB" header lies (small);
- a 1 GiB sparse shared object with a real libc header, which lief would read whole.

Each is read in a child process that reports its own peak memory.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from cgocheck.elf import read_elf
from cgocheck.elf.reader import MAX_DWARF_BYTES
from tests.support.builder import GO_NEW, Builder
from tests.support.cli import cgocheck
from tests.support.elfedit import zlib_bomb
from tests.support.gobuild import build_pure, go_legacy
from tests.support.host import HOST_LIBC
from tests.support.need import need

pytestmark = pytest.mark.integration

PEAK_MB = 300  # a child that read the edited file must stay under this


def inflates_past(stream: bytes, limit: int) -> bool:
    d = zlib.decompressobj()
    n, buf = 0, stream
    while buf and n <= limit:
        n += len(d.decompress(buf, 1 << 22))
        buf = d.unconsumed_tail
    return n > limit


class Edit:
    """A real ELF file in memory and the section header fields of one section."""

    def __init__(self, data: bytes, section: str) -> None:
        self.data = bytearray(data)
        elf = ELFFile(io.BytesIO(data))
        self.le = "<" if elf.little_endian else ">"
        self.is64 = elf.elfclass == 64
        idx = next(i for i, s in enumerate(elf.iter_sections()) if s.name == section)
        self.sec = elf.get_section(idx)
        self.shdr = int(elf.header["e_shoff"]) + idx * int(elf.header["e_shentsize"])

    def point_at_end(self, payload: bytes) -> None:
        """Append PAYLOAD and make the section's sh_offset/sh_size cover exactly it."""
        off = len(self.data)
        self.data += payload
        if self.is64:
            self.data[self.shdr + 24 : self.shdr + 40] = struct.pack(self.le + "QQ", off, len(payload))
        else:
            self.data[self.shdr + 16 : self.shdr + 24] = struct.pack(self.le + "II", off, len(payload))

    def chdr(self, size: int) -> bytes:
        """An ELFCOMPRESS_ZLIB compression header declaring SIZE bytes."""
        if self.is64:
            return struct.pack(self.le + "IIQQ", 1, 0, size, 1)
        return struct.pack(self.le + "III", 1, size, 1)


def read_in_child(path: Path) -> dict[str, object]:
    """read_elf in a fresh interpreter: its facts' shape, warnings and own peak memory (VmHWM:
    ru_maxrss carries the forking parent's resident size across exec, pytest's included)."""
    code = (
        "import json, resource, sys\n"
        "from cgocheck.elf import read_elf, read_shared_object\n"
        "f = read_elf(sys.argv[1])\n"
        "s = read_shared_object(sys.argv[1])\n"
        "print(json.dumps({'machine': f.header.machine, 'units': len(f.dwarf), 'warnings': list(f.warnings),\n"
        "  'go': f.go.buildinfo.go_version if f.go and f.go.buildinfo else None, 'symbols': len(s.defined),\n"
        "  'peak_mb': int(next(ln.split()[1] for ln in open('/proc/self/status')\n"
        "                      if ln.startswith('VmHWM:'))) // 1024}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, object] = json.loads(proc.stdout)
    return out


@pytest.fixture(scope="module")
def compressed(builder: Builder) -> Path:
    """A Go c-shared library for ARMv7 whose .debug_* sections are SHF_COMPRESSED."""
    path = builder.build("clean/cshared", "linux/arm/v7", GO_NEW, go_flags=("-buildmode=c-shared",)).path
    sec = ELFFile(io.BytesIO(path.read_bytes())).get_section_by_name(".debug_info")
    assert sec is not None and sec.compressed
    return path


def test_declared_huge_ch_size_is_refused(compressed: Path, tmp_path: Path) -> None:
    e = Edit(compressed.read_bytes(), ".debug_info")
    off = int(e.sec["sh_offset"])
    huge = (1 << 40) if e.is64 else 0xFFFFFFF0
    if e.is64:
        e.data[off + 8 : off + 16] = struct.pack(e.le + "Q", huge)
    else:
        e.data[off + 4 : off + 8] = struct.pack(e.le + "I", huge)
    bad = tmp_path / "huge-ch-size.so"
    bad.write_bytes(e.data)
    got = read_in_child(bad)
    assert got["units"] == 0 and got["machine"] == "EM_ARM" and got["go"], got
    assert any("DWARF not read: .debug_info declares" in str(w) for w in got["warnings"]), got  # type: ignore[attr-defined]
    assert int(got["peak_mb"]) < PEAK_MB  # type: ignore[call-overload]
    # the same file, untouched, has its DWARF read: the guard refuses only the edit
    assert read_elf(str(compressed)).dwarf


def test_decompression_bomb_is_not_inflated(compressed: Path, tmp_path: Path) -> None:
    bomb = zlib_bomb(1024)
    assert len(bomb) < 2 << 20 and inflates_past(bomb, MAX_DWARF_BYTES)  # 1 MiB that is really 1 GiB
    e = Edit(compressed.read_bytes(), ".debug_info")
    e.point_at_end(e.chdr(1 << 30) + bomb)
    bad = tmp_path / "bomb.so"
    bad.write_bytes(e.data)
    got = read_in_child(bad)
    assert got["units"] == 0 and got["go"], got
    assert any("declares 1073741824 bytes" in str(w) for w in got["warnings"]), got  # type: ignore[attr-defined]
    assert int(got["peak_mb"]) < PEAK_MB, got  # type: ignore[call-overload]
    # inspect says so in one warning and exits normally (no traceback, no finding from it)
    proc = cgocheck("inspect", str(bad), "--format", "json", timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    (f,) = json.loads(proc.stdout)["files"]
    assert any(w.startswith("DWARF not read") for w in f["facts"]["warnings"])


@pytest.fixture(scope="module")
def legacy_binary(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A Go 1.15 program: its linker writes .zdebug_* sections (a "ZLIB" header, no SHF flag)."""
    data = build_pure(go_legacy(), "amd64", tmp_path_factory.mktemp("legacy"), "Go 1.15")
    assert ELFFile(io.BytesIO(data)).get_section_by_name(".zdebug_info") is not None
    return data


@pytest.mark.parametrize("declared", ["lying", "honest"])
def test_zdebug_bomb_is_measured_not_trusted(legacy_binary: bytes, tmp_path: Path, declared: str) -> None:
    e = Edit(legacy_binary, ".zdebug_info")
    size = int(e.sec["sh_size"]) if declared == "lying" else 1 << 30
    e.point_at_end(b"ZLIB" + size.to_bytes(8, "big") + zlib_bomb(1024))
    bad = tmp_path / f"zdebug-{declared}"
    bad.write_bytes(e.data)
    got = read_in_child(bad)
    assert got["units"] == 0 and str(got["go"]).startswith("go1.15"), got
    assert any("DWARF not read: .zdebug_info declares" in str(w) for w in got["warnings"]), got  # type: ignore[attr-defined]
    assert int(got["peak_mb"]) < PEAK_MB, got  # type: ignore[call-overload]


def test_huge_shared_object_is_not_read_whole(tmp_path: Path) -> None:
    """lief reads a file whole (8 GiB sparse: 8 GB resident, 44 s): above 256 MiB the façade
    uses pyelftools, which reads only the tables."""
    need(HOST_LIBC.is_file(), "an x86-64 Debian host's libc")
    lib = tmp_path / "libhuge.so.6"
    with open(lib, "wb") as f:
        f.write(HOST_LIBC.read_bytes())
        f.truncate(1 << 30)
    got = read_in_child(lib)
    assert got["machine"] == "EM_X86_64" and int(got["symbols"]) > 1000, got  # type: ignore[call-overload]
    assert int(got["peak_mb"]) < PEAK_MB, got  # type: ignore[call-overload]


def test_largest_accepted_dwarf_stays_under_a_gib(builder: Builder, tmp_path: Path) -> None:
    """The DWARF budget's edge: a 13 MB file (50x its size is past the 512 MiB cap) whose
    .debug_info honestly inflates to 500 MiB is read (it fits the budget) within 10 s and
    1 GiB; one more compressed section of 100 MiB makes them refused together."""
    from tests.support.elfedit import ElfEdit, read_in_child

    src = builder.build("clean/libc", "linux/arm64", GO_NEW, "gcc").path.read_bytes()
    e = ElfEdit(src)
    e.append(src * 5)  # real bytes, so that the ratio limit is not the one that applies
    e.point_at(".debug_info", e.chdr(500 << 20) + zlib_bomb(500), compressed=True)
    got = read_in_child(e.write(tmp_path / "edge"))
    assert got["elf"]["units"] == 0 and any("DWARF: " in w for w in got["elf"]["warnings"])
    assert not any("DWARF not read" in w for w in got["elf"]["warnings"])  # read, not refused
    e.point_at(".debug_line", e.chdr(100 << 20) + zlib_bomb(100), compressed=True)
    got = read_in_child(e.write(tmp_path / "edge-2"))
    assert any("uncompressed together (refused)" in w for w in got["elf"]["warnings"]), got["elf"]["warnings"]
