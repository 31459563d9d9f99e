"""Prebuilt archives, read by cgocheck/build/prebuilt.py:

- the ar reader against binutils (``ar t``, ``readelf -h``, ``readelf -A``, ``readelf -p
  .comment``) on real archives: the sysroots' libc_nonshared.a and libz.a, musl's libc.a,
  and archives llvm-ar writes in the BSD format and with a /SYM64/ symbol table;
- hostile archives made from real ones (truncated, a member size past the file, a count
  bomb, a long name outside its table, a damaged header, random damage inside members, a
  FIFO, a thin archive): each ends in one problem line (one C007), never a traceback or hang;
- the prebuilt fixtures through a real verify (fixtures/contaminated/prebuilt-*, built by
  tests/support/contamination.py): one finding per archive, members counted, C004 on a
  link that fails, the table's prebuilt rows; and the command line on a damaged archive.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import random
import re
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest

from cgocheck.build.prebuilt import AR_MAGIC, MAX_MEMBERS, ar_members, read_prebuilt
from cgocheck.build.record import BuildRecord
from cgocheck.checks import check_record
from cgocheck.commands.verify import VerifyResult
from cgocheck.core.schema import report_error, schema
from cgocheck.core.targets import parse_target
from cgocheck.report.table import build_rows
from tests.support.cli import cgocheck, workdir
from tests.support.contamination import load_scenario, prepare, run_scenario
from tests.support.need import need, need_tool, sysroot

pytestmark = pytest.mark.integration

# (sysroot, path inside it)
REAL = [
    ("bookworm-arm64", "usr/lib/aarch64-linux-gnu/libc_nonshared.a"),
    ("bookworm-arm64", "usr/lib/aarch64-linux-gnu/libz.a"),
    ("bookworm-armhf", "usr/lib/arm-linux-gnueabihf/libz.a"),
    ("bookworm-armel", "usr/lib/arm-linux-gnueabi/libz.a"),
    ("bullseye-armhf", "usr/lib/arm-linux-gnueabihf/libc_nonshared.a"),
    ("bookworm-amd64", "usr/lib/x86_64-linux-gnu/libz.a"),
    ("bookworm-arm64-musl", "usr/lib/aarch64-linux-musl/libc.a"),
]
# readelf -h's Machine line -> cgocheck.elf.header's names
READELF_MACHINE = {"AArch64": "AArch64", "ARM": "ARM", "Advanced Micro Devices X86-64": "x86-64"}


def _real(name: str, rel: str) -> Path:
    p = sysroot(name) / rel
    need(p.is_file(), f"{rel} in the sysroot {name}")
    return p


def _ar_t(path: Path) -> list[str]:
    out = subprocess.run([need_tool("ar"), "t", str(path)], capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def _readelf_members(path: Path, *flags: str, tool: str = "readelf") -> list[tuple[str, str]]:
    """readelf's output per member, in order (names repeat: musl's libc.a has two free.lo)."""
    text = subprocess.run([need_tool(tool), "-W", *flags, str(path)], capture_output=True, text=True,
                          check=False).stdout
    blocks: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = re.match(r"^File: .*\((.+)\)$", line)
        if m:
            blocks.append((m.group(1), ""))
        elif blocks:
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + line + "\n")
    return blocks


def _oracle(path: Path, tool: str = "readelf") -> None:
    """Member names as ``ar t`` lists them; machine, class, byte order, e_flags as TOOL -h
    shows each member's; Tag_ABI_VFP_args and Tag_CPU_arch as -A shows them; .comment."""
    with open(path, "rb") as f:
        index = ar_members(f, path.stat().st_size)
    assert index.problem is None
    assert [m.name for m in index.members] == _ar_t(path)
    pf, objs = read_prebuilt(str(path), "link")
    assert pf.problem is None and pf.kind == "archive"
    headers = _readelf_members(path, "-h", tool=tool)
    assert [o.member for o in objs] == [n for n, _ in headers]  # every ELF member, in order
    for o, (_, h) in zip(objs, headers, strict=True):
        assert f"ELF{o.elf_class}" in h
        assert ("little endian" if o.endian == "little" else "big endian") in h
        machine = re.search(r"Machine:\s+(.+)", h)
        assert machine and READELF_MACHINE[machine.group(1).strip()] == o.machine, (o.member, h)
        flags = re.search(r"Flags:\s+(0x[0-9a-f]+)", h)
        assert flags and int(flags.group(1), 16) == o.flags
    if any(o.machine == "ARM" for o in objs):
        for o, (_, a) in zip(objs, _readelf_members(path, "-A", tool=tool), strict=True):
            vfp = re.search(r"Tag_ABI_VFP_args: (.+)", a)
            assert (o.vfp_args == "VFP registers") == bool(vfp and vfp.group(1).strip() == "VFP registers"), o
            cpu = re.search(r"Tag_CPU_arch: (\S+)", a)
            assert o.cpu_arch == (cpu.group(1) if cpu else None), o
    comments = _readelf_members(path, "-p", ".comment", tool=tool)
    for o, (_, c) in list(zip(objs, comments, strict=True))[:60]:
        shown = re.findall(r"\[\s*\w+\]\s+(.+)", c)
        assert list(o.producer) == [s.strip() for s in shown], o.member


