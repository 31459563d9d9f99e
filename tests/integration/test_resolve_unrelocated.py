"""An undefined dynamic symbol that no dynamic relocation names is never looked up by the
loader, so one that nothing defines does not stop the program: resolve says so (S010, info)
instead of S001 (an error). Shown on a real library of a test sysroot, against the target's
own loader in trace mode (what ``ldd -r`` does: every relocation processed, every failed
lookup reported), with its twin: a symbol a relocation does name, missing, is S001 and
the loader's "undefined symbol". And the relocation reader's bounds on hostile tables.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from cgocheck.checks import check_resolution
from cgocheck.core.targets import parse_target
from cgocheck.elf import read_elf
from cgocheck.elf.dynamic import DT_JMPREL, DT_PLTRELSZ, DT_RELA, DT_RELASZ, MAX_RELOCATIONS
from cgocheck.loader.resolve import resolve
from cgocheck.sysroot.fsroot import FsRoot
from tests.support import tally
from tests.support.elfedit import ElfEdit, read_in_child
from tests.support.need import need, need_tool, sysroot
from tests.support.oracles import relocated_symbols
from tests.support.resolve import trace_oracle

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

NAME = "bookworm-arm64"
TARGET = "linux/arm64"
# libasan.so.8's __signgam (GLOBAL, GLIBC_2.23) is in .dynsym with no relocation naming it
# (readelf -r); its dl_iterate_phdr (GLOBAL, GLIBC_2.17) is named by one.
LIBRARY = "usr/lib/aarch64-linux-gnu/libasan.so.8"
UNRELOCATED = "__signgam"
RELOCATED = "dl_iterate_phdr"
# the hostile tables: a small library, whose sigfillset only .rela.plt names
SMALL = "usr/lib/aarch64-linux-gnu/libmemusage.so"
PLT_ONLY = "sigfillset"


def _renamed(root: Path, symbol: str, out: Path) -> tuple[Path, str]:
    """A copy of LIBRARY whose undefined SYMBOL is renamed (its first letter: no other
    .dynstr string can share that byte) to a name no library defines."""
    lib = root / LIBRARY
    need(lib.is_file(), f"{LIBRARY} in {NAME}")
    new = "q" + symbol[1:]
    edited = ElfEdit(lib.read_bytes()).replace_string(".dynstr", symbol.encode(), new.encode()).write(out)
    before = {s.name for s in read_elf(str(lib), dwarf=False, go=False).undefined}
    after = {s.name for s in read_elf(str(edited), dwarf=False, go=False).undefined}
    assert before - after == {symbol} and after - before == {new}, (before ^ after)
    return edited, new


def _loader_misses(root: Path, file: Path) -> tuple[set[str], int]:
    """The symbols the loader reports undefined in trace mode for FILE, and its exit status."""
    tgt = parse_target(TARGET)
    orc = trace_oracle(tgt.arch.qemu, root, file, loader=Path(str(root) + tgt.loader))
    text = orc.run.stdout + orc.run.stderr
    return set(re.findall(r"undefined symbol: ([^\s,]+)", text)), orc.run.returncode


@pytest.mark.fires("S010")
def test_a_missing_symbol_no_relocation_names_starts_and_is_no_error(tmp_path: Path) -> None:
    tgt = parse_target(TARGET)
    need_tool(tgt.arch.qemu)
    root = sysroot(NAME)
    lib, new = _renamed(root, UNRELOCATED, tmp_path / "libasan.so.8")
    assert new not in relocated_symbols(lib)  # readelf -r: no relocation names it
    facts = read_elf(str(lib), dwarf=False, go=False)
    assert facts.unrelocated is not None and new in facts.unrelocated

    # the loader: every relocation processed, nothing undefined
    misses, rc = _loader_misses(root, lib)
    assert rc == 0 and not misses, misses

    # cgocheck: no binding, no S001, the program starts; an info note names the symbol
    res = resolve(str(lib), FsRoot(root), target=tgt)
    assert res.starts, res.unresolved_symbols
    assert not any(b.symbol == new for b in res.bindings)
    assert [u.symbol for u in res.unreferenced_symbols] == [new]
    found = check_resolution(res)
    assert not [f for f in found if f.severity == "error"], found
    (note,) = [f for f in found if f.rule == "S010"]
    assert new in note.message and note.severity == "info"


@pytest.mark.fires("S001")
def test_a_missing_symbol_a_relocation_names_is_an_error_as_the_loader_says(tmp_path: Path) -> None:
    tgt = parse_target(TARGET)
    need_tool(tgt.arch.qemu)
    root = sysroot(NAME)
    lib, new = _renamed(root, RELOCATED, tmp_path / "libasan.so.8")
    assert new in relocated_symbols(lib)
    facts = read_elf(str(lib), dwarf=False, go=False)
    assert facts.unrelocated is not None and new not in facts.unrelocated

    misses, _rc = _loader_misses(root, lib)
    assert new in misses, misses

    res = resolve(str(lib), FsRoot(root), target=tgt)
    assert not res.starts
    assert [u.symbol for u in res.unresolved_symbols] == [new]
    assert not res.unreferenced_symbols
    rules = {f.rule for f in check_resolution(res)}
    assert "S001" in rules and "S010" not in rules


# --- hostile relocation tables ----------------------------------------------------------


def _hostile_cases(lib: Path) -> list[tuple[str, ElfEdit]]:
    def edit() -> ElfEdit:
        return ElfEdit(lib.read_bytes())

    size = struct.calcsize("QQq")
    cases = [
        ("DT_RELASZ 2^63", edit().set_dynamic(DT_RELASZ, 1 << 63)),
        ("DT_RELASZ past the cap", edit().set_dynamic(DT_RELASZ, (MAX_RELOCATIONS + 1) * size)),
        ("DT_RELASZ just under the cap, past the file", edit().set_dynamic(DT_RELASZ, (MAX_RELOCATIONS - 1) * size)),
        ("DT_PLTRELSZ 2^64-1", edit().set_dynamic(DT_PLTRELSZ, (1 << 64) - 1)),
        ("DT_RELA at 2^64-24", edit().set_dynamic(DT_RELA, (1 << 64) - size)),
        ("DT_JMPREL unmapped", edit().set_dynamic(DT_JMPREL, 0x7FFF_FFFF_0000)),
    ]
    # every r_info naming symbol 0xffffffff (past .dynsym) with a type
    e = edit()
    sec = e.sections[".rela.plt"]
    for off in range(sec.offset, sec.offset + sec.size - size + 1, size):
        struct.pack_into(e.le + "Q", e.data, off + 8, (0xFFFFFFFF << 32) | 0x402)
    cases.append(("r_info symbols past .dynsym", e))
    return cases


def test_hostile_relocation_tables_end_in_facts(tmp_path: Path) -> None:
    root = sysroot(NAME)
    lib = root / SMALL
    need(lib.is_file(), f"{SMALL} in {NAME}")
    for what, e in _hostile_cases(lib):
        bad = e.write(tmp_path / re.sub(r"\W+", "-", what))
        got = read_in_child(bad)  # within 10 s and 1 GiB, no crash, no traceback
        assert got["elf"].get("facts") and got["so"].get("facts"), (what, got)
        facts = read_elf(str(bad), dwarf=False, go=False)
        if what.startswith("r_info"):
            # no undefined symbol is named any more by .rela.plt's entries
            assert facts.unrelocated is not None and PLT_ONLY in facts.unrelocated, what
        else:
            # a table not wholly read: unknown, every undefined symbol counts, and said so
            assert facts.unrelocated is None, what
            assert any("relocations" in w for w in facts.warnings), (what, facts.warnings)


# --- the relocation reader against readelf -r -W ----------------------------------------

# (bookworm-arm64-musl's one library, musl's libc, imports nothing)
ALL_SYSROOTS = ["bookworm-arm64", "bullseye-arm64", "trixie-arm64", "bookworm-armhf", "bullseye-armhf",
                "bookworm-armel", "bookworm-amd64"]
SAMPLE = 25


@pytest.mark.parametrize("name", ALL_SYSROOTS)
def test_unrelocated_symbols_agree_with_readelf(name: str, request: pytest.FixtureRequest) -> None:
    """ElfFacts.unrelocated is the undefined dynamic symbols that no relocation readelf -r -W
    prints (R_*_NONE aside) names, on a deterministic sample of each sysroot's libraries
    (every one with --exhaustive)."""
    need_tool("readelf")
    root = sysroot(name)
    libs = [p for p in tally.elf_files(root) if ".so" in p.name]
    need(bool(libs), f"shared libraries in {root}")
    exhaustive = bool(request.config.getoption("--exhaustive"))
    counter = tally.count("unrelocated/readelf -r", name)
    counter.of = len(libs)
    problems: list[str] = []
    for path in tally.sample(libs, None if exhaustive else SAMPLE, root):
        facts = read_elf(str(path), dwarf=False, go=False)
        if not facts.undefined:
            continue
        assert facts.unrelocated is not None, (path, facts.warnings)  # no MIPS here: always known
        theirs = sorted({s.name for s in facts.undefined} - relocated_symbols(path))
        counter.files += 1
        counter.fields += len(facts.undefined)
        if list(facts.unrelocated) != theirs:
            counter.disagreements += 1
            problems.append(f"{path}: cgocheck {facts.unrelocated}, readelf {theirs}")
    assert counter.files, "no library compared"
    assert not problems, "\n".join(problems)


def test_the_readelf_comparison_catches_a_difference() -> None:
    """One library's facts against another's readelf answer differ."""
    root = sysroot("bookworm-armhf")
    a = root / "usr/lib/arm-linux-gnueabihf/libstdc++.so.6"
    b = root / "usr/lib/arm-linux-gnueabihf/libz.so.1"
    need(a.exists() and b.exists(), "libstdc++.so.6 and libz.so.1 in bookworm-armhf")
    fa = read_elf(str(a), dwarf=False, go=False)
    assert fa.unrelocated and "__aeabi_unwind_cpp_pr0" in fa.unrelocated
    theirs_b = sorted({s.name for s in fa.undefined} - relocated_symbols(b))
    assert list(fa.unrelocated) != theirs_b
