"""Running cgocheck's command line as a user runs it, and any other command.

``cgocheck`` starts a new process (``python -m cgocheck``) running this checkout's code;
``invoke`` runs the command line in this process with click's test runner; ``run`` runs any
other program. Every test that runs cgocheck uses these: one place for the flags, the
environment and the time limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cgocheck.cli import main
from tests.support.paths import REPO


def child_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """ENV (default: this process's environment) with this checkout first on PYTHONPATH, so
    that a new ``python -m cgocheck`` runs the code under test, whatever is installed."""
    out = dict(os.environ if env is None else env)
    path = out.get("PYTHONPATH", "")
    if path.split(os.pathsep)[0] != str(REPO):
        out["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), path) if p)
    return out


def plain_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's PATH and HOME and nothing else (plus EXTRA): no CGOCHECK_* setting, XDG
    folder or build variable of the shell the tests run in reaches cgocheck."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), **(extra or {})}


def cgocheck(
    *args: str, cwd: Path | str | None = None, env: Mapping[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``python -m cgocheck ARGS`` in a new process, output captured. ENV is the child's whole
    environment (default: this process's), this checkout first on its PYTHONPATH."""
    return subprocess.run(
        [sys.executable, "-m", "cgocheck", *args],
        capture_output=True,
        text=True,
        env=child_env(env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def workdir(tmp_path: Path) -> Path:
    """A folder to run in whose configuration lookup stops at once (a fake repository root)."""
    (tmp_path / ".git").mkdir(exist_ok=True)
    return tmp_path


def one_error_line(proc: subprocess.CompletedProcess[str], *, alone: bool = False) -> str:
    """The single ``cgocheck: error:`` line a refused input must give (ALONE: and no other
    line on stderr), never a traceback."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [ln for ln in lines if ln.startswith("cgocheck: error:")]
    assert len(errors) == 1, proc.stderr
    if alone:
        assert len(lines) == 1 and lines[0].startswith("cgocheck: error: "), proc.stderr
    return errors[0]


def invoke(*args: str) -> Result:
    """``cgocheck ARGS`` in this process, through click's test runner, stderr kept apart on
    every click pyproject.toml allows (8.1 needs mix_stderr=False; 8.2 removed the parameter
    and always keeps it apart)."""
    # a dict, not a keyword: the installed click's signature may not have the parameter
    older: dict[str, Any] = {"mix_stderr": False}
    try:
        runner = CliRunner(**older)
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args))


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 1200,
) -> subprocess.CompletedProcess[str]:
    """Any other command, output captured, its exit status left to the caller."""
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False, cwd=cwd, env=env, timeout=timeout)
