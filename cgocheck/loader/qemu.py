"""qemu-user, the real dependency of running a binary for another machine: which qemu binary
runs a target (``qemu`` in cgocheck/data/targets.toml), its version, and its known limits.

A missing qemu, one that does not run (``--version`` fails), or one known not to run the
binary is an environment problem (exit 3) with the install hint of cgocheck.core.hints.

Known limits of Debian 12's qemu-user 7.2 where they matter here:

- qemu-i386 cannot run Go ``linux/386`` binaries: the Go runtime aborts at start with
  "fatal: morestack on g0" or a SIGSEGV in the runtime (measured: 30 runs in 30 for a pure Go
  binary, 29 in 30 with cgo); C programs run. cgocheck refuses such a run (exit 3) rather
  than report qemu's crash as the program's.
- Without binfmt_misc registering qemu for the target (``/proc/sys/fs/binfmt_misc``), a
  program that starts another target program (``os/exec``, ``/bin/sh`` of the sysroot, a Go
  test that re-executes itself) gets "exec format error": the host kernel cannot run it.
- ``-L SYSROOT`` makes the guest's absolute paths look in the sysroot first, and falls back
  to the host's file at the same path when the sysroot has none there. A library or loader
  the sysroot lacks can thus come from the host (multiarch folders); ``--bindings`` names
  every object loaded from outside the sysroot, and a loader missing from the sysroot is
  judged without running (the kernel of the target would not find it).
- The guest sees the host's kernel, /proc and CPU features as qemu emulates them (the
  default CPU model): a binary needing an extension qemu does not emulate fails with
  SIGILL, one that would on an older device may pass.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

from cgocheck.core import hints
from cgocheck.core.errors import EnvironmentProblem
from cgocheck.core.targets import Arch
from cgocheck.loader.runmodel import QemuInfo

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
_VERSION = re.compile(r"version (\d+(?:\.\d+)+)(.*)$")


@functools.cache
def find(name: str) -> QemuInfo:
    """The qemu-user binary NAME (qemu-aarch64 ...), checked to run. Exit 3 when missing or broken."""
    path = shutil.which(name, path=SAFE_PATH)
    if path is None:
        raise EnvironmentProblem(f"{name} not found (qemu-user runs the target's binaries); {hints.tool('qemu')}")
    try:
        proc = subprocess.run([path, "--version"], capture_output=True, text=True, errors="replace", timeout=30,
                              env={"PATH": SAFE_PATH}, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"{path} does not run ({exc}); {hints.tool('qemu')}") from None
    first = (proc.stdout.strip().splitlines() or [""])[0]
    m = _VERSION.search(first)
    if proc.returncode != 0 or m is None:
        why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise EnvironmentProblem(f"{path} does not run: {why}; {hints.tool('qemu')}")
    return QemuInfo(binary=name, path=path, version=(m[1] + m[2]).strip())


def version_key(info: QemuInfo) -> tuple[int, ...]:
    m = re.match(r"(\d+(?:\.\d+)*)", info.version)
    return tuple(int(x) for x in m[1].split(".")) if m else ()


def for_arch(arch: Arch) -> QemuInfo:
    return find(arch.qemu)


def refuse_known_limits(info: QemuInfo, arch: Arch, *, go_binary: bool) -> None:
    """Exit 3 for a run this qemu is known not to manage (the limits above)."""
    if arch.goarch == "386" and go_binary and version_key(info) < (8,):
        raise EnvironmentProblem(
            f"{info.binary} {info.version.split()[0]} cannot run Go linux/386 binaries (the Go runtime aborts with "
            f"\"fatal: morestack on g0\" under it): run them on an x86 machine, or with a newer qemu-user; "
            f"{hints.tool('qemu')}"
        )


def binfmt_registered(info: QemuInfo) -> bool:
    """Whether the kernel hands programs of qemu's machine to a qemu (binfmt_misc)."""
    folder = Path("/proc/sys/fs/binfmt_misc")
    try:
        for entry in folder.iterdir():
            if entry.name in ("register", "status"):
                continue
            text = entry.read_text(errors="replace")
            if "enabled" in text and info.binary in text:
                return True
    except OSError:
        return False
    return False
