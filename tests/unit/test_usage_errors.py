"""Mistakes on the command line (an unknown option, a missing argument, a time limit that is
not a number) end like every other bad input: one line on stderr naming the help to read,
exit 2, nothing on stdout. Checked for every command and subcommand, as a user runs them
(a process of its own) for a sample, and through click's runner for all of them."""

from __future__ import annotations

import importlib

import click
import pytest

from cgocheck.cli import COMMANDS
from tests.support.cli import cgocheck, invoke


def _paths() -> list[list[str]]:
    out: list[list[str]] = []
    for name, (module, attr) in COMMANDS.items():
        cmd = getattr(importlib.import_module(f"cgocheck.cli.{module}"), attr)
        if isinstance(cmd, click.Group):
            out.extend([name, sub] for sub in cmd.commands)
        else:
            out.append([name])
    return out


def _timeouts() -> list[list[str]]:
    """Every command path with an option whose type is a time limit in seconds."""
    from cgocheck.cli.options import Seconds

    out: list[list[str]] = []
    for path in _paths():
        group = COMMANDS[path[0]]
        cmd = getattr(importlib.import_module(f"cgocheck.cli.{group[0]}"), group[1])
        if len(path) == 2:
            cmd = cmd.commands[path[1]]
        out.extend([*path, opt] for p in cmd.params if isinstance(p.type, Seconds) for opt in p.opts[:1])
    return out


def _one_line(res_stderr: str, path: list[str]) -> str:
    lines = [ln for ln in res_stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res_stderr
    assert lines[0].startswith("cgocheck: error: "), lines
    assert f"(see 'cgocheck {' '.join(path)} --help')" in lines[0], lines
    return lines[0]


@pytest.mark.parametrize("path", _paths(), ids=" ".join)
def test_unknown_option_is_one_line(path: list[str]) -> None:
    res = invoke(*path, "--no-such-option-here")
    assert res.exit_code == 2 and not res.stdout, (res.stdout, res.stderr)
    assert "--no-such-option-here" in _one_line(res.stderr, path)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e999", "soon"])
def test_time_limits_are_numbers_of_seconds(value: str) -> None:
    limits = _timeouts()
    assert limits, "no command has a time limit: the test would check nothing"
    for *path, opt in limits:
        res = invoke(*path, f"{opt}={value}")
        assert res.exit_code == 2, (path, opt, value, res.stdout, res.stderr)
        assert opt in _one_line(res.stderr, path)


def test_as_a_process() -> None:
    """The console script itself: a missing argument, an unknown command, a group alone."""
    proc = cgocheck("verify")
    assert proc.returncode == 2 and not proc.stdout
    assert "Missing argument" in _one_line(proc.stderr, ["verify"])
    proc = cgocheck("no-such-command")
    assert proc.returncode == 2 and "no-such-command" in proc.stderr and len(proc.stderr.splitlines()) == 1
    proc = cgocheck("sysroot")  # a group without its command: its help, as --help gives it
    assert proc.returncode == 0 and proc.stdout == cgocheck("sysroot", "--help").stdout and not proc.stderr
