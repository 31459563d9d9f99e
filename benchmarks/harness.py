"""Paired whole-process timing for the benchmarks: a command and its yardstick run in turn
(A B A B ...), after warm-up runs, each a new process whose CPU time and peak memory come
from the kernel's own accounting (wait4's rusage); the ratio is taken pair by pair, so a
machine whose speed drifts during the run still gives a fair ratio. Medians are quoted,
with min and max beside them. Nothing here judges a figure: the scripts print, the reader
(and benchmarks/RESULTS.md) compares with the goals.

A command is a list of words or a shell string for pipelines (`sh -c`). Its output is read
and thrown away.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

Command = Sequence[str] | str


@dataclass
class Runs:
    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)

    def median(self, what: str = "wall") -> float:
        return statistics.median(getattr(self, what))

    def spread(self, what: str = "wall", digits: int = 3) -> str:
        v = getattr(self, what)
        return f"{statistics.median(v):.{digits}f} ({min(v):.{digits}f}-{max(v):.{digits}f})"


def _argv(cmd: Command) -> list[str]:
    return ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)


def run_once(
    cmd: Command, env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[float, float, float, int]:
    """(wall s, user+sys s, peak RSS MiB, exit code) of one new process, its children included
    in the CPU time; peak RSS is the largest single process (ru_maxrss of the waited child,
    and of its reaped children, whichever is larger)."""
    t = time.perf_counter()
    proc = subprocess.Popen(_argv(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, proc.returncode


def paired(
    a: Command,
    b: Command | None = None,
    *,
    runs: int = 5,
    warmup: int = 1,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    label_a: str = "A",
    label_b: str = "B",
) -> tuple[Runs, Runs | None, list[float]]:
    """A and B in turn; returns both Runs and the per-pair wall ratios A/B."""
    ra, rb = Runs(label_a), (Runs(label_b) if b is not None else None)
    for _ in range(warmup):
        run_once(a, env, cwd)
        if b is not None:
            run_once(b, env, cwd)
    ratios: list[float] = []
    for _ in range(runs):
        for cmd, r in ((a, ra), (b, rb)):
            if cmd is None or r is None:
                continue
            wall, cpu, rss, code = run_once(cmd, env, cwd)
            r.wall.append(wall)
            r.cpu.append(cpu)
            r.rss_mib.append(rss)
            r.codes.append(code)
        if rb is not None:
            ratios.append(ra.wall[-1] / rb.wall[-1])
    return ra, rb, ratios


def ratio_text(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def show(cmd: Command) -> str:
    return cmd if isinstance(cmd, str) else shlex.join(cmd)


def machine_line() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        "wall seconds are medians of paired runs (min-max)"
    )
