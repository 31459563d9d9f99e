"""Differential tests: cgocheck's ELF façade against readelf and `go version -m`, on real
cross builds (targets x Go versions x gcc/clang/internal linking, plus c-shared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cgocheck.checks import check_file
from cgocheck.core.targets import parse_target
from cgocheck.elf import read_dynamic_both, read_elf
from tests.support.builder import GO_NEW, GO_OLD, Builder
from tests.support.need import go
from tests.support.oracles import go_version_m, readelf

pytestmark = pytest.mark.integration

TARGETS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5", "linux/riscv64"]
LINKS = [("gcc", "external"), ("clang", "external"), ("gcc", "internal")]
GOS = [GO_OLD, GO_NEW]
READELF_MACHINE = {"EM_X86_64": "X86-64", "EM_AARCH64": "AArch64", "EM_ARM": "ARM", "EM_RISCV": "RISC-V"}


def _unsupported(go_spec: str, target: str, link: str) -> bool:
    # Go 1.19's linker cannot link cgo internally on riscv64 (it says so and fails).
    return go_spec == GO_OLD and target == "linux/riscv64" and link == "internal"


CASES = [
    pytest.param(t, g, c, lk, id=f"{t.replace('/', '_')}-go{g}-{c}-{lk}")
    for t in TARGETS
    for g in GOS
    for c, lk in LINKS
    if not _unsupported(g, t, lk)
]


def _go_unquote(v: str) -> str:
    return json.loads(v) if v.startswith('"') else v


def assert_matches_readelf(path: Path) -> None:
    facts = read_elf(str(path))
    ref = readelf(path)
    assert ref.machine.endswith(READELF_MACHINE[facts.header.machine])
    assert facts.header.elf_class == ref.elf_class
    assert facts.header.endian == ref.endian
    assert facts.header.flags == ref.flags
    assert {"exec": "EXEC", "pie": "DYN", "shared": "DYN"}[facts.header.file_type] == ref.file_type
    assert facts.interpreter == ref.interpreter
    assert list(facts.needed) == ref.needed
    assert facts.soname == ref.soname
    assert list(facts.rpath) == ref.rpath
    assert list(facts.runpath) == ref.runpath
    assert {vn.library: list(vn.versions) for vn in facts.verneed} == ref.verneed
    assert {(s.name, s.version) for s in facts.undefined} == ref.undefined
    # the two dynamic readers (lief, pyelftools) agree field by field
    lief_view, pyelf_view = read_dynamic_both(str(path))
    assert lief_view == pyelf_view


def assert_matches_go_version(path: Path, go_spec: str) -> None:
    facts = read_elf(str(path))
    assert facts.go is not None and facts.go.buildinfo is not None
    bi = facts.go.buildinfo
    # The toolchain that built it, and the newest one (it reads every older layout).
    for oracle_go in {go(go_spec).version: go(go_spec), go(GO_NEW).version: go(GO_NEW)}.values():
        ref = go_version_m(oracle_go, path)
        assert bi.go_version == ref["version"]
        assert bi.path == ref["path"]
        if ref["mod"]:
            assert bi.main is not None and (bi.main.path, bi.main.version) == ref["mod"]
        mine = {s.key: s.value for s in bi.settings}
        theirs = {k: _go_unquote(v) for k, v in ref["settings"].items()}
        assert mine == theirs


@pytest.mark.parametrize(("target", "go_spec", "compiler", "link"), CASES)
def test_inspect_matches_oracles(builder: Builder, target: str, go_spec: str, compiler: str, link: str) -> None:
    built = builder.build("clean/libc", target, go_spec, compiler, link=link)
    assert_matches_readelf(built.path)
    assert_matches_go_version(built.path, go_spec)
    facts = read_elf(str(built.path))
    t = parse_target(target)
    assert facts.header.machine == t.arch.machine
    assert facts.go is not None and facts.go.cgo_linked
    assert facts.go.link_mode == link
    # the C units' DWARF names the compiler that really compiled them
    c_producers = {u.producer for u in facts.dwarf if u.language == "C" and u.producer}
    if link == "internal":
        # Go's internal linker keeps only Go's own DWARF: C provenance is lost.
        assert not c_producers
        return
    assert c_producers, "C units should carry DWARF (-g)"
    if compiler == "clang":
        assert any("clang" in p for p in c_producers)
    else:
        assert all(p.startswith("GNU C") for p in c_producers)


@pytest.mark.parametrize("target", ["linux/arm64", "linux/arm/v7", "linux/amd64"])
def test_c_shared_library(builder: Builder, target: str) -> None:
    built = builder.build("clean/cshared", target, GO_NEW, "gcc", go_flags=("-buildmode=c-shared",))
    assert_matches_readelf(built.path)
    facts = read_elf(str(built.path))
    assert facts.header.file_type == "shared"
    assert facts.interpreter is None
    assert facts.go is not None and facts.go.cgo_linked
    bi = facts.go.buildinfo
    assert bi is not None and bi.setting("-buildmode") == "c-shared"
    findings = check_file(facts, parse_target(target))
    assert [f.rule for f in findings if f.severity == "error"] == []


def test_stripped_binary_still_shows_cgo(builder: Builder) -> None:
    built = builder.build("clean/libc", "linux/arm64", GO_NEW, "gcc", go_flags=("-ldflags=-s -w -linkmode=external",))
    facts = read_elf(str(built.path))
    assert facts.stripped
    assert readelf(built.path).undefined == {(s.name, s.version) for s in facts.undefined}
    assert facts.go is not None and facts.go.cgo_linked
