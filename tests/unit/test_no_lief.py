"""Commands that need no lief never import it (`import lief` alone takes ~0.6 s): lief is
the tests' second opinion on the dynamic view (cgocheck.elf.read_dynamic_both), nothing
else. Checked in new processes with `python -X importtime`, which names every module a
process imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import child_env, workdir

COMMANDS = [
    ("inspect", "/bin/true"),
    ("inspect", "--format", "json", "/bin/true"),
    ("resolve", "/bin/true", "--sysroot", "/"),
    ("inspect", "/bin/true", "--sysroot", "/"),
    ("sysroot", "list"),
    ("--version",),
    ("verify", "--help"),
    ("matrix", "--help"),
    ("run", "--help"),
]


@pytest.mark.skipif(not os.path.isfile("/bin/true"), reason="needs /bin/true")
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_no_command_imports_lief(args: tuple[str, ...], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "cgocheck", *args], capture_output=True,
                          text=True, env=child_env(), cwd=workdir(tmp_path), timeout=300, check=False)
    modules = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "cgocheck.cli" in modules, proc.stderr[-2000:]
    assert not [m for m in modules if m == "lief" or m.startswith("lief.")]
