"""This checkout as a user installs it: its wheel, and venvs made from nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.cli import run
from tests.support.paths import REPO


def build_wheel(dist: Path) -> Path:
    """The wheel of this checkout, built as pip builds it for a user."""
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)])
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("cgocheck-*.whl")
    return wheel


def fresh_venv(where: Path) -> Path:
    """A new venv from the base interpreter (nothing of this one's site-packages); its bin/."""
    made = run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(where)])
    assert made.returncode == 0, made.stderr
    return where / "bin"
