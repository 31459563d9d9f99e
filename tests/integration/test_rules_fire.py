"""Rules no other test fired: each on real facts (a real cross build, a real object file, an
edited real binary) and silent on a clean twin built or checked for the right target."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cgocheck.checks import check_file
from cgocheck.core.rules import Finding
from cgocheck.core.targets import parse_target
from cgocheck.elf import read_elf
from tests.support.builder import GO_NEW, Builder
from tests.support.need import go, need_tool
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def pure_go(goos: str, goarch: str, out: Path) -> Path:
    """A pure-Go build of clean/netuser for any GOOS/GOARCH Go supports (no C compiler needed)."""
    tc = go(GO_NEW)
    home = out.parent / "gohome"
    env = {
        "PATH": f"{tc.goroot}/bin:/usr/bin:/bin",
        "HOME": str(home),
        "GOCACHE": str(home / "cache"),
        "GOPATH": str(home / "path"),
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
        "GOOS": goos,
        "GOARCH": goarch,
    }
    proc = subprocess.run(
        [str(tc.go), "build", "-o", str(out), "."],
        cwd=FIXTURES / "clean" / "netuser",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.mark.fires("A002", "G003")
def test_class_and_goarch_mismatch(tmp_path: Path) -> None:
    """MIPS uses one e_machine (EM_MIPS) for 32 and 64 bits: a linux/mipsle binary checked
    as linux/mips64le differs in its class (and GOARCH) only. The twin: a mips64le build."""
    facts = read_elf(str(pure_go("linux", "mipsle", tmp_path / "mipsle")))
    target = parse_target("linux/mips64le")
    assert facts.header.machine_code == target.arch.machine_code and facts.header.elf_class == 32
    wrong = rules(check_file(facts, target, expect_cgo=False))
    assert {"A002", "G003"} <= wrong and "A001" not in wrong, wrong
    twin = read_elf(str(pure_go("linux", "mips64le", tmp_path / "mips64le")))
    right = rules(check_file(twin, target, expect_cgo=False))
    assert not {"A002", "G003"} & right, right


@pytest.mark.fires("A003")
def test_byte_order_mismatch(tmp_path: Path) -> None:
    """linux/ppc64 is big-endian PowerPC64, the same e_machine and class as ppc64le: only
    the byte order (and GOARCH) tell them apart."""
    be = read_elf(str(pure_go("linux", "ppc64", tmp_path / "be")))
    assert be.header.endian == "big" and be.header.machine_code == parse_target("linux/ppc64le").arch.machine_code
    got = rules(check_file(be, parse_target("linux/ppc64le"), expect_cgo=False))
    assert "A003" in got and "A001" not in got and "A002" not in got, got
    le = read_elf(str(pure_go("linux", "ppc64le", tmp_path / "le")))
    assert "A003" not in rules(check_file(le, parse_target("linux/ppc64le"), expect_cgo=False))


@pytest.mark.fires("G002")
def test_goos_mismatch(tmp_path: Path) -> None:
    """A freebsd/arm64 Go binary checked as linux/arm64; its linux twin is silent."""
    bsd = read_elf(str(pure_go("freebsd", "arm64", tmp_path / "bsd")))
    assert "G002" in rules(check_file(bsd, parse_target("linux/arm64"), expect_cgo=False))
    linux = read_elf(str(pure_go("linux", "arm64", tmp_path / "linux")))
    assert "G002" not in rules(check_file(linux, parse_target("linux/arm64"), expect_cgo=False))


@pytest.mark.fires("A007")
def test_arm_eabi_version(builder: Builder, tmp_path: Path) -> None:
    """A real armhf build whose e_flags EABI version is set to 4 (pre-EABI5 toolchains wrote
    that): the one field changed in a real binary. The unchanged binary is the twin."""
    built = builder.build("clean/libc", "linux/arm/v7", GO_NEW, "gcc")
    data = bytearray(built.path.read_bytes())
    flags = int.from_bytes(data[36:40], "little")
    assert flags >> 24 == 5
    data[36:40] = ((flags & 0x00FFFFFF) | (4 << 24)).to_bytes(4, "little")
    edited = tmp_path / "eabi4"
    edited.write_bytes(bytes(data))
    target = parse_target("linux/arm/v7")
    assert "A007" in rules(check_file(read_elf(str(edited)), target))
    assert "A007" not in rules(check_file(read_elf(str(built.path)), target))


@pytest.mark.fires("A010")
def test_relocatable_object(tmp_path: Path) -> None:
    """An object file from the target's own compiler is no executable or library; the program
    linked from it is."""
    gcc = need_tool("aarch64-linux-gnu-gcc")
    src = tmp_path / "m.c"
    src.write_text("int main(void) { return 0; }\n")
    obj, exe = tmp_path / "m.o", tmp_path / "m"
    subprocess.run([gcc, "-c", str(src), "-o", str(obj)], check=True, capture_output=True)
    subprocess.run([gcc, str(obj), "-o", str(exe)], check=True, capture_output=True)
    target = parse_target("linux/arm64")
    assert "A010" in rules(check_file(read_elf(str(obj)), target, expect_cgo=False))
    assert "A010" not in rules(check_file(read_elf(str(exe)), target, expect_cgo=False))


@pytest.mark.fires("C003")
def test_c_units_without_debug_info(tmp_path: Path) -> None:
    """verify with -g0 after the preset's -g: cgo is linked, no C unit has DWARF. The twin is
    the same verify without it."""
    need_tool("aarch64-linux-gnu-gcc")
    src = tmp_path / "libc"
    shutil.copytree(FIXTURES / "clean" / "libc", src)

    def verify(*extra: str) -> set[str]:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "cgocheck",
                "verify",
                str(src),
                "-t",
                "linux/arm64",
                "--format",
                "json",
                "-o",
                str(tmp_path / f"out{len(extra)}"),
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env=dict(os.environ),
        )
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        data = json.loads(proc.stdout)
        return {f["rule"] for f in data["build_findings"]}

    assert "C003" in verify("--extra-cflags=-g0")
    assert "C003" not in verify()


@pytest.mark.fires("G007")
def test_not_a_go_binary(tmp_path: Path) -> None:
    """A C program from the target's compiler has no Go in it; a Go build of the same target has."""
    gcc = need_tool("aarch64-linux-gnu-gcc")
    src = tmp_path / "c.c"
    src.write_text("int main(void) { return 0; }\n")
    exe = tmp_path / "c"
    subprocess.run([gcc, str(src), "-o", str(exe)], check=True, capture_output=True)
    target = parse_target("linux/arm64")
    assert "G007" in rules(check_file(read_elf(str(exe)), target, expect_cgo=False))
    go_exe = read_elf(str(pure_go("linux", "arm64", tmp_path / "go")))
    assert "G007" not in rules(check_file(go_exe, target, expect_cgo=False))


@pytest.mark.fires("B003")
def test_explicit_environment_is_listed(tmp_path: Path) -> None:
    """verify --env adds a recorded variable: B003 names it; the same verify without is silent."""
    need_tool("aarch64-linux-gnu-gcc")

    def build_findings(*extra: str) -> dict[str, list[str]]:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "cgocheck",
                "verify",
                str(FIXTURES / "clean" / "libc"),
                "-t",
                "linux/arm64",
                "--format",
                "json",
                "-o",
                str(tmp_path / f"out{len(extra)}"),
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        return {f["rule"]: f["evidence"] for f in json.loads(proc.stdout)["build_findings"]}

    got = build_findings("--env", "CGOCHECK_TEST_KNOB=1")
    assert got.get("B003") == ["CGOCHECK_TEST_KNOB=1"], got
    assert "B003" not in build_findings()
