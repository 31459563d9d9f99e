"""Run a program so that nothing it starts outlives it, and nothing it prints can flood us.

:func:`run` starts ARGV in a session and process group of its own, with stdin closed, the
environment given (nothing inherited) and its output read by two threads that keep at most
``max_output`` bytes (stdout and stderr together). The program is stopped, with SIGKILL to
its whole process group, when

- ``timeout`` seconds have passed (``timed_out``),
- its output passes ``max_output`` bytes (``capped``; what came before is kept), or
- it has exited: whatever it left running (a daemon, a child it forgot) goes too.

A process that leaves the group (``setsid``, a double fork) is still found: cgocheck makes
itself a *child subreaper* (Linux ``PR_SET_CHILD_SUBREAPER``), so every orphan of the
program is re-parented to cgocheck instead of init, and after the group is killed the
process tree under cgocheck is walked in ``/proc`` and every process that appeared since
the program started is killed and reaped (``strays`` counts them). Where that is not
possible (not Linux) the process group is all that is stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
READ_CHUNK = 1 << 16
DRAIN_GRACE = 5.0  # seconds the readers get after the program is stopped
POLL = 0.05
_subreaper: bool | None = None


@dataclass(frozen=True)
class Outcome:
    argv: tuple[str, ...]
    pid: int
    returncode: int | None  # the exit status; None when a signal ended the program
    signal: int | None  # the signal that ended it (ours when stopped: SIGKILL)
    timed_out: bool
    capped: bool  # stopped because its output passed max_output
    stdout: bytes  # what was kept (stdout and stderr share max_output)
    stderr: bytes  # empty when merged into stdout
    total_bytes: int  # everything it wrote, kept or not
    seconds: float
    strays: int  # processes it left behind (outside its group or after its exit), stopped


def become_subreaper() -> bool:
    """Make this process the reaper of its descendants' orphans (once; False when the
    kernel or platform does not offer it)."""
    global _subreaper
    if _subreaper is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _subreaper = False
    return _subreaper


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, process group) from /proc/PID/stat, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return fields[0].decode(), int(fields[1]), int(fields[2])
    except (IndexError, ValueError):
        return None


def _table() -> dict[int, tuple[str, int, int]]:
    out: dict[int, tuple[str, int, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                out[int(name)] = st
    return out


def children(pid: int) -> set[int]:
    return {p for p, (_, ppid, _) in _table().items() if ppid == pid}


def descendants(
    top: int, *, exclude: AbstractSet[int] = frozenset(), table: dict[int, tuple[str, int, int]] | None = None
) -> dict[int, tuple[str, int, int]]:
    """Every process under TOP (its children, theirs ...), minus the subtrees of EXCLUDE."""
    table = _table() if table is None else table
    kids: dict[int, list[int]] = {}
    for p, (_, ppid, _) in table.items():
        kids.setdefault(ppid, []).append(p)
    out: dict[int, tuple[str, int, int]] = {}
    todo = [p for p in kids.get(top, []) if p not in exclude]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out[p] = table[p]
        todo += [c for c in kids.get(p, []) if c not in exclude]
    return out


def stop(pgid: int, *, leader: int, before: set[int], left_behind: bool = False) -> int:
    """SIGKILL the group PGID and every process that appeared under us since BEFORE was
    taken (the leader excepted: its Popen reaps it). Returns how many strays it stopped:
    processes outside the group, and with LEFT_BEHIND (the leader had exited on its own)
    the group's own survivors too."""
    me = os.getpid()
    stopped: set[int] = set()
    for _ in range(200):
        live = {p: st for p, st in descendants(me, exclude=before).items() if p != leader}
        for p, (state, _, group) in live.items():
            if state != "Z" and (group != pgid or left_behind):
                stopped.add(p)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        alive = [p for p, (state, _, _) in live.items() if state != "Z"]
        for p, (_, ppid, _) in live.items():
            if p not in alive and ppid == me:  # a zombie orphan of the program: ours to reap
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(p, os.WNOHANG)
        if not alive:
            break
        for p in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.01)
    return len(stopped)


class _Reader(threading.Thread):
    def __init__(self, fd: int, budget: _Budget, into: bytearray) -> None:
        super().__init__(daemon=True, name="cgocheck-sandbox-reader")
        self.fd = fd
        self.budget = budget
        self.into = into

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, READ_CHUNK)
            except OSError:
                return
            if not chunk:
                return
            self.budget.take(chunk, self.into)


class _Budget:
    """The output both streams share: kept up to ``limit`` bytes, counted beyond it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = 0
        self.total = 0
        self.full = threading.Event()
        self.lock = threading.Lock()

    def take(self, chunk: bytes, into: bytearray) -> None:
        with self.lock:
            self.total += len(chunk)
            room = self.limit - self.kept
            if room > 0:
                part = chunk[:room]
                into += part
                self.kept += len(part)
            if self.total > self.limit:
                self.full.set()


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | os.PathLike[str],
    timeout: float,
    max_output: int,
    merge_stderr: bool = False,
) -> Outcome:
    """Run ARGV confined as described above. Raises OSError when it cannot be started."""
    become_subreaper()
    before = children(os.getpid())
    start = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        close_fds=True,
        start_new_session=True,
    )
    budget = _Budget(max_output)
    out_buf, err_buf = bytearray(), bytearray()
    readers = []
    assert proc.stdout is not None
    readers.append(_Reader(proc.stdout.fileno(), budget, out_buf))
    if proc.stderr is not None:
        readers.append(_Reader(proc.stderr.fileno(), budget, err_buf))
    for r in readers:
        r.start()
    timed_out = capped = exited = False
    try:
        while True:
            try:
                proc.wait(timeout=POLL)
                exited = True
                break
            except subprocess.TimeoutExpired:
                pass
            if budget.full.is_set():
                capped = True
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                break
    finally:
        # stopped or finished: its group and whatever escaped it go now
        strays = stop(proc.pid, leader=proc.pid, before=before, left_behind=exited)
        proc.wait()
        # orphans re-parented to us as the leader died
        strays += stop(proc.pid, leader=proc.pid, before=before, left_behind=True)
        deadline = time.monotonic() + DRAIN_GRACE
        for r in readers:
            r.join(max(0.0, deadline - time.monotonic()))
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
    seconds = time.monotonic() - start
    if budget.full.is_set() and not timed_out:
        capped = True
    code = proc.returncode
    return Outcome(
        argv=tuple(argv),
        pid=proc.pid,
        returncode=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        timed_out=timed_out,
        capped=capped,
        stdout=bytes(out_buf),
        stderr=bytes(err_buf),
        total_bytes=budget.total,
        seconds=seconds,
        strays=strays,
    )


def signal_name(num: int | None) -> str | None:
    if num is None:
        return None
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"
