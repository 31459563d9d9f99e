#!/usr/bin/env python3
"""`inspect DIR` and `inspect DIR --sysroot S` (every file resolved) over folders of 10, 100
and 1,000 arm64 ELF files (the arm64 sysroots' /usr libraries and programs), paired run by
run against the readelf pipeline and `lddtree -R S` over the same files, and against
cgocheck itself with one process (CGOCHECK_JOBS=1). Goal: time growing linearly with the
files, both cores used (CPU time above wall time).

    .venv/bin/python benchmarks/bench_many.py [--counts 10 100 1000] [--runs 3] [--sysroot bookworm-arm64]

Nothing asserts on time. The folders are made once in benchmarks/out/ (hard links).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_resolve import check_lddtree, lddtree
from harness import machine_line, paired, ratio_text
from workloads import cgocheck, cgocheck_env, elf_folder, sysroot


def readelf_over(folder: Path) -> str:
    f = shlex.quote(str(folder))
    return (f"readelf -h -l -d -V --dyn-syms -n -W {f}/* >/dev/null 2>&1; readelf -p .comment {f}/* >/dev/null 2>&1;"
            f" readelf --debug-dump=info --dwarf-depth=1 {f}/* >/dev/null 2>&1; true")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sysroot", default="bookworm-arm64")
    a = ap.parse_args()
    root = sysroot(a.sysroot)
    env = cgocheck_env()
    one = cgocheck_env(CGOCHECK_JOBS="1")
    rows = []
    for n in a.counts:
        folder = elf_folder(n)
        names = sorted(p.name for p in folder.iterdir())
        check_lddtree(lddtree(root, *names), folder, n)
        inspect = cgocheck("inspect", "--format", "json", str(folder))
        resolve = cgocheck("inspect", "--no-dwarf", "--format", "json", "--sysroot", str(root), str(folder))
        for label, ours, yard, yard_label in (
            ("inspect DIR", inspect, readelf_over(folder), "readelf pipeline"),
            ("inspect DIR --sysroot", resolve, lddtree(root, *names), "lddtree -R"),
        ):
            ra, rb, ratios = paired(ours, yard, runs=a.runs, warmup=1, env=env, cwd=str(folder))
            rs, _, _ = paired(ours, None, runs=a.runs, warmup=0, env=one, cwd=str(folder))
            assert rb is not None
            par_vs_one = [x / y for x, y in zip(ra.wall, rs.wall, strict=False)]
            rows.append([label, n, ra.spread(), f"{ra.median() / n * 1000:.1f}", f"{ra.median('cpu'):.2f}",
                         f"{max(ra.rss_mib):.0f}", rs.spread(), ratio_text(par_vs_one), yard_label, rb.spread(),
                         ratio_text(ratios)])
    print(machine_line())
    print(tabulate(rows, headers=["command", "files", "wall s", "ms/file", "CPU s", "peak MiB",
                                  "1 process s", "pool / 1 process", "yardstick", "yardstick s", "ratio"],
                   tablefmt="github"))
    print("\ncgocheck: " + " ".join(cgocheck("inspect", "--format", "json", "DIR")) + "  and  "
          + " ".join(cgocheck("inspect", "--no-dwarf", "--format", "json", "--sysroot", "S", "DIR"))
          + "\nyardsticks: " + readelf_over(Path("DIR")) + "  and, in DIR, /usr/bin/python3 lddtree -R S *")


if __name__ == "__main__":
    main()
