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


def qemu_run(qemu: str, root: Path, binary: Path, *env: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    argv = ["env", "-i", qemu, "-L", str(root)]
    for e in env:
        argv += ["-E", e]
    return subprocess.run([*argv, str(binary)], capture_output=True, text=True, timeout=timeout, check=False)


def oracle(qemu: str, root: Path, binary: Path) -> Oracle:
    need_tool(qemu)
    trace = qemu_run(qemu, root, binary, "LD_TRACE_LOADED_OBJECTS=1")
    libs: list[tuple[str, str | None]] = []
    for line in trace.stdout.splitlines():
        m = _TRACE_ARROW.match(line)
        if m:
            if m.group(1).startswith("linux-vdso") or m.group(1).startswith("linux-gate"):
                continue
            libs.append((m.group(1), None if m.group(2) == "not found" else m.group(2)))
            continue
        m = _TRACE_PLAIN.match(line)
        if m:
            libs.append((m.group(1), m.group(1)))
    run = qemu_run(qemu, root, binary, "LD_BIND_NOW=1", "LD_DEBUG=bindings")
    binds: dict[tuple[str, str], set[str]] = {}
    for line in run.stderr.splitlines():
        m = _BIND.search(line)
        if m:
            req, prov, _kind, sym, _ver = m.groups()
            binds.setdefault((req, sym), set()).add(prov)
    return Oracle(libs, binds, run)


def req_path(res: Resolution, label: str, binary: Path) -> str:
    if label == res.binary:
        return str(binary)
    lib = res.library(label)
    assert lib is not None, label
    return lib.path


def compare(res: Resolution, orc: Oracle, binary: Path, *, strip: str = "") -> tuple[int, int]:
    """Assert cgocheck agrees with the loader; return (bindings compared, of which the binary's)."""

    def norm(p: str) -> str:
        return p[len(strip) :] if strip and p.startswith(strip) else p

    ours_libs = [(lib.name, lib.path) for lib in res.libraries if lib.in_scope]
    theirs = [(n, norm(p) if p else None) for n, p in orc.libraries]
    # musl's ldd prints the loader first and names its builtin libc.so on its own line.
    if res.setup.flavour == "musl":
        assert {p for _, p in ours_libs} == {p for _, p in theirs}
    else:
        assert ours_libs == theirs
    main = str(binary)
    ours = {(req_path(res, b.requester, binary), b.symbol): b.provider_path for b in res.bindings}
    theirs_b = {(norm(r) if r != main else r, s): {norm(p) for p in ps} for (r, s), ps in orc.bindings.items()}
    for (r, sym), ps in theirs_b.items():
        if r == main and sym in RTLD_OWN_LOOKUPS and len(ps) > 1:
            ps.discard(main)  # ld.so's own malloc lookup found the binary's canonical PLT entry
    for key, prov in ours.items():
        if key in theirs_b:
            assert theirs_b[key] == {prov}, f"{key}: cgocheck {prov}, ld.so {theirs_b[key]}"
    # Every binding ld.so made for the binary's symbols (to another object) is one we predicted,
    # except ld.so's own malloc lookups, which it makes on the executable's behalf
    # (__rtld_malloc_init_real looks up calloc/malloc/realloc/free from the main map).
    loader_main = {k: v for k, v in theirs_b.items() if k[0] == main and v != {main}}
    extra = {k for k in set(loader_main) - set(ours) if k[1] not in RTLD_OWN_LOOKUPS}
    assert not extra, sorted(extra)
    # ... and every one we predicted for the binary is one ld.so made (weak ones may stay NULL).
    ours_main = {k for k in ours if k[0] == main}
    assert ours_main <= set(loader_main), sorted(ours_main - set(loader_main))
    compared = sum(1 for k in ours if k in theirs_b)
    assert compared >= len(ours_main)
    return compared, len(ours_main)
