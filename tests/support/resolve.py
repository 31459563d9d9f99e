"""The dynamic oracle for resolve: the target's own loader, run under qemu-user in a sysroot.

`qemu-<arch> -L SYSROOT` runs the binary with LD_TRACE_LOADED_OBJECTS=1 (the loader's list of
libraries, in load order) and with LD_BIND_NOW=1 LD_DEBUG=bindings (every symbol binding the
loader makes); ``compare`` asserts cgocheck's static resolution agrees with both.

The variables reach the guest through qemu's -E: set in qemu's own environment they would
act on the host's loader running qemu itself.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cgocheck.loader.model import Resolution
from tests.support.need import need_tool

_BIND = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: (\w+) symbol `([^']+)'(?: \[([^\]]+)\])?")
_TRACE_ARROW = re.compile(r"^\s+(\S+) => (not found|\S+)(?: \(0x[0-9a-f]+\))?\s*$")
RTLD_OWN_LOOKUPS = {"calloc", "malloc", "realloc", "free"}
_TRACE_PLAIN = re.compile(r"^\s+(/\S+) \(0x[0-9a-f]+\)\s*$")


@dataclass
class Oracle:
    libraries: list[tuple[str, str | None]]  # (name, path) in load order; path None: not found
    bindings: dict[tuple[str, str], set[str]]  # (requester path, symbol) -> provider paths
    run: subprocess.CompletedProcess[str]


def qemu_run(
    qemu: str, root: Path, binary: Path, *env: str, timeout: float = 120, loader: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """BINARY under ``qemu -L ROOT`` with ENV for the guest; LOADER (a host path): run the
    loader with BINARY as its argument (a shared library). stdin is /dev/null."""
    argv = ["env", "-i", qemu, "-L", str(root)]
    for e in env:
        argv += ["-E", e]
    program = [str(loader), str(binary)] if loader is not None else [str(binary)]
    return subprocess.run(
        [*argv, *program],
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def _libraries(stdout: str) -> list[tuple[str, str | None]]:
    libs: list[tuple[str, str | None]] = []
    for line in stdout.splitlines():
        m = _TRACE_ARROW.match(line)
        if m:
            if m.group(1).startswith("linux-vdso") or m.group(1).startswith("linux-gate"):
                continue
            libs.append((m.group(1), None if m.group(2) == "not found" else m.group(2)))
            continue
        m = _TRACE_PLAIN.match(line)
        if m:
            libs.append((m.group(1), m.group(1)))
    return libs


def _bindings(stderr: str) -> dict[tuple[str, str], set[str]]:
    binds: dict[tuple[str, str], set[str]] = {}
    for line in stderr.splitlines():
        m = _BIND.search(line)
        if m:
            req, prov, _kind, sym, _ver = m.groups()
            binds.setdefault((req, sym), set()).add(prov)
    return binds


def oracle(qemu: str, root: Path, binary: Path) -> Oracle:
    """The loader's list (trace mode) and its bindings in a real run of BINARY."""
    need_tool(qemu)
    trace = qemu_run(qemu, root, binary, "LD_TRACE_LOADED_OBJECTS=1")
    run = qemu_run(qemu, root, binary, "LD_BIND_NOW=1", "LD_DEBUG=bindings")
    return Oracle(_libraries(trace.stdout), _bindings(run.stderr), run)


def trace_oracle(qemu: str, root: Path, file: Path, *, loader: Path | None = None) -> Oracle:
    """The loader's list and bindings in trace mode, nothing run (what ``ldd -r`` does:
    LD_TRACE_LOADED_OBJECTS=1 LD_WARN=1 LD_BIND_NOW=1, with LD_DEBUG=bindings): for any
    file of a sysroot, an executable (LOADER None) or a shared library given to LOADER."""
    need_tool(qemu)
    env = ("LD_TRACE_LOADED_OBJECTS=1", "LD_WARN=1", "LD_BIND_NOW=1", "LD_DEBUG=bindings")
    run = qemu_run(qemu, root, file, *env, loader=loader)
    return Oracle(_libraries(run.stdout), _bindings(run.stderr), run)


def req_path(res: Resolution, label: str, binary: Path) -> str:
    if label == res.binary:
        return str(binary)
    lib = res.library(label)
    assert lib is not None, label
    return lib.path


@dataclass
class Agreement:
    libraries: int  # libraries compared (name, path and place in the load order)
    bindings: int  # symbol bindings compared
    of_main: int  # of which the binary's own
    diffs: list[str]  # the disagreements


def differences(res: Resolution, orc: Oracle, binary: Path, *, strip: str = "") -> Agreement:
    """How cgocheck's resolution and the loader's differ. STRIP: the host path of the
    sysroot, which the loader prints where qemu-user's -L did not re-root a path."""

    def norm(p: str) -> str:
        return p[len(strip) :] if strip and p.startswith(strip) else p

    out: list[str] = []
    ours_libs = [(lib.name, lib.path) for lib in res.libraries if lib.in_scope]
    # a loader run as the program (a shared library's trace) is named by the path it ran by
    theirs = [(norm(n), norm(p) if p else None) for n, p in orc.libraries]
    # musl's ldd prints the loader first and names its builtin libc.so on its own line.
    if res.setup.flavour == "musl":
        mine, loader_s = {p for _, p in ours_libs}, {p for _, p in theirs}
        if mine != loader_s:
            out.append(f"libraries: cgocheck {sorted(mine)}, ld.so {sorted(loader_s, key=str)}")
    elif ours_libs != theirs:
        out.append(f"libraries: cgocheck {ours_libs}, ld.so {theirs}")
    main = norm(str(binary))
    ours = {(norm(req_path(res, b.requester, binary)), b.symbol): norm(b.provider_path) for b in res.bindings}
    theirs_b = {(norm(r), s): {norm(p) for p in ps} for (r, s), ps in orc.bindings.items()}
    for (r, sym), ps in theirs_b.items():
        if r == main and sym in RTLD_OWN_LOOKUPS and len(ps) > 1:
            ps.discard(main)  # ld.so's own malloc lookup found the binary's canonical PLT entry
    for key, prov in ours.items():
        if key in theirs_b and theirs_b[key] != {prov}:
            out.append(f"{key}: cgocheck {prov}, ld.so {sorted(theirs_b[key])}")
    # Every binding ld.so made for the binary's symbols (to another object) is one we predicted,
    # except ld.so's own malloc lookups, which it makes on the executable's behalf
    # (__rtld_malloc_init_real looks up calloc/malloc/realloc/free from the main map).
    loader_main = {k: v for k, v in theirs_b.items() if k[0] == main and v != {main}}
    extra = {k for k in set(loader_main) - set(ours) if k[1] not in RTLD_OWN_LOOKUPS}
    if extra:
        out.append(f"bindings ld.so made and cgocheck did not predict: {sorted(extra)}")
    # ... and every one we predicted for the binary is one ld.so made (weak ones may stay NULL).
    ours_main = {k for k in ours if k[0] == main}
    if not ours_main <= set(loader_main):
        out.append(f"bindings cgocheck predicted and ld.so did not make: {sorted(ours_main - set(loader_main))}")
    compared = sum(1 for k in ours if k in theirs_b)
    return Agreement(len(theirs), compared, len(ours_main), out)


def compare(res: Resolution, orc: Oracle, binary: Path, *, strip: str = "") -> tuple[int, int]:
    """Assert cgocheck agrees with the loader; return (bindings compared, of which the binary's)."""
    got = differences(res, orc, binary, strip=strip)
    assert not got.diffs, "\n".join(got.diffs)
    assert got.bindings >= got.of_main
    return got.bindings, got.of_main