@pytest.mark.parametrize(("name", "rel"), REAL, ids=[f"{n}:{Path(r).name}" for n, r in REAL])
def test_reader_matches_binutils_on_sysroot_archives(name: str, rel: str) -> None:
    _oracle(_real(name, rel))


def test_reader_matches_binutils_on_llvm_ar_formats(tmp_path: Path) -> None:
    """BSD names (#1/N, __.SYMDEF), GNU long names (//) and a /SYM64/ symbol table."""
    llvm_ar = need_tool("llvm-ar")
    cc = need_tool("aarch64-linux-gnu-gcc")
    objs = []
    for i, name in enumerate(["a.o", "a_member_name_longer_than_sixteen_bytes.o", "b.o", "x" * 40 + ".o"]):
        src = tmp_path / f"s{i}.c"
        src.write_text(f"int f{i}(int x) {{ return x + {i}; }}\n")
        obj = tmp_path / name
        subprocess.run([cc, "-c", str(src), "-o", str(obj)], check=True)
        objs.append(str(obj))
    for fmt, env in (("gnu", {}), ("bsd", {}), ("gnu", {"SYM64_THRESHOLD": "0"})):
        out = tmp_path / f"lib-{fmt}-{len(env)}.a"
        subprocess.run([llvm_ar, f"--format={fmt}", "rcs", str(out), *objs], check=True,
                       env={**os.environ, **env})
        head = out.read_bytes()[:80]
        if env:
            need(b"/SYM64/" in head, "llvm-ar writing /SYM64/ with SYM64_THRESHOLD=0")
        _oracle(out, "llvm-readelf" if fmt == "bsd" else "readelf")  # binutils' readelf knows no #1/N
        _pf, got = read_prebuilt(str(out), "link")
        assert [o.member for o in got] == [Path(o).name for o in objs]


# --- what real objects show: libc flavour, float ABI ---------------------------------------

T64 = """#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
long t64(const char *p) { struct stat st; struct timeval tv; gettimeofday(&tv, 0);
  if (stat(p, &st)) return -1; return (long)st.st_mtime + (long)tv.tv_sec + (long)time(0); }
"""


def _rules_on(obj: Path, target: str) -> list[str]:
    pf, objs = read_prebuilt(str(obj), "link")
    rec = dataclasses.replace(_empty_record(), prebuilt=tuple(objs), prebuilt_files=(pf,))
    return [f"{f.rule} {f.message}" for f in check_record(rec, None, parse_target(target))
            if f.rule in ("C004", "C005", "C006", "C007")]


