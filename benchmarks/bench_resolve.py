#!/usr/bin/env python3
"""`cgocheck resolve BIN --sysroot S` against `lddtree -R S BIN` (pax-utils), paired run by
run in the same run, with the sysroot library index warm (entries from an earlier run),
cold (the index folder removed before each run: every library parsed and indexed) and
turned off (CGOCHECK_LIBINDEX=0: parsed, nothing written). Goal: <= 1.0x lddtree, while
resolve binds every symbol and lddtree only finds the libraries.

    .venv/bin/python benchmarks/bench_resolve.py [--fixture sqlite3] [--sysroot bookworm-arm64] [--runs 9]

lddtree is a Python script (Debian's pax-utils; it imports python3-pyelftools): it runs
with the system's /usr/bin/python3. The cold runs use a cgocheck home of their own (the
sysroot passed as a folder), so the shared index is left alone. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine_line, paired, ratio_text, show
from workloads import cgocheck, cgocheck_env, fixture_binary, sysroot


def lddtree(root: Path, *names: str) -> list[str]:
    """lddtree -R ROOT NAMES: NAMES relative to the working folder (lddtree -R reads an
    absolute path as one inside ROOT)."""
    tool = shutil.which("lddtree")
    if tool is None:
        raise SystemExit("lddtree not found: apt-get install pax-utils python3-pyelftools")
    return ["/usr/bin/python3", tool, "-R", str(root), *names]


def check_lddtree(cmd: list[str], cwd: Path, files: int) -> None:
    """The yardstick really did its work: one tree per file, each library found."""
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    trees = [line for line in p.stdout.splitlines() if line and not line.startswith(" ")]
    if p.returncode != 0 or "did not match" in p.stderr or len(trees) != files:
        raise SystemExit(f"lddtree did not do its work: exit {p.returncode}, {len(trees)} trees: {p.stderr[-500:]}")


def in_process(binary: Path, root: Path, runs: int) -> dict[str, float]:
    """The library call alone, imports done: every library parsed, or read from the index."""
    import statistics
    import time

    from cgocheck.loader import index as libindex
    from cgocheck.loader.resolve import resolve
    from cgocheck.sysroot.fsroot import FsRoot

    fs = FsRoot(root)
    out: dict[str, float] = {}
    for label, use in (("index off (every library parsed)", False), ("index warm", True)):
        times = []
        for _ in range(runs + 1):
            libindex._OPEN.clear()
            t = time.perf_counter()
            resolve(str(binary), fs, index=use)
            times.append(time.perf_counter() - t)
        out[label] = statistics.median(times[1:])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", default="sqlite3")
    ap.add_argument("--sysroot", default="bookworm-arm64")
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    binary = fixture_binary(a.fixture, sysroot_name=a.sysroot)
    root = sysroot(a.sysroot)
    yard = lddtree(root, binary.name)
    check_lddtree(yard, binary.parent, 1)
    ours = cgocheck("resolve", str(binary), "--sysroot", str(root), "--format", "json")
    cold_home = Path(tempfile.mkdtemp(prefix="bench-resolve-home-"))
    cold = f"rm -rf {shlex.quote(str(cold_home / 'cache'))}; exec {show(ours)}"
    rows = []
    for label, cmd, env in (
        ("index warm", ours, cgocheck_env()),
        ("index cold (built in the run)", cold, cgocheck_env(CGOCHECK_HOME=str(cold_home))),
        ("index off (every library parsed)", ours, cgocheck_env(CGOCHECK_LIBINDEX="0")),
    ):
        ra, rb, ratios = paired(cmd, yard, runs=a.runs, warmup=1, env=env, cwd=str(binary.parent))
        assert rb is not None
        rows.append([label, ra.spread(), rb.spread(), ratio_text(ratios), f"{ra.median('cpu'):.3f}",
                     f"{rb.median('cpu'):.3f}", f"{max(ra.rss_mib):.0f}", sorted(set(ra.codes))])
    shutil.rmtree(cold_home, ignore_errors=True)
    inproc = in_process(binary, root, a.runs * 2)
    print(machine_line())
    print(f"{binary.name} for linux/arm64 in {a.sysroot}")
    print(tabulate(rows, headers=["cgocheck resolve", "wall s", "lddtree -R s", "ratio", "CPU s", "lddtree CPU s",
                                  "peak MiB", "exit codes"], tablefmt="github"))
    print("\n" + tabulate([[k, f"{v * 1000:.1f}"] for k, v in inproc.items()],
                          headers=["resolve() in-process (median; no entry kept in memory)", "ms"], tablefmt="github"))
    print(f"\ncommands (in {binary.parent}):\n  " + show(ours) + "\n  " + show(yard) + "\n  (cold) " + cold)


if __name__ == "__main__":
    main()
