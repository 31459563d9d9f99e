"""What real repositories need, on real builds made here, with no network: several main
packages (./cmd/...), module dependencies from a file:// module proxy made at test time, a
vendor/ tree, a go.work workspace, a replace directive, a c-archive, and the go build
options real builds pass."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.builder import GO_NEW
from tests.support.need import go, need_tool
from tests.support.paths import FIXTURES

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

CGO_GREET = """package greet

/*
#include <string.h>
static int greet_len(const char *s) { return (int)strlen(s); }
*/
import "C"

// Len counts with the C library.
func Len(s string) int { return int(C.greet_len(C.CString(s))) }
"""
MAIN_USING_GREET = """package main

import (
	"fmt"

	"example.com/greet"
)

func main() { fmt.Println(greet.Len("hello")) }
"""
DEP = "example.com/greet"


def verify(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GOPROXY", "GOFLAGS", "GONOSUMDB", "GOSUMDB"))}
    full.update(env or {})
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            *args,
            "-t",
            "linux/arm64",
            "--sysroot",
            "bookworm-arm64",
            "--format",
            "json",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
        env=full,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = {}
    return proc.returncode, data, proc.stderr


def build_settings(report: dict[str, Any]) -> dict[str, str]:
    return {s["key"]: s["value"] for s in report["files"][0]["facts"]["go"]["buildinfo"]["settings"]}


def rules(report: dict[str, Any]) -> set[str]:
    out = {f["rule"] for f in report.get("build_findings", [])}
    return out | {f["rule"] for fr in report.get("files", []) for f in fr["findings"]}


def module_proxy(top: Path) -> Path:
    """A file:// module proxy holding example.com/greet v1.0.0 (with cgo C code)."""
    proxy = top / "proxy"
    d = proxy / DEP / "@v"
    d.mkdir(parents=True)
    (d / "list").write_text("v1.0.0\n")
    (d / "v1.0.0.info").write_text('{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}\n')
    mod = f"module {DEP}\n\ngo 1.21\n"
    (d / "v1.0.0.mod").write_text(mod)
    with zipfile.ZipFile(d / "v1.0.0.zip", "w") as z:
        z.writestr(f"{DEP}@v1.0.0/go.mod", mod)
        z.writestr(f"{DEP}@v1.0.0/greet.go", CGO_GREET)
    return proxy