@pytest.mark.fires("C006")
def test_time64_symbols_tell_32_bit_musl_from_glibc(tmp_path: Path) -> None:
    """musl 1.2's 32-bit time64 names (__stat_time64) against glibc's (__stat64_time64,
    __gettimeofday64): zig's musl headers for armhf, and the bookworm-armhf sysroot's glibc
    with _TIME_BITS=64, for the same source."""
    src = tmp_path / "t64.c"
    src.write_text(T64)
    zig = tmp_path / "musl.o"
    import sys

    proc = subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "arm-linux-musleabihf", "-O2", "-c",
                           str(src), "-o", str(zig)], capture_output=True, text=True, check=False, timeout=600)
    need(proc.returncode == 0, f"zig cc for arm-linux-musleabihf ({proc.stderr.strip()[-200:]})")
    (o,) = read_prebuilt(str(zig), "link")[1]
    assert o.libc == "musl" and "undefined __stat_time64" in o.libc_evidence, o
    assert o.float_abi == "hard" and o.vfp_args == "VFP registers"
    found = _rules_on(zig, "linux/arm/v7")  # and C005: zig's clang, in a record of a gcc build
    assert f"C006 {zig}: 1 of 1 member was compiled against musl, the target's C library is glibc" in found
    assert not [f for f in _rules_on(zig, "linux/arm/v7/musl") if f.startswith(("C006", "C004"))]

    glibc = tmp_path / "glibc.o"
    subprocess.run([need_tool("arm-linux-gnueabihf-gcc"), "-O2", "-D_FILE_OFFSET_BITS=64", "-D_TIME_BITS=64",
                    f"--sysroot={sysroot('bookworm-armhf')}", "-c", str(src), "-o", str(glibc)], check=True)
    (g,) = read_prebuilt(str(glibc), "link")[1]
    assert g.libc == "glibc" and any("64_time64" in e for e in g.libc_evidence), g
    assert _rules_on(glibc, "linux/arm/v7") == []


@pytest.mark.fires("C004")
def test_riscv_float_abi_from_e_flags(tmp_path: Path) -> None:
    cc = need_tool("riscv64-linux-gnu-gcc")
    src = tmp_path / "sum.c"
    src.write_text("double scale(double x) { return x * 3; }\n")
    soft, hard = tmp_path / "soft.o", tmp_path / "double.o"
    subprocess.run([cc, "-march=rv64imac", "-mabi=lp64", "-c", str(src), "-o", str(soft)], check=True)
    subprocess.run([cc, "-c", str(src), "-o", str(hard)], check=True)
    assert read_prebuilt(str(soft), "link")[1][0].float_abi == "soft"
    assert _rules_on(soft, "linux/riscv64") == [
        f"C004 {soft}: 1 of 1 member is soft-float ABI, the target is double-float ABI"]
    assert _rules_on(hard, "linux/riscv64") == []


# --- hostile archives -----------------------------------------------------------------------

TARGET = parse_target("linux/arm64")


def _c007(path: Path) -> list[str]:
    """The C004-C007 findings on a record that links PATH."""
    pf, objs = read_prebuilt(str(path), "link")
    rec = dataclasses.replace(_empty_record(), prebuilt=tuple(objs), prebuilt_files=(pf,))
    return [f"{f.rule} {f.message}" for f in check_record(rec, None, TARGET) if f.rule.startswith("C00")]


def _empty_record() -> BuildRecord:
    return BuildRecord(
        package=".", source_dir="/src", output="/tmp/o", go_version="1.27.3", goroot="/go", compiler="gcc",
        cc="aarch64-linux-gnu-gcc", cc_machine="aarch64-linux-gnu", expect_producer="GNU", sysroot=None,
        glibc_floor=None, target="linux/arm64", env=(), extra_env=(), unset=(), argv=(), go_flags=(),
        returncode=0, seconds=1.0, log_tail="", link_mode="external", calls=(), cgo_packages=(), pkgconfig=(),
        paths=(), c_units=(), linker_warnings=(), prebuilt=(), work_dir=None,
    )


