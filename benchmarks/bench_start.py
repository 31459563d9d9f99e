#!/usr/bin/env python3
"""Start-up: `cgocheck --version`, `--help` and a command's `--help` against a Python that
imports click (the yardstick of issue 16: <= 1.5x), paired run by run.

    .venv/bin/python benchmarks/bench_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine_line, paired, ratio_text
from workloads import cgocheck, cgocheck_env


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    py = sys.executable
    base = [py, "-c", "import click"]
    env = cgocheck_env()
    rows = []
    for words in (["--version"], ["--help"], ["inspect", "--help"], ["sysroot", "list", "--help"]):
        ra, rb, ratios = paired(cgocheck(*words), base, runs=a.runs, warmup=2, env=env)
        assert rb is not None
        rows.append([f"cgocheck {' '.join(words)}", ra.spread(), rb.spread(), ratio_text(ratios),
                     f"{ra.median('rss_mib'):.0f}"])
    print(machine_line())
    print(tabulate(rows, headers=["command", "wall s", "python -c 'import click' s", "ratio", "peak MiB"],
                   tablefmt="github"))


if __name__ == "__main__":
    main()
