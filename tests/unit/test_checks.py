"""Fast tests per check family (A, G, R, L, S), on the ElfFacts of real binaries read here: the
host's own C programs and libraries and the Go toolchain's own binaries. Each case changes
one fact of a real file (dataclasses.replace) and checks that exactly the family's rule moves.
No build runs; the integration tests fire the same rules on real cross builds."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from cgocheck.build import toolchains
from cgocheck.checks.abi import check_abi
from cgocheck.checks.gobuild import check_go
from cgocheck.checks.libraries import check_libraries
from cgocheck.checks.runpath import check_runpaths
from cgocheck.checks.symbols import check_symbols
from cgocheck.core.errors import CgocheckError
from cgocheck.core.rules import Finding
from cgocheck.core.targets import parse_target
from cgocheck.elf import read_elf
from cgocheck.elf.model import ElfFacts, GoSetting
from cgocheck.loader.model import MissingLibrary
from cgocheck.loader.resolve import resolve
from cgocheck.sysroot.fsroot import FsRoot
from tests.support.need import need

AMD64 = parse_target("linux/amd64")


def rules(found: list[Finding]) -> set[str]:
    return {f.rule for f in found}


@pytest.fixture(scope="module")
def c_program() -> ElfFacts:
    """A dynamically linked C program of this host (Debian's coreutils)."""
    path = shutil.which("true") or "/bin/true"
    return read_elf(str(Path(path).resolve()))


@pytest.fixture(scope="module")
def go_program() -> ElfFacts:
    """A real Go binary with build info: the go command of an installed toolchain."""
    try:
        tc = toolchains.find("newest")
    except CgocheckError:
        need(False, "a Go toolchain")
        raise
    facts = read_elf(str(tc.go))
    assert facts.go is not None and facts.go.buildinfo is not None
    return facts


def with_settings(facts: ElfFacts, **changed: str) -> ElfFacts:
    assert facts.go is not None and facts.go.buildinfo is not None
    bi = facts.go.buildinfo
    settings = tuple(GoSetting(s.key, changed.pop(s.key, s.value)) for s in bi.settings)
    settings += tuple(GoSetting(k, v) for k, v in changed.items())
    go = dataclasses.replace(facts.go, buildinfo=dataclasses.replace(bi, settings=settings))
    return dataclasses.replace(facts, go=go)


# --- A: ELF and ABI -------------------------------------------------------------------------


def test_abi_clean_on_the_host_program(c_program: ElfFacts) -> None:
    assert not {r for r in rules(check_abi(c_program, AMD64)) if r.startswith("A")}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"machine": "EM_AARCH64", "machine_code": 183}, "A001"),
        ({"elf_class": 32}, "A002"),
        ({"endian": "big"}, "A003"),
        ({"file_type": "relocatable"}, "A010"),
    ],
)
def test_abi_rules(c_program: ElfFacts, change: dict[str, object], rule: str) -> None:
    facts = dataclasses.replace(c_program, header=dataclasses.replace(c_program.header, **change))  # type: ignore[arg-type]
    assert rule in rules(check_abi(facts, AMD64))


def test_abi_interpreter_and_libc(c_program: ElfFacts) -> None:
    assert "A005" in rules(check_abi(dataclasses.replace(c_program, interpreter="/lib/ld-linux-aarch64.so.1"), AMD64))
    musl = parse_target("linux/amd64/musl")
    assert {"A005", "A006"} <= rules(check_abi(c_program, musl))


# --- G: Go build settings -------------------------------------------------------------------


def test_go_settings_clean_and_pure(go_program: ElfFacts) -> None:
    assert rules(check_go(go_program, AMD64, expect_cgo=False)) == set()
    # the go command is pure Go: meant to use cgo, it is G001
    assert "G001" in rules(check_go(go_program, AMD64, expect_cgo=True))


@pytest.mark.parametrize(("setting", "value", "rule"), [("GOOS", "freebsd", "G002"), ("GOARCH", "arm64", "G003")])
def test_go_setting_mismatch(go_program: ElfFacts, setting: str, value: str, rule: str) -> None:
    assert rule in rules(check_go(with_settings(go_program, **{setting: value}), AMD64, expect_cgo=False))


def test_goarm_and_missing_settings(go_program: ElfFacts) -> None:
    armel = parse_target("linux/arm/v5")
    arm7 = with_settings(go_program, GOARCH="arm", GOARM="7")
    assert "G004" in rules(check_go(arm7, armel, expect_cgo=False))
    assert "G004" not in rules(check_go(with_settings(go_program, GOARCH="arm", GOARM="5"), armel, expect_cgo=False))
    assert go_program.go is not None and go_program.go.buildinfo is not None
    bare = dataclasses.replace(go_program.go.buildinfo, settings=())
    no_settings = dataclasses.replace(go_program, go=dataclasses.replace(go_program.go, buildinfo=bare))
    assert "G005" in rules(check_go(no_settings, AMD64, expect_cgo=False))


def test_not_a_go_binary(c_program: ElfFacts) -> None:
    assert "G007" in rules(check_go(c_program, AMD64))


# --- R: run paths ---------------------------------------------------------------------------


def test_runpaths(c_program: ElfFacts) -> None:
    assert rules(check_runpaths(c_program, AMD64)) == set()
    assert rules(check_runpaths(dataclasses.replace(c_program, runpath=("/opt/vendor/lib",)), AMD64)) == {"R001"}
    assert "R002" in rules(check_runpaths(dataclasses.replace(c_program, runpath=("/tmp/build",)), AMD64))
    assert rules(check_runpaths(dataclasses.replace(c_program, runpath=("$ORIGIN/../lib",)), AMD64)) == set()
    assert "R003" in rules(check_runpaths(dataclasses.replace(c_program, rpath=("$ORIGIN",)), AMD64))


# --- L and S: the host as its own sysroot ---------------------------------------------------


def test_libraries_and_symbols_of_a_host_program(c_program: ElfFacts) -> None:
    res = resolve(c_program.path, FsRoot("/"), target=AMD64)
    assert check_libraries(res) == []
    assert not {r for r in rules(check_symbols(res)) if r in ("S001", "S002", "S003")}
    floor = resolve(c_program.path, FsRoot("/"), target=AMD64, glibc_floor="2.2")
    assert "S003" in rules(check_symbols(floor))  # every glibc program needs more than 2.2
    lost = MissingLibrary("libnothere.so.1", (res.binary,), "not-found", "not found in any searched folder", (), ())
    gone = dataclasses.replace(res, missing_libraries=(*res.missing_libraries, lost))
    assert rules(check_libraries(gone)) == {"L001"}
