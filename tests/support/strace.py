"""Which files a cgocheck run touches, traced by strace.

``trace`` runs cgocheck under `strace -f` through a driver script that imports everything
the command needs from Python and then stats a marker path: every file system call after the
marker is the command's own (``traced_paths`` splits the log there).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

MARKER = "/cgocheck-resolve-strace-marker"
# Everything the command needs from Python is imported before the marker, so that every
# file system call after it is resolve's own.
DRIVER = f"""
import os, sys
import cgocheck.cli, cgocheck.cli.inspect, cgocheck.cli.resolve, cgocheck.loader.resolve, cgocheck.checks.symbols
import cgocheck.commands.resolve, cgocheck.report.jsonfmt, cgocheck.report.table, cgocheck.sysroot
import cgocheck.sysroot.recipe, cgocheck.elf.gobuildinfo, json, tabulate
from cgocheck.elf import dynamic
dynamic._lief_module()
[cgocheck.cli.main.get_command(None, n) for n in cgocheck.cli.COMMANDS]  # every command module before the marker
import cgocheck.core.redact
cgocheck.core.redact.home_prefixes()  # the home folder's real path, for the output's redaction
try:
    os.stat({MARKER!r})
except FileNotFoundError:
    pass
cgocheck.cli.main(sys.argv[1:])
"""
_CALL = re.compile(r"^\d+\s+(\w+)\((.*)$")
_ARG = re.compile(r'^(?:(?:AT_FDCWD|-?\d+)(?:<([^>]*)>)?,\s*)?"((?:[^"\\]|\\.)*)"')


def traced_paths(log: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(before, after) the marker: (syscall, absolute path, line) of every path-taking call."""
    before: list[tuple[str, str, str]] = []
    after: list[tuple[str, str, str]] = []
    seen_marker = False
    for line in log.read_text(errors="replace").splitlines():
        m = _CALL.match(line)
        if not m:
            continue
        call, args = m.groups()
        if call in ("read", "pread64"):
            continue
        a = _ARG.match(args)
        if not a:
            continue
        dirpath, path = a.groups()
        if path == "" and dirpath:
            path = dirpath
        elif not path.startswith("/"):
            path = os.path.join(dirpath or os.getcwd(), path)
        path = os.path.normpath(path)
        if path == MARKER:
            seen_marker = True
            continue
        (after if seen_marker else before).append((call, path, line))
    assert seen_marker, "the marker never reached strace"
    return before, after


_READ = re.compile(r"^\d+\s+p?read(?:64)?\(\d+<([^>]*)>,.*\)\s+=\s+(\d+)")


def bytes_read(log: Path) -> dict[str, int]:
    total: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = _READ.match(line)
        if m:
            total[m.group(1)] = total.get(m.group(1), 0) + int(m.group(2))
    return total


def under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def trace(tmp: Path, *args: str, driver: str = DRIVER) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run cgocheck ARGS through DRIVER under strace (every file system call and every read,
    with the file each descriptor is), in TMP; the process and strace's log."""
    script = tmp / "driver.py"
    script.write_text(driver)
    log = tmp / "strace.log"
    proc = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-y",
            "-e",
            "trace=%file,read,pread64",
            "-o",
            str(log),
            sys.executable,
            str(script),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp,
    )
    return proc, log
