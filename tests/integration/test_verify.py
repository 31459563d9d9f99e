"""`cgocheck verify` end to end through the command line: hermeticity (a canary secret in the
parent environment appears nowhere), the untouched source tree, the recorded environment,
the pkg-config trace with the sysroot/host drift, --keep, exit codes, the zig preset."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cgocheck.build.hermetic import ALLOWLIST_DOC
from tests.support.cli import cgocheck, one_error_line
from tests.support.need import go, need, need_tool, sysroot
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration


def tree_digest(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest() + f":{st.st_mtime_ns}"
    return out


def schema() -> dict[str, Any]:
    return dict(json.loads(resources.files("cgocheck.data").joinpath("report.schema.json").read_text()))


@pytest.fixture
def git_copy(tmp_path: Path) -> Path:
    """clean/zlib as a user's checkout: a git repository (Go stamps VCS info with git)."""
    need_tool("git")
    src = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean" / "zlib", src)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "x"]):
        subprocess.run(cmd, cwd=src, env=env, check=True)
    return src


def test_canary_secret_and_source_tree(git_copy: Path, tmp_path: Path) -> None:
    """Nothing from the parent environment enters the build, the report, the logs or the binary;
    nothing in the source tree changes but the output binary."""
    go("newest")
    need_tool("aarch64-linux-gnu-gcc")
    sysroot("bullseye-arm64")
    canary = "cgocheck-canary-" + secrets.token_hex(8)
    env = dict(os.environ)
    env.update(
        {
            "CGOCHECK_CANARY_SECRET": canary,
            "CC": f"/opt/{canary}/gcc",  # contaminating knobs in the parent: must not matter either
            "CGO_CFLAGS": f"-I/{canary}",
            "PKG_CONFIG_PATH": f"/{canary}/pkgconfig",
            "GOFLAGS": f"-tags={canary}",
        }
    )
    before = tree_digest(git_copy)
    out = git_copy / "app"
    proc = cgocheck(
        "verify",
        ".",
        "--target",
        "linux/arm64",
        "--sysroot",
        "bullseye-arm64",
        "--ldflags=-linkmode=external",
        "--format",
        "json",
        "--keep",
        "-o",
        str(out),
        env=env,
        cwd=git_copy,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    report = json.loads(proc.stdout)
    jsonschema.validate(report, schema())
    work = Path(os.path.expanduser(report["build"]["work_dir"]))  # reports show the home folder as ~
    try:
        assert canary not in proc.stdout and canary not in proc.stderr
        for f in work.rglob("*"):
            if f.is_file():
                assert canary.encode() not in f.read_bytes(), f
        assert canary.encode() not in out.read_bytes()
        # every variable the build got is listed, and each is one cgocheck chose
        got = report["build"]["env"]
        assert set(got) <= {k for key in ALLOWLIST_DOC for k in key.replace(",", " ").split() if k.isupper()} | {
            "GOARM"
        }, set(got)
        assert (work / "build.log").is_file() and (work / "command.sh").is_file()
        traced = list(work.rglob("pc/*.rc"))
        assert traced, "the pkg-config trace (or its replay for a cached package) is kept"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    after = tree_digest(git_copy)
    assert after.pop("app", None) is not None
    assert after == before


def test_report_lists_pkgconfig_provenance_and_drift(tmp_path: Path) -> None:
    go("newest")
    need_tool("aarch64-linux-gnu-gcc")
    sysroot("bullseye-arm64")
    proc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "zlib"),
        "--target",
        "linux/arm64",
        "--sysroot",
        "bullseye-arm64",
        "--ldflags=-linkmode=external",
        "--format",
        "json",
        "-o",
        str(tmp_path / "z"),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    data = json.loads(proc.stdout)
    (mod,) = data["build"]["pkgconfig"]
    assert mod["module"] == "zlib" and mod["in_sysroot"] is True
    assert mod["version"] == mod["sysroot_version"] == "1.2.11"
    host = subprocess.run(["pkg-config", "--modversion", "zlib"], capture_output=True, text=True, check=False)
    if host.returncode == 0 and host.stdout.strip() != "1.2.11":
        assert mod["host_version"] == host.stdout.strip()
        assert mod["drift"] == f"sysroot 1.2.11 vs host {host.stdout.strip()}"
        assert any(f["rule"] == "P003" for f in data["build_findings"])
    assert data["build"]["link_mode"] == "external"
    assert {u["compiler"] for u in data["build"]["c_units"]} == {"GNU"}
    # the sysroot's zlib.h, not the host's, is what the C unit read
    headers = {p["path"]: p["klass"] for p in data["build"]["paths"] if p["flag"] == "header"}
    zlib_h = [p for p in headers if p.endswith("/zlib.h")]
    assert zlib_h and all(headers[p] == "sysroot" for p in zlib_h)
    assert not [p for p in data["build"]["paths"] if p["klass"] == "host"]


