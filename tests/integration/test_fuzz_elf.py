"""Time-boxed fuzzing of the ELF façade (read_elf, read_shared_object, Go buildinfo) with
mutations of real cross-built binaries: any input ends in facts or BadInput, never another
exception, a hang or runaway memory. Byte mutations (anywhere, biased to the headers) and
structure-aware ones (tests/support/elfedit.py: header fields, section and program headers, version
chains, DWARF unit and line-table headers, compression headers, ARM attribute sub-sections,
dynamic entries, string tables), one property test per class of structure. Each input is
read with a watchdog (SECONDS_PER_INPUT) and an address-space limit of the process's own
size plus 1 GiB, so a hang fails the test and a runaway allocation shows as a MemoryError
(which must appear in no warning). Longer, coverage-guided runs: fuzz/fuzz_elf.py."""

from __future__ import annotations

import io
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cgocheck.core.errors import BadInput, CgocheckError
from cgocheck.elf import read_elf, read_shared_object
from cgocheck.elf.gobuildinfo import parse_buildinfo_blob, parse_modinfo
from tests.support import tally
from tests.support.builder import GO_NEW, Builder
from tests.support.cli import cgocheck
from tests.support.elfedit import KINDS, all_str, mutate_structure

pytestmark = pytest.mark.integration

REGRESSIONS = Path(__file__).resolve().parent.parent / "regressions"
SECONDS_PER_INPUT = 10.0


class Seeds(list[bytes]):
    def __repr__(self) -> str:  # keep Hypothesis' failure reports short
        return f"<{len(self)} seed binaries>"


@pytest.fixture(scope="module")
def seeds(builder: Builder) -> Seeds:
    # small binaries keep each example fast: a c-shared library and a 32-bit ARM program
    paths = [
        builder.build("clean/cshared", "linux/arm/v7", GO_NEW, go_flags=("-buildmode=c-shared",)).path,
        builder.build(
            "clean/libc", "linux/riscv64", GO_NEW, "gcc", go_flags=("-ldflags=-s -w -linkmode=external",)
        ).path,
    ]
    return Seeds(p.read_bytes() for p in paths)


EXAMPLES = int(os.environ.get("CGOCHECK_FUZZ_EXAMPLES", "150"))
MEMORY_PER_INPUT = 1 << 30


class Hang(Exception):
    pass


