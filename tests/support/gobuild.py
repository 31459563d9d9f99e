"""Pure-Go builds (CGO_ENABLED=0, no C compiler needed) with the installed Go toolchains,
found by cgocheck's own registry: the newest Go (the 1.18+ build info layout), Go 1.19, and
Go 1.15 (the pre-1.18 pointer layout). CGOCHECK_GO_NEW, CGOCHECK_GO_119 and
CGOCHECK_GO_LEGACY may name another GOROOT."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cgocheck.core import folders
from tests.support.need import goroot


def go_new() -> Path | None:
    return goroot("newest", "CGOCHECK_GO_NEW")


def go_119() -> Path | None:
    return goroot("1.19", "CGOCHECK_GO_119")


def go_legacy() -> Path | None:
    return goroot("1.15", "CGOCHECK_GO_LEGACY")


_cache: dict[tuple[str, str], bytes] = {}
_recorded: dict[Path, Path] = {}


def record(binary: Path, goroot: Path) -> None:
    """Note a Go binary the session built and the GOROOT that built it (the build info
    differential walks them all at the end of the run)."""
    _recorded[binary] = goroot


def recorded() -> dict[Path, Path]:
    """Every Go binary the session built so far -> the GOROOT that built it."""
    return dict(_recorded)


def build_pure(goroot: Path | None, goarch: str, tmp: Path, what: str) -> bytes:
    """A CGO_ENABLED=0 hello world for linux/goarch, as bytes."""
    if goroot is None:
        pytest.skip(f"{what} is missing (CGOCHECK_GO_NEW / CGOCHECK_GO_LEGACY, cgocheck toolchains install 1.15)")
    key = (str(goroot), goarch)
    if key in _cache:
        return _cache[key]
    src = tmp / f"src-{goarch}-{abs(hash(key))}"
    src.mkdir(parents=True)
    (src / "go.mod").write_text("module example.com/blob\n\ngo 1.15\n")
    (src / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n')
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "GOROOT": str(goroot),
        "GOPATH": str(tmp / "gopath"),
        "GOCACHE": str(folders.work() / "gocache-tests"),
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
        "GOOS": "linux",
        "GOARCH": goarch,
    }
    env["GO111MODULE" if "1.15" in str(goroot) else "GOTOOLCHAIN"] = "on" if "1.15" in str(goroot) else "local"
    out = src / "out"
    r = subprocess.run(
        [str(goroot / "bin" / "go"), "build", "-o", str(out), "."],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    record(out, goroot)
    _cache[key] = out.read_bytes()
    return _cache[key]