def _member_header(name: str, size: int | str) -> bytes:
    return f"{name:<16}{0:<12}{0:<6}{0:<6}{'644':<8}{size!s:<10}`\n".encode()


@pytest.fixture
def libz(tmp_path: Path) -> bytes:
    return _real("bookworm-arm64", "usr/lib/aarch64-linux-gnu/libz.a").read_bytes()


def _one_problem(path: Path, want: str, seconds: float = 10) -> None:
    t0 = time.monotonic()
    found = _c007(path)
    assert time.monotonic() - t0 < seconds
    c007 = [f for f in found if f.startswith("C007")]
    assert len(c007) == 1, found
    line = c007[0]
    assert "\n" not in line and re.search(want, line), line


@pytest.mark.fires("C007")
def test_hostile_archives_end_in_one_problem(tmp_path: Path, libz: bytes) -> None:
    clean = tmp_path / "libz.a"
    clean.write_bytes(libz)
    assert _c007(clean) == []  # the clean twin: the real archive

    cut = tmp_path / "truncated.a"
    cut.write_bytes(libz[: len(libz) // 2])
    _one_problem(cut, r"truncated")
    _pf, some = read_prebuilt(str(cut), "link")
    assert 0 < len(some) < len(read_prebuilt(str(clean), "link")[1])  # what came before the cut is read

    huge = tmp_path / "huge.a"
    huge.write_bytes(AR_MAGIC + _member_header("big.o/", 9_999_999_999) + libz[8 + 60 :][:4096])
    _one_problem(huge, r"declares 9999999999 bytes")

    bomb = tmp_path / "bomb.a"
    bomb.write_bytes(AR_MAGIC + _member_header("e.o/", 0) * 200_000)
    _one_problem(bomb, rf"more than {MAX_MEMBERS} members")

    longname = tmp_path / "longname.a"
    longname.write_bytes(AR_MAGIC + _member_header("//", 4) + b"ab/\n" + _member_header("/99999", 0))
    _one_problem(longname, r"outside the long-name table")

    damaged = tmp_path / "damaged.a"
    damaged.write_bytes(AR_MAGIC + _member_header("x.o/", 4)[:58] + b"!!" + b"abcd")
    _one_problem(damaged, r"no member header")

    thin = tmp_path / "thin.a"
    thin.write_bytes(b"!<thin>\n" + _member_header("/etc/passwd/", 100))
    _one_problem(thin, r"thin archive")

    fifo = tmp_path / "fifo.a"
    os.mkfifo(fifo)
    _one_problem(fifo, r"not a regular file", seconds=5)


def test_random_damage_inside_members_never_raises(tmp_path: Path, libz: bytes) -> None:
    """Bytes of real members overwritten at random (fixed seed): every reading returns."""
    rng = random.Random(13)
    data = bytearray(libz)
    path = tmp_path / "fuzz.a"
    for _ in range(60):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 64)):
            bad[rng.randrange(8, len(bad))] = rng.randrange(256)
        path.write_bytes(bytes(bad))
        pf, _objs = read_prebuilt(str(path), "link")
        assert pf.problem is None or "\n" not in pf.problem
        _c007(path)  # the checks take whatever came out


# --- the prebuilt fixtures, built by a real verify ------------------------------------------


def _findings(result: VerifyResult, rule: str) -> list[str]:
    return [f.message for f in result.report.findings if f.rule == rule]