# what a runaway input leaves behind the façade's catch-all (damage.PARSE_ERRORS)
RUNAWAY = ("MemoryError", "RecursionError", "Hang:")


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@contextmanager
def guarded() -> Iterator[None]:
    """A watchdog (SIGALRM past SECONDS_PER_INPUT) and an address-space limit of the
    process's present size plus MEMORY_PER_INPUT for the duration of one input."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_size() + MEMORY_PER_INPUT
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)

    def hang(_sig: int, _frame: object) -> None:
        raise Hang(f"an input took more than {SECONDS_PER_INPUT} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_INPUT)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def check_one(data: bytes, tmp: Path) -> None:
    """Both readers on DATA: facts (every string a str, no MemoryError behind a warning) or
    a one-line BadInput, within SECONDS_PER_INPUT and MEMORY_PER_INPUT."""
    p = tmp / "input.elf"
    p.write_bytes(data)
    start = time.monotonic()
    refused = False
    for reader in (read_elf, read_shared_object):
        try:
            with guarded():
                facts = reader(str(p))
        except BadInput as err:
            assert "\n" not in err.message
            assert not any(m in err.message for m in RUNAWAY), err.message
            refused = True
            continue
        assert all_str(facts)
        warnings = getattr(facts, "warnings", ())
        assert not any(m in w for w in warnings for m in RUNAWAY), warnings
        assert all("\n" not in w for w in warnings)
    took = time.monotonic() - start
    assert took < SECONDS_PER_INPUT
    tally.hostile("ELF mutations, in-process").add(error=refused, seconds=took)


mutation = st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from(["byte", "word", "zero", "ff", "cut"]), st.integers(0, 2**32 - 1)),
    min_size=1,
    max_size=8,
)


def mutate(data: bytes, ops: list[tuple[float, str, int]]) -> bytes:
    b = bytearray(data)
    for where, op, value in ops:
        # bias towards the headers: most structure lives in the first and last kilobytes
        i = int(where * min(len(b) - 1, 4096)) if value % 3 else int(where * (len(b) - 1))
        if op == "byte":
            b[i] = value & 0xFF
        elif op == "word":
            b[i : i + 4] = value.to_bytes(4, "little")
        elif op == "zero":
            b[i : i + 64] = bytes(len(b[i : i + 64]))
        elif op == "ff":
            b[i : i + 8] = b"\xff" * len(b[i : i + 8])
        elif op == "cut":
            del b[i:]
            if not b:
                b = bytearray(b"\x7fELF")
    return bytes(b)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(which=st.integers(0, 1), ops=mutation)
# found by this test: a zeroed byte inside a compressed .debug_* section made zlib raise
@example(which=0, ops=[(0.875, "byte", 0)])
def test_mutated_binaries_never_crash(
    seeds: Seeds, tmp_path: Path, which: int, ops: list[tuple[float, str, int]]
) -> None:
    check_one(mutate(seeds[which % len(seeds)], ops), tmp_path)


@pytest.fixture(scope="module")
def structure_seeds(builder: Builder, seeds: Seeds, tmp_path_factory: pytest.TempPathFactory) -> Seeds:
    """Seeds with every structure the mutations edit, in this order: an ARMv7 c-shared
    library (ARM attributes, compressed DWARF), a riscv64 program stripped, an arm64 cgo
    program with plain DWARF (unit and line-table headers in place), when the sysroots are
    there a real glibc library (Verdef and Verneed chains), and the ARMv7 library with its
    DWARF decompressed by binutils (32-bit units and line tables)."""
    plain = builder.build(
        "clean/libc", "linux/arm64", GO_NEW, "gcc", go_flags=("-ldflags=-compressdwarf=false -linkmode=external",)
    ).path
    out = Seeds([*seeds, plain.read_bytes()])
    try:
        from cgocheck.sysroot import find_sysroot

        lib = (find_sysroot("bookworm-arm64") / "usr/lib/aarch64-linux-gnu/libm.so.6").resolve()
        out.append(lib.read_bytes())
    except (CgocheckError, OSError):
        pass
    objcopy = shutil.which("arm-linux-gnueabihf-objcopy")
    if objcopy:  # the ARM library with its DWARF decompressed by binutils: 32-bit units and line tables
        src = tmp_path_factory.mktemp("seeds") / "lib.so"
        src.write_bytes(seeds[0])
        dest = src.with_suffix(".plain")
        subprocess.run([objcopy, "--decompress-debug-sections", str(src), str(dest)], check=True)
        out.append(dest.read_bytes())
    return out


structure_edit = st.tuples(st.integers(0, 1 << 16), st.integers(0, 1 << 16), st.integers(0, 1 << 16))


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=max(1, EXAMPLES // 2),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(seed=st.integers(0, 5), edits=st.lists(structure_edit, min_size=1, max_size=3),
       extra=st.one_of(st.none(), mutation))
# The hostile inputs of test_elf_hostile.py, as this test's edits (each runs for every kind;
# for its own kind it is the input the readers that trusted pyelftools and lief hung on,
# ran out of memory on, or returned bytes for):
@example(seed=3, edits=[(1, 4, 19)], extra=None)  # versions: libm's .gnu.version_d sh_info 0xffffffff
@example(seed=0, edits=[(0, 4, 19)], extra=None)  # versions: .gnu.version_r sh_info 0xffffffff
@example(seed=0, edits=[(1, 9, 0)], extra=None)  # arm_attributes: a zero-length "gnu" sub-section
@example(seed=2, edits=[(40, 0, 8), (40, 3, 16)], extra=None)  # section: .debug_str NOBITS of 2 GiB
@example(seed=0, edits=[(5, 66, 62)], extra=None)  # compression: a 1008 MiB bomb in .gnu.version
@example(seed=2, edits=[(0, 11, 256), (0, 12, 21)], extra=None)  # line_header: no format, 2^40 dirs
@example(seed=0, edits=[(0, 1, 1)], extra=None)  # strings: a byte 0xff in .dynstr's first name
def test_structure_mutations_never_crash(
    structure_seeds: Seeds, tmp_path: Path, kind: str, seed: int, edits: list[tuple[int, int, int]],
    extra: list[tuple[float, str, int]] | None,
) -> None:
    """One class of structure edited (one to three times: the neighbours of each hostile
    input the tests in test_elf_hostile.py name), now and then with byte mutations on top."""
    data = structure_seeds[seed % len(structure_seeds)]
    for which, field, pick in edits:
        data = mutate_structure(data, kind, which, field, pick)
    if extra:
        data = mutate(data, extra)
    check_one(data, tmp_path)


class Region(NamedTuple):
    start: int
    size: int


@pytest.fixture(scope="module")
def buildinfo_regions(seeds: Seeds) -> list[Region]:
    """Where each seed's .go.buildinfo (header, version, modinfo) lies in the file."""
    out = []
    for data in seeds:
        sec = ELFFile(io.BytesIO(data)).get_section_by_name(".go.buildinfo")
        assert sec is not None
        out.append(Region(int(sec["sh_offset"]), int(sec["sh_size"])))
    return out


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(
    which=st.integers(0, 1),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_mutated_buildinfo_never_crashes(
    seeds: Seeds,
    buildinfo_regions: list[Region],
    tmp_path: Path,
    which: int,
    edits: list[tuple[float, int]],
    cut: float | None,
) -> None:
    """Byte edits inside the real .go.buildinfo (the mutations above rarely land there): the
    façade and parse_buildinfo_blob/parse_modinfo on the edited blob end in facts or BadInput."""
    data, region = bytearray(seeds[which]), buildinfo_regions[which]
    for where, value in edits:
        data[region.start + int(where * (region.size - 1))] = value
    blob = bytes(data[region.start : region.start + region.size])
    if cut is not None:  # a file that ends inside the build info
        del data[region.start + int(cut * region.size) :]
    check_one(bytes(data), tmp_path)
    for parse in (
        lambda: parse_buildinfo_blob(blob, None, 4 if which == 0 else 8, False),
        lambda: parse_modinfo(blob.decode("utf-8", "replace")),
    ):
        try:
            parse()
        except BadInput as err:
            assert "\n" not in err.message


def test_regression_inputs(tmp_path: Path) -> None:
    """Every crash a fuzzer ever found stays fixed (inputs in tests/regressions/)."""
    found = sorted(REGRESSIONS.glob("*")) if REGRESSIONS.is_dir() else []
    for f in found:
        if f.suffix in (".md", ".txt"):
            continue
        check_one(f.read_bytes(), tmp_path)


@pytest.mark.exhaustive
@pytest.mark.parametrize("mode", ["bytes", "structured"])
def test_atheris_time_boxed(structure_seeds: Seeds, tmp_path: Path, mode: str) -> None:
    """The coverage-guided harness (fuzz/fuzz_elf.py) for two minutes on the seeds, with
    libFuzzer's mutations alone and with the structure-aware ones (CGOCHECK_FUZZ_STRUCTURED):
    no crash, hang (10 s) or out-of-memory input. Opt in with --exhaustive; needs
    `pip install atheris`."""
    import importlib.util

    from tests.support.need import need
    from tests.support.paths import REPO

    need(importlib.util.find_spec("atheris") is not None, "atheris (pip install atheris)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, data in enumerate(structure_seeds):
        (corpus / f"seed-{i}").write_bytes(data)
    env = {**os.environ, "CGOCHECK_FUZZ_STRUCTURED": "1" if mode == "structured" else "0"}
    proc = subprocess.run(
        [sys.executable, str(REPO / "fuzz" / "fuzz_elf.py"), str(corpus), "-max_total_time=120",
         f"-max_len={max(map(len, structure_seeds))}", "-rss_limit_mb=4096", "-timeout=10",
         f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )
    found = [p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-", "leak-"))]
    assert proc.returncode == 0 and not found, (found, proc.stderr[-3000:])


# --- damaged DWARF headers: every parse error by base class, never a traceback -----------


@pytest.fixture(scope="module")
def plain_dwarf(builder: Builder) -> Path:
    """A cgo binary whose DWARF is not compressed, so its headers can be edited in place."""
    return builder.build(
        "clean/libc", "linux/arm64", GO_NEW, "gcc", go_flags=("-ldflags=-compressdwarf=false -linkmode=external",)
    ).path


@pytest.mark.parametrize(
    ("field", "offset", "value"),
    [
        ("version 782", 4, (782).to_bytes(2, "little")),  # what the fresh-machine fuzz run found
        ("version 7", 4, (7).to_bytes(2, "little")),
        ("abbrev offset out of range", 6, b"\xff\xff\xff\x7f"),
        ("unit length past the section", 0, b"\xf0\xff\xff\x7f"),
    ],
)
def test_damaged_dwarf_unit_header_is_a_warning(
    plain_dwarf: Path, tmp_path: Path, field: str, offset: int, value: bytes
) -> None:
    data = bytearray(plain_dwarf.read_bytes())
    with open(plain_dwarf, "rb") as f:
        info = ELFFile(f).get_section_by_name(".debug_info")
        assert info is not None and not info["sh_flags"] & 0x800, "expected plain .debug_info"
        start = int(info["sh_offset"])
    data[start + offset : start + offset + len(value)] = value
    p = tmp_path / "damaged"
    p.write_bytes(bytes(data))
    facts = read_elf(str(p))  # must not raise
    assert facts.header.machine == "EM_AARCH64"
    assert any("DWARF" in w for w in facts.warnings), (field, facts.warnings)
    proc = cgocheck("inspect", str(p), "--format", "json", timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr


def test_parse_errors_cover_the_libraries_bases() -> None:
    from cgocheck.elf.damage import LIBRARY_BASES, PARSE_ERRORS

    for base in LIBRARY_BASES:
        assert issubclass(base, PARSE_ERRORS), base
