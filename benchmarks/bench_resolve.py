#!/usr/bin/env python3
"""`resolve` of a binary and its whole DT_NEEDED closure in a Debian sysroot.

    .venv/bin/python benchmarks/bench_resolve.py [--fixture sqlite3] [--target linux/arm64]
        [--sysroot bookworm-arm64] [--runs 10]

Builds the fixture hermetically against the sysroot, then times the library call (lief
already imported: the work itself) and the whole `cgocheck resolve` command in a new
process (Python start-up and imports included). Prints a table; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cgocheck.commands.verify import VerifyOptions, verify  # noqa: E402
from cgocheck.core.targets import parse_target  # noqa: E402
from cgocheck.elf import dynamic  # noqa: E402
from cgocheck.loader.resolve import resolve  # noqa: E402
from cgocheck.sysroot import find_sysroot  # noqa: E402
from cgocheck.sysroot.fsroot import FsRoot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", default="sqlite3")
    ap.add_argument("--target", default="linux/arm64")
    ap.add_argument("--sysroot", default="bookworm-arm64")
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp()) / "app"
    verify(
        VerifyOptions(
            packages=(str(HERE.parent / "fixtures" / "clean" / a.fixture),),
            target=parse_target(a.target),
            sysroot=a.sysroot,
            output=out,
            resolve=False,
        )
    )
    root = FsRoot(find_sysroot(a.sysroot))
    dynamic._lief_module()
    res = resolve(str(out), root, target=parse_target(a.target))
    calls = []
    for _ in range(a.runs):
        t = time.perf_counter()
        resolve(str(out), root, target=parse_target(a.target))
        calls.append(time.perf_counter() - t)
    cli = []
    for _ in range(max(3, a.runs // 3)):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cgocheck", "resolve", str(out), "--sysroot", a.sysroot, "--format", "json"],
            capture_output=True,
            check=False,
        )
        cli.append(time.perf_counter() - t)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import lief"], check=True)
    lief_import = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python = time.perf_counter() - t
    print(f"# resolve benchmark: {a.fixture} for {a.target} in {a.sysroot}, {time.strftime('%Y-%m-%d')}")
    print(
        tabulate(
            [
                ["libraries in the closure", len(res.libraries)],
                ["symbol bindings", len(res.bindings)],
                ["resolve() in-process, median", f"{statistics.median(calls) * 1000:.0f} ms"],
                ["cgocheck resolve (new process), median", f"{statistics.median(cli):.2f} s"],
                ["  of which: python -c 'import lief'", f"{lief_import:.2f} s"],
                ["  of which: python -c pass", f"{python:.2f} s"],
            ],
            tablefmt="simple",
            headers=["what", "value"],
        )
    )


if __name__ == "__main__":
    main()