@pytest.mark.fires("C004")
def test_softfloat_archive_into_armhf_fires_c004_on_the_failed_link(tmp_path: Path) -> None:
    result = run_scenario("prebuilt-softfloat-archive", tmp_path, clean=False)
    assert not result.record.ok, "the soft-float archive cannot be linked into an armhf program"
    (msg,) = _findings(result, "C004")  # one finding for the archive, not one per member
    assert msg == "libprebuilt.a: 3 of 3 members are soft-float, the target is hard-float (linux/arm/v7)"
    rows = dict(build_rows(result.record))
    assert re.fullmatch(r"3 by GNU \d+[\d.]*", rows["prebuilt members"]), rows["prebuilt members"]


@pytest.mark.fires("C004")
def test_host_archive_into_arm64_is_one_finding_by_machine_name(tmp_path: Path) -> None:
    result = run_scenario("prebuilt-host-archive", tmp_path, clean=False)
    (msg,) = _findings(result, "C004")
    assert msg == "libprebuilt.a: 3 of 3 members are x86-64, the target is AArch64"
    (f,) = result.record.prebuilt_files
    assert (f.kind, f.members, f.origin) == ("archive", 3, "module")


@pytest.mark.fires("C005")
def test_clang_archive_in_a_gcc_build(tmp_path: Path) -> None:
    result = run_scenario("prebuilt-clang-archive", tmp_path, clean=False)
    assert result.record.ok
    (msg,) = _findings(result, "C005")
    assert re.fullmatch(r"libprebuilt\.a: 3 of 3 members were compiled by clang \d+[\d.]*, "
                        r"the build's C compiler is GNU \d+[\d.]*", msg), msg
    units = dict(build_rows(result.record))
    assert re.fullmatch(r"\d+ by GNU \d+[\d.]*", units["C units"]), units["C units"]  # the build's own
    assert re.fullmatch(r"3 by clang \d+[\d.]*", units["prebuilt members"]), units["prebuilt members"]


@pytest.mark.fires("C006")
def test_musl_archive_in_a_glibc_build(tmp_path: Path) -> None:
    result = run_scenario("prebuilt-musl-archive", tmp_path, clean=False)
    assert result.record.ok
    (msg,) = _findings(result, "C006")
    assert msg == "libprebuilt.a: 1 of 3 members was compiled against musl, the target's C library is glibc"
    (finding,) = [f for f in result.report.findings if f.rule == "C006"]
    assert any("bits/alltypes.h" in e for e in finding.evidence), finding.evidence
    units = {posixpath.basename(u.name): u.origin for u in result.record.c_units}
    assert units["parse.c"] == "prebuilt" and units["main.cgo2.c"] == "user"  # the member's DWARF unit
    clean = run_scenario("prebuilt-musl-archive", tmp_path / "twin", clean=True)
    assert {o.libc for o in clean.record.prebuilt if o.libc} == {"glibc"}  # the twin shows glibc, silently


def test_verify_on_a_damaged_archive_reports_it(tmp_path: Path) -> None:
    """The command line on a program whose archive is cut short: one C007 line, the build's
    failure, no traceback."""
    spec = load_scenario("prebuilt-host-archive")
    src = prepare("prebuilt-host-archive", spec, tmp_path, clean=True)
    lib = src / "libprebuilt.a"
    data = lib.read_bytes()
    lib.write_bytes(data[: len(data) - 300])
    need_tool("aarch64-linux-gnu-gcc")
    (tmp_path / "w").mkdir()
    proc = cgocheck("verify", str(src), "--target", "linux/arm64", "--ldflags=-linkmode=external",
                    "--format", "json", "-o", str(tmp_path / "out"), cwd=workdir(tmp_path / "w"), timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert jsonschema.Draft202012Validator(schema("report")).is_valid(report)
    assert report_error(report) is None
    (pf,) = report["build"]["prebuilt_files"]
    assert (pf["kind"], pf["origin"]) == ("archive", "module") and "truncated" in pf["problem"]
    found = [f for f in report["build_findings"] if f["rule"] == "C007"]
    assert len(found) == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert "truncated" in found[0]["message"] and "\n" not in found[0]["message"]
