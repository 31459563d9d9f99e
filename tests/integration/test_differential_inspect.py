"""The differential run of `inspect` (the ELF façade, what `cgocheck inspect --format json`
reports) against binutils `readelf -W`, on every ELF file of the test sysroots and of the
host's system folders: machine, class, endianness, e_flags, type, PT_INTERP, DT_NEEDED,
DT_SONAME, DT_RPATH/DT_RUNPATH, the version needs, every undefined dynamic symbol with its
version and the highest GLIBC_x.y (worked out from readelf's versions).

Default run: a deterministic sample of each corpus (the same files on every machine that has
them), time-boxed; ``--exhaustive``: every file. The counts are printed at the end of the run
(tests/support/tally.py) and quoted in the README's reliability section.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cgocheck.core.errors import CgocheckError
from cgocheck.elf import read_elf
from tests.support import tally
from tests.support.cli import cgocheck
from tests.support.need import need, sysroot
from tests.support.oracles import altered, inspect_differences, readelf

pytestmark = pytest.mark.integration

# what scripts/bootstrap creates for the tests
SYSROOTS = [
    "bookworm-arm64",
    "bullseye-arm64",
    "trixie-arm64",
    "bookworm-armhf",
    "bullseye-armhf",
    "bookworm-armel",
    "bookworm-amd64",
    "bookworm-arm64-musl",
]
HOST = ["/usr/lib/x86_64-linux-gnu", "/usr/bin"]
# default run: files per corpus, and seconds per corpus (the host's files are bigger)
SAMPLE_SYSROOT, SAMPLE_HOST = 80, 150
TIME_BOX_SYSROOT, TIME_BOX_HOST = 5.0, 10.0

# Known differences: none. A disagreement found here is fixed in cgocheck (or named here, with
# the reason, and counted as known).
KNOWN: dict[str, str] = {}

CHECK = "inspect/readelf"


def differential(
    top: Path, corpus: str, n: int, seconds: float, config: pytest.Config, *, recursive: bool = True
) -> None:
    exhaustive = bool(config.getoption("--exhaustive"))
    files = tally.elf_files(top, recursive=recursive)
    need(bool(files), f"ELF files under {top}")
    counter = tally.count(CHECK, corpus)
    counter.of = len(files)
    chosen = tally.sample(files, None if exhaustive else n, top)
    box = tally.TimeBox(None if exhaustive else seconds, counter)
    problems: list[str] = []
    for path in box.within(chosen):
        view = readelf(path)
        try:
            facts = read_elf(str(path))
        except CgocheckError as err:  # readelf reads it: cgocheck must too
            counter.files += 1
            counter.disagreements += 1
            problems.append(f"{path}: refused: {err}")
            continue
        fields, diffs = inspect_differences(facts, view)
        counter.files += 1
        counter.fields += fields
        counter.disagreements += len(diffs)
        problems += [str(d) for d in diffs]
    assert counter.files, f"nothing compared in {corpus} ({counter.stopped})"
    assert not problems, "\n".join(problems[:50])


@pytest.mark.sysroot
@pytest.mark.parametrize("name", SYSROOTS)
def test_inspect_agrees_with_readelf_on_a_sysroot(name: str, request: pytest.FixtureRequest) -> None:
    differential(sysroot(name), name, SAMPLE_SYSROOT, TIME_BOX_SYSROOT, request.config)


@pytest.mark.parametrize("folder", HOST)
def test_inspect_agrees_with_readelf_on_the_host(folder: str, request: pytest.FixtureRequest) -> None:
    need(Path(folder).is_dir(), folder)
    top = Path(folder)
    differential(top, f"host:{folder}", SAMPLE_HOST, TIME_BOX_HOST, request.config, recursive=folder != "/usr/bin")


def test_the_json_report_carries_the_same_facts() -> None:
    """`cgocheck inspect --format json` (what a user sees) against readelf on one file of
    each kind: the façade's facts are what the report prints."""
    libc = Path("/usr/lib/x86_64-linux-gnu/libc.so.6")
    ls = Path("/usr/bin/ls")
    need(libc.is_file() and ls.is_file(), "the host's libc.so.6 and ls")
    for path in (libc, ls):
        proc = cgocheck("inspect", str(path), "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr
        data = json.loads(proc.stdout)
        text = json.dumps(data)
        view = readelf(path)
        for name in view.needed:
            assert f'"{name}"' in text, (path, name)
        if view.soname:
            assert f'"{view.soname}"' in text
        if view.interpreter:
            assert f'"{view.interpreter}"' in text
        if view.max_glibc:
            assert f'"{view.max_glibc}"' in text


# --- the comparator catches a difference ---------------------------------------------------


def test_a_changed_fact_is_caught() -> None:
    """Each fact, changed in a copy of what cgocheck read, fails the comparison (and only that
    fact)."""
    path = Path("/usr/bin/ls")
    need(path.is_file(), path.name)
    facts, view = read_elf(str(path)), readelf(path)
    assert inspect_differences(facts, view)[1] == []
    for field in ("needed", "soname", "interpreter", "flags", "undefined", "runpath"):
        _, diffs = inspect_differences(altered(facts, field), view)
        assert diffs, field
        assert field in {d.field for d in diffs}, (field, [str(d) for d in diffs])


def test_another_files_readelf_is_caught() -> None:
    """readelf of file A against cgocheck's facts of file B: they disagree."""
    a, b = Path("/usr/bin/ls"), Path("/usr/lib/x86_64-linux-gnu/libc.so.6")
    need(a.is_file() and b.is_file(), "the host's ls and libc.so.6")
    _, diffs = inspect_differences(read_elf(str(b)), readelf(a))
    assert {"needed", "soname", "verneed", "undefined"} <= {d.field for d in diffs}