def app_module(top: Path, proxy: Path) -> Path:
    """A module requiring example.com/greet, its go.sum made by go itself from the proxy."""
    app = top / "app"
    app.mkdir()
    (app / "go.mod").write_text(f"module example.com/app\n\ngo 1.21\n\nrequire {DEP} v1.0.0\n")
    (app / "main.go").write_text(MAIN_USING_GREET)
    tc = go(GO_NEW)
    env = {
        "PATH": f"{tc.goroot}/bin:/usr/bin:/bin",
        "HOME": str(top / "h"),
        "GOPROXY": f"file://{proxy}",
        "GOSUMDB": "off",
        "GOFLAGS": "-mod=mod",
        "GOMODCACHE": str(top / "modcache"),
        "GOTOOLCHAIN": "local",
        "GOCACHE": str(top / "gocache"),
    }
    proc = subprocess.run([str(tc.go), "mod", "download", DEP], cwd=app, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([str(tc.go), "mod", "tidy"], cwd=app, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert DEP in (app / "go.sum").read_text()
    return app


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    need_tool("aarch64-linux-gnu-gcc")
    top = tmp_path_factory.mktemp("repo")
    proxy = module_proxy(top)
    return proxy, app_module(top, proxy)


@pytest.mark.fires("B008")
def test_module_dependency_fetched_then_built_offline(repo: tuple[Path, Path], tmp_path: Path) -> None:
    proxy, app = repo
    off = {"GOPROXY": "off"}
    with_proxy = {"GOPROXY": f"file://{proxy}", "GOSUMDB": "off"}
    # no proxy in this shell: one clear finding naming the module and the ways to provide it
    code, report, _ = verify(".", "-o", str(tmp_path / "a"), cwd=app, env=off)
    assert code == 1
    b008 = [f for f in report["build_findings"] if f["rule"] == "B008"]
    assert len(b008) == 1 and f"{DEP}@v1.0.0" in b008[0]["message"], report["build_findings"]
    assert "GOPROXY" in b008[0]["fix"] and "vendor" in b008[0]["fix"]
    assert "B001" not in rules(report)  # the failure B008 explains is not reported twice
    # with the proxy: fetched, then built offline against go.sum; the dependency is in the report
    code, report, err = verify(".", "-o", str(tmp_path / "b"), cwd=app, env=with_proxy)
    assert code == 0, (err, report.get("build_findings"))
    build = report["build"]
    assert build["modules"]["mode"] == "proxy" and build["modules"]["settings"]["GOPROXY"] == f"file://{proxy}"
    assert build["env"]["GOPROXY"].startswith("file://") and build["env"]["GOSUMDB"] == "off"
    assert "-mod=readonly" in build["env"]["GOFLAGS"]
    deps = report["files"][0]["facts"]["go"]["buildinfo"]["deps"]
    assert [(d["path"], d["version"]) for d in deps] == [(DEP, "v1.0.0")] and deps[0]["sum"].startswith("h1:")
    carrying = [p for p in build["cgo_packages"] if p.get("module")]
    assert carrying and carrying[0]["module"] == f"{DEP}@v1.0.0" and carrying[0]["import_path"] == DEP
    # the same inputs give the same result whatever ran before: without the proxy it fails again
    code, report, _ = verify(".", "-o", str(tmp_path / "c"), cwd=app, env=off)
    assert code == 1 and "B008" in rules(report)
    # and the table names the dependency and the module carrying C code
    table = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            ".",
            "-t",
            "linux/arm64",
            "--sysroot",
            "bookworm-arm64",
            "-o",
            str(tmp_path / "d"),
        ],
        cwd=app,
        capture_output=True,
        text=True,
        env={**os.environ, **with_proxy},
        timeout=1200,
        check=False,
    )
    assert re.search(rf"go dep\s+{re.escape(DEP)} v1\.0\.0", table.stdout), table.stdout[-3000:]
    assert "C code from" in table.stdout and f"module {DEP}@v1.0.0" in table.stdout


def test_credentials_in_module_settings_are_redacted() -> None:
    from cgocheck.build.modules import redact

    assert (
        redact("GOPROXY", "https://bob:s3cret@proxy.example.com,direct")
        == "https://<redacted>@proxy.example.com,direct"
    )
    assert redact("GOAUTH", "netrc") == "<redacted>"
    assert redact("GOPRIVATE", "example.com/*") == "example.com/*"


def test_vendor_tree_builds_with_no_proxy(repo: tuple[Path, Path], tmp_path: Path) -> None:
    proxy, app = repo
    vendored = tmp_path / "vendored"
    shutil.copytree(app, vendored)
    tc = go(GO_NEW)
    env = {
        "PATH": f"{tc.goroot}/bin:/usr/bin:/bin",
        "HOME": str(tmp_path / "h"),
        "GOPROXY": f"file://{proxy}",
        "GOSUMDB": "off",
        "GOMODCACHE": str(tmp_path / "mc"),
        "GOTOOLCHAIN": "local",
        "GOCACHE": str(tmp_path / "gc"),
    }
    subprocess.run([str(tc.go), "mod", "vendor"], cwd=vendored, env=env, check=True, capture_output=True)
    code, report, err = verify(".", "-o", str(tmp_path / "v"), cwd=vendored, env={"GOPROXY": "off"})
    assert code == 0, (err, report.get("build_findings"))
    assert report["build"]["modules"]["mode"] == "vendor" and "-mod=vendor" in report["build"]["env"]["GOFLAGS"]


