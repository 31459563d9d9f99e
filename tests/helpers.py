"""Helpers shared by the tests (one place; test modules import from here, never from each other)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cgocheck.core import folders

REPO = Path(__file__).resolve().parent.parent


def home_sharing(top: Path, share: tuple[str, ...] = ("downloads", "apt")) -> Path:
    """A CGOCHECK_HOME of the test's own under ``top``, sharing the real home's ``share``
    folders through symlinks (downloads and apt lists: nothing is downloaded again)."""
    home = top / "cgocheck-home"
    home.mkdir(parents=True)
    for name in share:
        (folders.home() / name).mkdir(parents=True, exist_ok=True)
        os.symlink(folders.home() / name, home / name)
    return home


def cgocheck(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``python -m cgocheck ARGS`` as a user runs it: a new process, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "cgocheck", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single ``cgocheck: error:`` line a refused input must give (and nothing else)."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [ln for ln in lines if ln.startswith("cgocheck: error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def cli_runner() -> CliRunner:
    """click's test runner with stderr kept apart, on every click pyproject.toml allows
    (8.1 needs mix_stderr=False; 8.2 removed the parameter and always keeps it apart)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def run_quiet(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1200, **kw)  # type: ignore[call-overload]


def build_wheel(dist: Path) -> Path:
    """The wheel of this checkout, built as pip builds it for a user."""
    built = run_quiet([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)])
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("cgocheck-*.whl")
    return wheel


def fresh_venv(where: Path) -> Path:
    """A new venv from the base interpreter (nothing of this one's site-packages); its bin/."""
    made = run_quiet([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(where)])
    assert made.returncode == 0, made.stderr
    return where / "bin"
