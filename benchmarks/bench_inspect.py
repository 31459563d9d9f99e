#!/usr/bin/env python3
"""`cgocheck inspect` of one binary against the readelf pipeline of the same facts, paired
run by run in the same run (benchmarks/harness.py), with peak memory:

- a ~2-3 MB cgo binary (fixtures/clean/sqlite3 for linux/arm64; goal <= 3x);
- a ~100 MB generated cgo binary with DWARF (gen_big.py; goal <= 1.0x, peak <= 150 MiB).

The pipeline is `readelf -h -l -d -V --dyn-syms -n -W`, `readelf -p .comment` and
`readelf --debug-dump=info --dwarf-depth=1` (the compile units' DIEs), one shell; "+ go
version -m" adds the Go build info, which cgocheck reports too.

    .venv/bin/python benchmarks/bench_inspect.py [--runs 9] [--big-runs 5] [--no-big]

Prints tables; nothing asserts on time. Binaries are built once into benchmarks/out/.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine_line, paired, ratio_text, show
from workloads import MB, big_binary, cgocheck, cgocheck_env, fixture_binary


def readelf_pipeline(binary: Path, go_version: bool = False) -> str:
    b = shlex.quote(str(binary))
    cmd = (f"readelf -h -l -d -V --dyn-syms -n -W {b}; readelf -p .comment {b}; "
           f"readelf --debug-dump=info --dwarf-depth=1 {b}")
    if go_version:
        from cgocheck.build.toolchains import find

        cmd += f"; {shlex.quote(str(find('newest').go))} version -m {b}"
    return cmd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--big-runs", type=int, default=5)
    ap.add_argument("--no-big", action="store_true")
    a = ap.parse_args()
    env = cgocheck_env()
    cases = [("sqlite3 (cgo, linux/arm64)", fixture_binary("sqlite3"), a.runs)]
    if not a.no_big:
        cases.append(("generated, DWARF (linux/arm64)", big_binary(100), a.big_runs))
    rows = []
    commands = []
    for label, binary, runs in cases:
        ours = cgocheck("inspect", "--format", "json", str(binary))
        for go in (False, True):
            pipe = readelf_pipeline(binary, go_version=go)
            ra, rb, ratios = paired(ours, pipe, runs=runs, warmup=1, env=env)
            assert rb is not None
            yard = "readelf" + (" + go version -m" if go else "")
            rows.append([f"{label}, {binary.stat().st_size / MB:.1f} MB", yard,
                         ra.spread(), rb.spread(), ratio_text(ratios), f"{ra.median('cpu'):.3f}",
                         f"{max(ra.rss_mib):.0f}", f"{max(rb.rss_mib):.0f}"])
            commands += [show(ours), pipe]
    print(machine_line())
    print(tabulate(rows, headers=["binary", "yardstick", "cgocheck inspect s", "yardstick s", "ratio",
                                  "cgocheck CPU s", "cgocheck peak MiB", "yardstick peak MiB"], tablefmt="github"))
    print("\ncommands:")
    for c in dict.fromkeys(commands):
        print("  " + c)


if __name__ == "__main__":
    main()