def _local_module(top: Path, with_replace: bool) -> Path:
    (top / "lib").mkdir(parents=True)
    (top / "lib" / "go.mod").write_text("module example.com/lib\n\ngo 1.21\n")
    (top / "lib" / "lib.go").write_text(CGO_GREET.replace("package greet", "package lib"))
    app = top / "app"
    app.mkdir()
    gomod = "module example.com/app\n\ngo 1.21\n"
    if with_replace:
        gomod += "\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n"
    else:
        (top / "go.work").write_text("go 1.21\n\nuse (\n\t./app\n\t./lib\n)\n")
    (app / "go.mod").write_text(gomod)
    (app / "main.go").write_text(MAIN_USING_GREET.replace(DEP, "example.com/lib").replace("greet.", "lib."))
    return app


@pytest.mark.parametrize("layout", ["go.work", "replace"])
def test_workspace_and_replace_need_no_proxy(layout: str, tmp_path: Path) -> None:
    app = _local_module(tmp_path / "ws", with_replace=layout == "replace")
    code, report, err = verify(".", "-o", str(tmp_path / "out"), cwd=app, env={"GOPROXY": "off"})
    assert code == 0, (err, report.get("build_findings"))
    if layout == "go.work":
        assert report["build"]["modules"]["workspace"].endswith("go.work")
    deps = report["files"][0]["facts"]["go"]["buildinfo"]["deps"]
    if layout == "replace":
        assert deps[0]["replaced_by"]["path"] == "../lib"


def three_binaries(top: Path) -> Path:
    mod = top / "multi"
    (mod / "internal" / "clib").mkdir(parents=True)
    (mod / "go.mod").write_text("module example.com/multi\n\ngo 1.21\n")
    (mod / "internal" / "clib" / "clib.go").write_text(CGO_GREET.replace("package greet", "package clib"))
    for name, extra in (("alpha", ""), ("beta", ""), ("gamma", "// #cgo LDFLAGS: -Wl,-rpath,/opt/vendor/lib\n")):
        d = mod / "cmd" / name
        d.mkdir(parents=True)
        (d / "main.go").write_text(
            f'package main\n\n{extra}import "C"\n\nimport (\n\t"fmt"\n\n\t"example.com/multi/internal/clib"\n)\n\n'
            f'func main() {{ fmt.Println("{name}", clib.Len("{name}")) }}\n'
        )
    return mod


def test_cmd_pattern_builds_and_checks_every_main_package(tmp_path: Path) -> None:
    mod = three_binaries(tmp_path)
    out = tmp_path / "bin"
    code, report, err = verify("./cmd/...", "-o", f"{out}/", cwd=mod)
    assert code == 0, (err, report.get("build_findings"))
    names = sorted(Path(fr["path"]).name for fr in report["files"])
    assert names == ["alpha", "beta", "gamma"] and all((out / n).is_file() for n in names)
    by = {Path(fr["path"]).name: {f["rule"] for f in fr["findings"]} for fr in report["files"]}
    assert "R001" in by["gamma"] and "R001" not in by["alpha"]  # each binary its own file report
    assert all(fr.get("resolution") for fr in report["files"])  # each resolved in the sysroot
    # the non-main package's C code was compiled by the traced compiler (a fresh folder: no cache)
    compiled = [c for c in report["build"]["calls"] if c["kind"] == "compile"]
    assert any(c["cwd"].endswith("internal/clib") for c in compiled), [c["cwd"] for c in compiled]
    assert any(p["import_path"] == "example.com/multi/internal/clib" for p in report["build"]["cgo_packages"])
    # the exit code is the worst of them: R001 is a warning
    code, _, _ = verify("./cmd/...", "--fail-on", "warning", "-o", f"{out}/", cwd=mod)
    assert code == 1
    # ./... and several packages work too, without -o (cgocheck's work folder)
    code, report, err = verify("./cmd/alpha", "./cmd/beta", cwd=mod)
    assert code == 0, err
    assert sorted(Path(fr["path"]).name for fr in report["files"]) == ["alpha", "beta"]


