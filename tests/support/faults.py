"""Helpers for fault-injection tests: the process table, a cgo module whose C compile hangs
for real, and a compiler that hangs and says where it is (a private cgocheck home: home.py).

Nothing is mocked: processes are real and found in /proc; the hanging C compile is the
real cross gcc blocked opening a FIFO that a cgo preamble #includes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

# --- /proc ------------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int, int, str, str]]:
    """pid -> (ppid, process group, session, state, comm) of every live process."""
    out: dict[int, tuple[int, int, int, str, str]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        state, ppid, pgrp, sid = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
        if state in ("Z", "X"):  # dead, waiting to be reaped: not running anything
            continue
        out[int(d)] = (ppid, pgrp, sid, state, comm)
    return out


def descendants(root: int) -> dict[int, str]:
    """Live descendants of ROOT (pid -> comm), whatever session or group they moved to."""
    table = proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out[pid] = table[pid][4]
        todo += children.get(pid, [])
    return out


def alive(pids: Iterable[int]) -> dict[int, str]:
    table = proc_table()
    return {p: table[p][4] for p in pids if p in table}


def in_group(pgid: int) -> dict[int, str]:
    return {pid: v[4] for pid, v in proc_table().items() if v[1] == pgid}


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Lines:
    """Collects a pipe's lines in a thread, so a test can wait for one while the process runs."""

    def __init__(self, pipe: object) -> None:
        self.lines: list[str] = []
        self._pipe = pipe
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._pipe:  # type: ignore[attr-defined]
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def join(self) -> str:
        self._thread.join(timeout=30)
        return self.text()


# --- a cgo module that hangs ------------------------------------------------------------

CGO_MAIN = """package main

/*
#include <stdlib.h>
#include "{include}"
static int answer(void) {{ return 42; }}
*/
import "C"

import "fmt"

func main() {{ fmt.Println(C.answer()) }}
"""


def hanging_module(top: Path) -> Path:
    """A Go module with ./fast (plain cgo) and ./hang, whose cgo preamble #includes a FIFO:
    the real C preprocessor blocks opening it until killed (no CPU, no memory, no end)."""
    mod = top / "faults"
    for pkg, include in (("fast", "stdio.h"), ("hang", "hang.inc")):
        (mod / pkg).mkdir(parents=True)
        (mod / pkg / "main.go").write_text(CGO_MAIN.format(include=include))
    os.mkfifo(mod / "hang" / "hang.inc")
    (mod / "go.mod").write_text("module example.com/faults\n\ngo 1.19\n")
    (mod / "salt.txt").write_text(str(top))  # a tree (and cache key) of this test's own
    return mod


def hanging_compiler(top: Path, real_cc: str) -> tuple[Path, Path]:
    """A compiler for --cc custom that answers -dumpmachine with REAL_CC, and otherwise
    starts two background sleeps and sleeps itself, after writing "pid pgid sid" of itself
    and its children to the returned record file."""
    record = top / "cc-record.txt"
    script = top / "hang-cc.sh"
    script.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = -dumpmachine ] && exec ' + real_cc + ' "$@"; done\n'
        "sleep 600 & c1=$!\n"
        "sleep 600 & c2=$!\n"
        f'read -r _ _ _ _ pgid sid _ < /proc/$$/stat; echo "$$ $pgid $sid $c1 $c2" >> "{record}"\n'
        "wait\n"
    )
    script.chmod(0o755)
    return script, record
