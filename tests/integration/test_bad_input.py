"""Bad input: one clear line on stderr per bad file, exit 2, never a traceback; the good
files of the same run are still reported. Inputs are real files: a real cgo binary cut
short, real PE and Mach-O files built by Go itself, a text file, an empty file, folders."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.builder import GO_NEW, Builder
from tests.support.cli import cgocheck

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def good(builder: Builder) -> Path:
    return builder.build("clean/libc", "linux/arm64", GO_NEW, "gcc").path


@pytest.fixture(scope="module")
def foreign(builder: Builder) -> dict[str, Path]:
    """A real PE and a real Mach-O file, from Go's own cross compiler (no cgo needed)."""
    pe = builder.build("clean/netuser", "linux/amd64", GO_NEW, cgo=False, link="", extra_env={"GOOS": "windows"}).path
    macho = builder.build("clean/netuser", "linux/arm64", GO_NEW, cgo=False, link="", extra_env={"GOOS": "darwin"}).path
    return {"pe": pe, "macho": macho}


def assert_one_line_errors(proc: subprocess.CompletedProcess[str], n_bad: int) -> list[str]:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == n_bad, proc.stderr
    assert all(ln.startswith("cgocheck: error: ") for ln in lines)
    assert proc.returncode == 2
    return lines


def test_truncated_at_each_eighth(good: Path, tmp_path: Path) -> None:
    data = good.read_bytes()
    cuts = []
    for k in range(1, 8):
        p = tmp_path / f"cut{k}"
        p.write_bytes(data[: len(data) * k // 8])
        cuts.append(str(p))
    proc = cgocheck("inspect", "--format", "json", str(good), *cuts)
    lines = assert_one_line_errors(proc, 7)
    assert all("truncated" in ln or "damaged" in ln for ln in lines), lines
    report = json.loads(proc.stdout)
    assert [f["path"] for f in report["files"]] == [str(good)]
    assert sorted(e["path"] for e in report["errors"]) == sorted(cuts)


def test_not_elf_inputs(good: Path, foreign: dict[str, Path], tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    emptydir = tmp_path / "emptydir"
    emptydir.mkdir()
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    bad = [text, empty, emptydir, dangling, fifo, foreign["pe"], foreign["macho"]]
    proc = cgocheck("inspect", str(good), *map(str, bad))
    lines = assert_one_line_errors(proc, len(bad))
    joined = "\n".join(lines)
    assert "PE/COFF" in joined and "Mach-O" in joined and "empty file" in joined
    assert "no ELF files" in joined and "no such file" in joined and "not a regular file" in joined
    assert f"== {good}" in proc.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(good: Path, tmp_path: Path) -> None:
    p = tmp_path / "secret"
    p.write_bytes(good.read_bytes())
    p.chmod(0)
    assert_one_line_errors(cgocheck("inspect", str(p)), 1)


def test_directory_walk_finds_elf_files_only(good: Path, tmp_path: Path) -> None:
    d = tmp_path / "tree" / "sub"
    d.mkdir(parents=True)
    (d / "app").write_bytes(good.read_bytes())
    (tmp_path / "tree" / "README").write_text("not an ELF")
    proc = cgocheck("inspect", "--format", "json", str(tmp_path / "tree"))
    assert proc.returncode == 0, proc.stderr
    assert [f["path"] for f in json.loads(proc.stdout)["files"]] == [str(d / "app")]


def test_unknown_target_is_usage_error(good: Path) -> None:
    proc = cgocheck("inspect", "--target", "linux/sparc64", str(good))
    assert_one_line_errors(proc, 1)
    assert "unknown target" in proc.stderr
