"""The differential run of the Go build info parser against Go's own `go version -m -json`
(the newest Go, which reads every layout since Go 1.13): every Go binary the session built
(tests/support/builder.Builder, tests/support/gobuild.py and test_gobuildinfo_oracle.py record
theirs, tests/support/gobuild.recorded()), walked after every other test, and the Go
toolchains' own binaries (`$GOROOT/bin/*`, `$GOROOT/pkg/tool/*/*` of every installed Go).

Every leaf of the JSON (Go version, path, main module, each dependency and replacement, each
build setting) is a field compared; the counts are printed at the end of the run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cgocheck.build import toolchains
from cgocheck.elf import read_elf
from cgocheck.elf.model import ElfFacts, GoSetting
from tests.support import tally
from tests.support.builder import GO_NEW, GO_OLD, Builder
from tests.support.gobuild import recorded
from tests.support.need import go, need
from tests.support.oracles import as_go_json, go_version_json, json_facts

pytestmark = pytest.mark.integration

CHECK = "buildinfo/go"

# Known differences, by name (each counted as known, not failed).
KNOWN = {
    "pre-1.18 relocated": (
        "a pre-1.18 build info blob in a position-independent arm64 file (PIE, c-shared): its pointers "
        "are load-time relocated and GNU ld leaves garbage where the RELATIVE relocations go "
        "(the addend is in .rela.dyn); Go's reader prints that garbage, cgocheck applies the "
        "relocations (test_gobuildinfo_oracle.py::test_pre118_relocated_pointers)"
    ),
}


def known(facts: ElfFacts) -> str | None:
    bi = facts.go.buildinfo if facts.go else None
    if (bi is not None and bi.layout == "pre-1.18" and facts.header.file_type in ("pie", "shared")
            and facts.header.machine == "EM_AARCH64"):
        return "pre-1.18 relocated"
    return None


def newest() -> Path:
    return go(GO_NEW).goroot


def go_files(goroot: Path) -> list[Path]:
    """The toolchain's own programs: bin/* and pkg/tool/<os_arch>/*."""
    files = [p for p in sorted((goroot / "bin").iterdir()) if tally.is_elf(p)]
    for tool_dir in sorted((goroot / "pkg" / "tool").glob("*")):
        files += [p for p in sorted(tool_dir.iterdir()) if tally.is_elf(p)]
    return files


def compare_one(path: Path, oracle_root: Path, corpus: str, problems: list[str]) -> None:
    counter = tally.count(CHECK, corpus)
    facts = read_elf(str(path), dwarf=False)
    theirs = go_version_json(oracle_root, path)
    bi = facts.go.buildinfo if facts.go else None
    counter.files += 1
    if theirs is None or bi is None:
        if (theirs is None) != (bi is None):
            counter.disagreements += 1
            problems.append(f"{path}: go version -m: {theirs is not None}, cgocheck: {bi is not None}")
        return
    mine, want = json_facts(as_go_json(bi)), json_facts(theirs)
    counter.fields += len(want)
    if mine != want:
        why = known(facts)
        if why:
            counter.known += 1
            counter.notes.append(f"{why}: {path.name}")
            return
        counter.disagreements += 1
        extra, missing = sorted(set(mine) - set(want)), sorted(set(want) - set(mine))
        problems.append(f"{path}: cgocheck only {extra[:10]}, go only {missing[:10]}")


def toolchain_params() -> list[object]:
    return [pytest.param(t.version, id=f"go{t.version}") for t in toolchains.installed()]


@pytest.mark.parametrize("version", toolchain_params())
def test_buildinfo_agrees_with_go_on_the_toolchains_own_binaries(version: str) -> None:
    goroot = go(version).goroot
    files = go_files(goroot)
    need(bool(files), f"Go {version}'s programs under {goroot}")
    corpus = f"go{version} bin+pkg/tool"
    tally.count(CHECK, corpus).of = len(files)
    problems: list[str] = []
    for path in files:
        compare_one(path, newest(), corpus, problems)
    assert tally.count(CHECK, corpus).fields >= len(files)  # Go 1.15 records its version only
    assert not problems, "\n".join(problems)


@pytest.mark.last
def test_buildinfo_agrees_with_go_on_every_binary_the_session_built(builder: Builder) -> None:
    """After every other test: each Go binary the session built. Alone (this module run by
    itself) the session has built nothing else, so a few builds of its own come first."""
    if not recorded():
        builder.build("clean/libc", "linux/arm64", GO_NEW)
        builder.build("clean/libc", "linux/arm/v7", GO_OLD)
        builder.build("clean/libc", "linux/amd64", GO_NEW, link="internal")
    binaries: list[Path] = []
    for out in recorded():
        binaries += tally.elf_files(out) if out.is_dir() else [out] if tally.is_elf(out) else []
    corpus = "built by this session"
    tally.count(CHECK, corpus).of = len(binaries)
    problems: list[str] = []
    for path in binaries:
        compare_one(path, newest(), corpus, problems)
    assert binaries
    assert not problems, "\n".join(problems[:30])


# --- the comparator catches a difference ---------------------------------------------------


def test_a_changed_setting_or_another_binary_is_caught() -> None:
    goroot = newest()
    a, b = goroot / "bin" / "go", goroot / "bin" / "gofmt"
    need(a.is_file() and b.is_file(), f"{a} and {b}")
    fa = read_elf(str(a), dwarf=False)
    bi = fa.go.buildinfo if fa.go else None
    assert bi is not None
    theirs_a, theirs_b = go_version_json(goroot, a), go_version_json(goroot, b)
    assert json_facts(as_go_json(bi)) == json_facts(theirs_a)
    # go's build info against gofmt's answer
    assert json_facts(as_go_json(bi)) != json_facts(theirs_b)
    # one build setting changed in a copy of what cgocheck read
    changed = replace(bi, settings=(GoSetting(bi.settings[0].key, bi.settings[0].value + "x"), *bi.settings[1:]))
    assert json_facts(as_go_json(changed)) != json_facts(theirs_a)
    # one setting dropped
    fewer = replace(bi, settings=bi.settings[1:])
    assert json_facts(as_go_json(fewer)) != json_facts(theirs_a)