def test_matrix_cells_take_patterns(tmp_path: Path) -> None:
    mod = three_binaries(tmp_path)
    (mod / "cgocheck.toml").write_text(
        'go = ["newest"]\ntargets = ["linux/arm64"]\npackages = ["./cmd/..."]\nldflags = "-s -w"\n'
        'tags = "netgo"\n'
        '[sysroots]\n"linux/arm64" = "bookworm-arm64"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "cgocheck", "matrix", "--format", "json"],
        cwd=mod,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (cell,) = json.loads(proc.stdout)["cells"]
    assert len(cell["report"]["files"]) == 3
    assert {"-ldflags=-s -w", "-tags=netgo"} <= set(cell["report"]["build"]["go_flags"])  # from cgocheck.toml


def test_c_archive_is_checked_through_a_program_linking_it(tmp_path: Path) -> None:
    code, report, err = verify(
        str(FIXTURES / "clean" / "cshared"), "--buildmode", "c-archive", "-o", str(tmp_path / "libx.a"), cwd=tmp_path
    )
    assert code == 0, (err, report.get("errors"), report.get("build_findings"))
    (fr,) = report["files"]
    facts = fr["facts"]
    assert facts["header"]["machine"] == "EM_AARCH64" and facts["interpreter"] == "/lib/ld-linux-aarch64.so.1"
    assert "libc.so.6" in facts["needed"] and fr["resolution"]["libraries"]
    notes = " ".join(report.get("notes", []))
    assert "exported header" in notes and "libx.h" in notes and "linked against" in notes
    assert (tmp_path / "libx.a").is_file()


def test_build_options_are_passed_recorded_and_quoted(tmp_path: Path) -> None:
    src = FIXTURES / "clean" / "libc"
    code, report, err = verify(
        str(src),
        "--ldflags",
        "-s -w -X main.version=1.2",
        "--tags",
        "netgo,osusergo",
        "--trimpath",
        "--buildvcs",
        "false",
        "--pgo",
        "off",
        "-o",
        str(tmp_path / "o1"),
        cwd=tmp_path,
    )
    assert code == 0, err
    flags = report["build"]["go_flags"]
    assert "-ldflags=-s -w -X main.version=1.2" in flags and "-tags=netgo,osusergo" in flags
    assert {"-trimpath", "-buildvcs=false", "-pgo=off"} <= set(flags)
    settings = build_settings(report)
    assert settings["-tags"] == "netgo,osusergo" and settings["-trimpath"] == "true"
    assert "-ldflags" not in settings  # go records no -ldflags in a -trimpath build (they may hold paths)
    table = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            str(src),
            "-t",
            "linux/arm64",
            "--ldflags",
            "-s -w",
            "-o",
            str(tmp_path / "o2"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert "'-ldflags=-s -w'" in table.stdout  # the recorded command is the command that ran
    # GOEXPERIMENT and an amd64 level reach the build and its build info
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            str(src),
            "-t",
            "linux/amd64",
            "--sysroot",
            "bookworm-amd64",
            "--goamd64",
            "v3",
            "--format",
            "json",
            "-o",
            str(tmp_path / "o3"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    settings = build_settings(json.loads(proc.stdout))
    assert settings["GOAMD64"] == "v3"


def test_race_where_the_target_supports_it(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            str(FIXTURES / "clean" / "libc"),
            "-t",
            "linux/amd64",
            "--sysroot",
            "bookworm-amd64",
            "--race",
            "--format",
            "json",
            "-o",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    settings = build_settings(json.loads(proc.stdout))
    assert settings["-race"] == "true"
    refused = subprocess.run(
        [sys.executable, "-m", "cgocheck", "verify", str(FIXTURES / "clean" / "libc"), "-t", "linux/arm/v7", "--race"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "-race" in refused.stderr
