"""cgocheck.core.sandbox on real processes (/bin/sh and coreutils): the timeout stops the
whole tree, including a child that left the session with setsid, the output cap stops an
endless writer, a program's leftovers are stopped when it exits, stdin is closed and the
environment is exactly the one given."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from cgocheck.core import sandbox

ENV = {"PATH": "/usr/bin:/bin"}


def alive_with(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        pids.append(int(entry.name))
            except (OSError, IndexError):
                pass
    return pids


def test_timeout_stops_the_group_and_what_left_it() -> None:
    marker = uuid.uuid4().hex
    script = f"setsid sh -c 'sleep 1000 # {marker}' & (sh -c 'sleep 999 # {marker}' &); echo started; sleep 1000"
    t0 = time.monotonic()
    out = sandbox.run(["/bin/sh", "-c", script], env=ENV, cwd="/", timeout=1.0, max_output=1000)
    assert out.timed_out and not out.capped and out.signal == 9 and out.returncode is None
    assert out.stdout == b"started\n" and time.monotonic() - t0 < 10
    assert out.strays >= 1  # the setsid child was outside the group
    assert alive_with(marker) == []


def test_output_cap_stops_an_endless_writer() -> None:
    out = sandbox.run(["/bin/sh", "-c", "yes cgocheck"], env=ENV, cwd="/", timeout=60, max_output=100_000)
    assert out.capped and not out.timed_out and len(out.stdout) == 100_000 and out.total_bytes > 100_000
    assert out.seconds < 30


def test_leftovers_of_a_finished_program_are_stopped() -> None:
    marker = uuid.uuid4().hex
    out = sandbox.run(["/bin/sh", "-c", f"(setsid sh -c 'sleep 500 # {marker}' &); echo err >&2; exit 3"], env=ENV,
                      cwd="/", timeout=30, max_output=1000)
    assert out.returncode == 3 and out.stderr == b"err\n" and not out.timed_out
    assert out.strays >= 1 and alive_with(marker) == []


def test_stdin_is_closed_and_the_environment_is_the_one_given(tmp_path: Path) -> None:
    out = sandbox.run(["/bin/sh", "-c", "cat; env | sort; pwd"], env={**ENV, "ONLY": "this"}, cwd=tmp_path,
                      timeout=30, max_output=10_000, merge_stderr=True)
    lines = out.stdout.decode().split("\n")
    assert out.returncode == 0 and out.stderr == b""
    assert {ln.split("=")[0] for ln in lines if "=" in ln} <= {"PATH", "ONLY", "PWD", "SHLVL", "OLDPWD", "_"}
    assert "ONLY=this" in lines and str(tmp_path) in lines
    assert os.environ.get("ONLY") is None
