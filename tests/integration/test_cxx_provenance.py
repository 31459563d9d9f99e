"""The sysroot wins for what the target's C side takes: its libc headers, C++ headers and
libstdc++, for every preset, on bookworm (glibc 2.36) and bullseye (2.31). Each clean C and
C++ fixture is built, checked and run under qemu-user in the sysroot (the dynamic oracle);
the C++ floors and the musl presets are checked the same way."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.need import need, need_tool
from tests.support.paths import FIXTURES

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]


def sysroot_dir(name: str) -> Path:
    from cgocheck.core import folders

    p = folders.sysroots() / name
    need((p / ".cgocheck" / "complete").is_file(), f"sysroot {name}")
    return p


def verify(fixture: str, target: str, sysroot: str, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            str(FIXTURES / "clean" / fixture),
            "-t",
            target,
            "--sysroot",
            sysroot,
            "--format",
            "json",
            "-o",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def rules(report: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in report["build_findings"]} | {f["rule"] for fr in report["files"] for f in fr["findings"]}


def qemu(target: str, sysroot: str, binary: Path) -> str:
    tool = {"linux/arm64": "qemu-aarch64", "linux/arm/v7": "qemu-arm"}[target]
    need_tool(tool)
    proc = subprocess.run(
        [tool, "-L", str(sysroot_dir(sysroot)), str(binary)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"LD_BIND_NOW": "1"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


CASES = [(s, cc) for s in ("bookworm-arm64", "bullseye-arm64") for cc in ("gcc", "clang")]


@pytest.mark.parametrize(("sysroot", "cc"), CASES, ids=[f"{s}-{c}" for s, c in CASES])
def test_header_probe_prints_the_sysroots_glibc(sysroot: str, cc: str, tmp_path: Path) -> None:
    want = {"bookworm-arm64": "2.36", "bullseye-arm64": "2.31"}[sysroot]
    code, report = verify("glibcprobe", "linux/arm64", sysroot, tmp_path / "probe", "--cc", cc)
    assert code == 0, report["build_findings"]
    assert "H004" not in rules(report)
    glibc = [h for h in report["build"]["headers"] if h["library"] == "glibc"]
    assert glibc and all(h["klass"] == "sysroot" and h["version"] == want for h in glibc), glibc
    assert qemu("linux/arm64", sysroot, tmp_path / "probe") == f"headers glibc {want}, runtime glibc {want}"


def test_zig_takes_the_sysroots_glibc_release(tmp_path: Path) -> None:
    need(shutil.which(sys.executable) is not None, "python")
    code, report = verify("glibcprobe", "linux/arm64", "bullseye-arm64", tmp_path / "probe", "--cc", "zig")
    assert code == 0, report["build_findings"]
    assert qemu("linux/arm64", "bullseye-arm64", tmp_path / "probe") == "headers glibc 2.31, runtime glibc 2.31"
    # zig's headers are its own, never the sysroot's: said, as a warning (the release matches)
    h004 = [f for f in report["build_findings"] if f["rule"] == "H004"]
    assert h004 and all(f["severity"] == "warning" for f in h004)


CXX = [
    (s, t, cc)
    for s, t in (
        ("bookworm-arm64", "linux/arm64"),
        ("bullseye-arm64", "linux/arm64"),
        ("bullseye-armhf", "linux/arm/v7"),
    )
    for cc in ("gcc", "clang")
]


@pytest.mark.parametrize(("sysroot", "target", "cc"), CXX, ids=[f"{s}-{c}" for s, _, c in CXX])
def test_cxx_takes_the_sysroots_libstdcxx(sysroot: str, target: str, cc: str, tmp_path: Path) -> None:
    code, report = verify("cxx", target, sysroot, tmp_path / "cxx", "--cc", cc)
    assert code == 0, report["build_findings"] + [f for fr in report["files"] for f in fr["findings"]]
    found = rules(report)
    assert not {"H004", "S006", "L001", "S002"} & found, found
    cxx = [h for h in report["build"]["headers"] if h["library"] == "libstdc++"]
    assert cxx and all(h["klass"] == "sysroot" and h["version"] == h["sysroot_version"] for h in cxx), cxx
    res = report["files"][0]["resolution"]
    lib = next(x for x in res["libraries"] if x["name"] == "libstdc++.so.6")
    assert lib["path"].startswith(("/usr/lib/", "/lib/"))  # the sysroot's, as the target's loader finds it
    versions = report["files"][0]["facts"]["max_versions"]
    assert versions["GLIBCXX"]["version"].startswith("GLIBCXX_3.4") and versions["GLIBCXX"]["symbols"]
    assert qemu(target, sysroot, tmp_path / "cxx") == "distinct words: 8"


@pytest.mark.fires("S009")
def test_glibcxx_floor(tmp_path: Path) -> None:
    code, report = verify("cxx", "linux/arm64", "bullseye-arm64", tmp_path / "a", "--glibcxx-floor", "3.4.20")
    s009 = [f for f in report["files"][0]["findings"] if f["rule"] == "S009"]
    assert code == 1 and s009 and "GLIBCXX_3.4.21" in s009[0]["message"], report["files"][0]["findings"]
    code, report = verify("cxx", "linux/arm64", "bullseye-arm64", tmp_path / "b", "--glibcxx-floor", "3.4.28")
    assert code == 0 and "S009" not in rules(report)


def test_sysroot_info_lists_glibcxx_nodes() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cgocheck", "sysroot", "info", "bullseye-arm64", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    nodes = json.loads(proc.stdout)["glibcxx_versions"]
    assert nodes[0] == "GLIBCXX_3.4" and nodes[-1] == "GLIBCXX_3.4.28"  # gcc 10's libstdc++


def test_bundled_c_sources(tmp_path: Path) -> None:
    code, report = verify("bundled", "linux/arm64", "bullseye-arm64", tmp_path / "b")
    assert code == 0, report["build_findings"]
    names = {Path(u["name"]).name for u in report["build"]["c_units"] if u["origin"] == "user"}
    assert {"adler.c", "fletcher.c", "sums.c"} <= names, names
    assert qemu("linux/arm64", "bullseye-arm64", tmp_path / "b").startswith("adler32=")


def test_clang_for_musl_links_the_sysroots_musl(tmp_path: Path) -> None:
    code, report = verify("libc", "linux/arm64/musl", "bookworm-arm64-musl", tmp_path / "m", "--cc", "clang")
    assert code == 0, report["build_findings"] + [f for fr in report["files"] for f in fr["findings"]]
    facts = report["files"][0]["facts"]
    assert facts["interpreter"] == "/lib/ld-musl-aarch64.so.1" and facts["needed"] == ["libc.so"]
    assert "A006" not in rules(report)
    links = [c for c in report["build"]["calls"] if c["final_link"]]
    crt = [a for c in links for a in c["argv"] if a.endswith("crt1.o")]
    assert not crt or all("bookworm-arm64-musl" in a for a in crt)
    need_tool("qemu-aarch64")
    proc = subprocess.run(
        ["qemu-aarch64", "-L", str(sysroot_dir("bookworm-arm64-musl")), str(tmp_path / "m")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and "pid>0=true" in proc.stdout, proc.stderr


def test_gcc_for_musl_is_musl_gcc_on_x86_64_and_refused_elsewhere(tmp_path: Path) -> None:
    need_tool("musl-gcc")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            str(FIXTURES / "clean" / "libc"),
            "-t",
            "linux/amd64/musl",
            "--format",
            "json",
            "-o",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["files"][0]["facts"]["interpreter"] == "/lib/ld-musl-x86_64.so.1"
    refused = subprocess.run(
        [sys.executable, "-m", "cgocheck", "verify", str(FIXTURES / "clean" / "libc"), "-t", "linux/arm64/musl"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 3 and "--cc clang" in refused.stderr and "apt-get" not in refused.stderr
