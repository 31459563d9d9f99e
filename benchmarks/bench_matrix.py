#!/usr/bin/env python3
"""A 12-cell matrix (2 Go versions x 3 targets x 2 compiler presets) cold, and as an
unchanged rerun from the result cache.

    .venv/bin/python benchmarks/bench_matrix.py [--fixture libc]

"cold" means no cached result (a fresh copy of the fixture, so its tree digest is new); Go's
own build cache is warm, as it is on a developer's machine or a CI runner with a cache.
Prints a table; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
ARGS = [
    "--go",
    "1.19",
    "--go",
    "newest",
    "-t",
    "linux/arm64",
    "-t",
    "linux/arm/v7",
    "-t",
    "linux/amd64",
    "--cc",
    "gcc",
    "--cc",
    "clang",
    "--format",
    "json",
    "-o",
    os.devnull,
]


def run(mod: Path) -> float:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cgocheck", "matrix", *ARGS], cwd=mod, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr[-2000:])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", default="libc")
    a = ap.parse_args()
    mod = Path(tempfile.mkdtemp()) / "mod"
    shutil.copytree(HERE.parent / "fixtures" / "clean" / a.fixture, mod)
    (mod / "cgocheck.toml").write_text(f"# benchmark {time.time()}\n")  # a new tree: nothing cached
    cold = run(mod)
    warm = [run(mod) for _ in range(3)]
    (mod / "main.go").write_text((mod / "main.go").read_text() + "\n// touched\n")
    touched = run(mod)
    print(f"# matrix benchmark: 12 cells, fixture {a.fixture}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print(
        tabulate(
            [
                ["cold (no cached result, Go cache warm)", f"{cold:.1f} s"],
                ["unchanged rerun (best of 3)", f"{min(warm):.2f} s"],
                ["after touching one source file (every cell builds that tree)", f"{touched:.1f} s"],
            ],
            headers=["run", "wall time"],
        )
    )


if __name__ == "__main__":
    main()