def test_table_output_and_go119(tmp_path: Path) -> None:
    go("1.19")
    need_tool("arm-linux-gnueabihf-gcc")
    proc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "netuser"),
        "--target",
        "linux/arm/v7",
        "--go",
        "1.19",
        "--ldflags=-linkmode=external",
        "-o",
        str(tmp_path / "n"),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert "== build of" in proc.stdout and "env CGO_ENABLED" in proc.stdout and "go1.19" in proc.stdout


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--go", "9.99"], 3, "cgocheck toolchains install 9.99"),
        (["--sysroot", "no-such-recipe-xyz"], 3, "cgocheck sysroot"),
        (
            ["--cc", "custom", "--cc-path", "/nonexistent/aarch64-linux-gnu-gcc"],
            3,
            "apt-get install gcc-aarch64-linux-gnu",
        ),
        (["--cc", "custom"], 2, "--cc-path"),
        (["--glibc-floor", "banana"], 2, "glibc-floor"),
    ],
    ids=["go-missing", "sysroot-missing", "compiler-missing", "custom-without-cc", "bad-floor"],
)
def test_exit_codes_for_environment_and_input(args: list[str], code: int, words: str, tmp_path: Path) -> None:
    go("newest")
    proc = cgocheck(
        "verify", str(FIXTURES / "clean" / "libc"), "--target", "linux/arm64", *args, "-o", str(tmp_path / "x")
    )
    assert proc.returncode == code, proc.stdout[-2000:] + proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr


def test_bad_target_and_missing_package() -> None:
    assert cgocheck("verify", str(FIXTURES / "clean" / "libc"), "--target", "linux/vax").returncode == 2
    proc = cgocheck("verify", "./no/such/dir", "--target", "linux/arm64")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_findings_exit_1(tmp_path: Path) -> None:
    go("newest")
    need_tool("aarch64-linux-gnu-gcc")
    proc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "--target",
        "linux/arm64",
        "--ldflags=-linkmode=external",
        "--extra-ldflags=-Wl,-rpath,/usr/lib/x86_64-linux-gnu",
        "--format",
        "json",
        "-o",
        str(tmp_path / "r"),
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["summary"]["exit_code"] == 1
    assert "R002" in {f["rule"] for fr in data["files"] for f in fr["findings"]}
    # --fail-on lowers/raises the bar
    proc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "--target",
        "linux/arm64",
        "--ldflags=-linkmode=external",
        "--fail-on",
        "info",
        "-o",
        str(tmp_path / "r2"),
    )
    assert proc.returncode in (0, 1)


def test_zig_preset_with_glibc_floor(tmp_path: Path) -> None:
    import importlib.util

    need(importlib.util.find_spec("ziglang") is not None, "ziglang (a test dependency: pip install -e .[test])")
    go("newest")
    proc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "--target",
        "linux/arm64",
        "--cc",
        "zig",
        "--glibc-floor",
        "2.17",
        "--ldflags=-linkmode=external",
        "--format",
        "json",
        "-o",
        str(tmp_path / "z"),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    data = json.loads(proc.stdout)
    assert data["files"][0]["facts"]["max_glibc"]["version"] == "GLIBC_2.17"
    others = [(u["name"], u.get("producer")) for u in data["build"]["c_units"] if u["compiler"] != "zig"]
    assert {u["compiler"] for u in data["build"]["c_units"]} == {"zig"}, others
    assert data["build"]["env"]["ZIG_GLOBAL_CACHE_DIR"].startswith(str(Path(data["build"]["env"]["HOME"]).parent))


def test_missing_compilers_are_environment_problems(tmp_path: Path) -> None:
    """A C or C++ compiler that is not installed is exit 3 with the Debian package that has
    it, not a build finding: CC checked before the build, CXX when the C++ file needs it."""
    sysroot("bookworm-arm64")
    gcc = need_tool("aarch64-linux-gnu-gcc")
    tools = tmp_path / "bin"
    tools.mkdir()
    os.symlink(gcc, tools / "aarch64-linux-gnu-gcc")  # a gcc whose g++ neighbour is missing
    cxx = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "cxx"),
        "-t",
        "linux/arm64",
        "--sysroot",
        "bookworm-arm64",
        "--cc-path",
        str(tools / "aarch64-linux-gnu-gcc"),
        "-o",
        str(tmp_path / "out"),
    )
    assert cxx.returncode == 3, cxx.stdout[-2000:] + cxx.stderr
    assert one_error_line(cxx).endswith("not found; run: apt-get install g++-aarch64-linux-gnu")
    cc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "-t",
        "linux/arm64",
        "--sysroot",
        "bookworm-arm64",
        "--cc-path",
        str(tools / "no-such-linux-gnu-gcc"),
        "-o",
        str(tmp_path / "out2"),
    )
    assert cc.returncode == 3, cc.stderr
    assert "apt-get" not in one_error_line(cc)  # no made-up package for a triplet Debian has no compiler for
    cc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "-t",
        "linux/arm64",
        "--sysroot",
        "bookworm-arm64",
        "--cc-path",
        str(tools / "riscv64-linux-gnu-gcc"),
        "-o",
        str(tmp_path / "out2"),
    )
    assert cc.returncode == 3, cc.stderr
    assert one_error_line(cc).endswith("not found; run: apt-get install gcc-riscv64-linux-gnu")
    musl = cgocheck("verify", str(FIXTURES / "clean" / "libc"), "-t", "linux/arm64/musl", "-o", str(tmp_path / "out3"))
    assert musl.returncode == 3, musl.stderr
    line = one_error_line(musl)
    assert "apt-get" not in line and "--cc clang" in line, line
