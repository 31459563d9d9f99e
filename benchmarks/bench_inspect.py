#!/usr/bin/env python3
"""inspect time and peak memory on generated cgo binaries of about 10, 50 and 100 MB,
against the same facts taken with readelf + `go version -m` in the same run.

    .venv/bin/python benchmarks/bench_inspect.py [--sizes 10 50 100] [--target linux/arm64]

Prints a table; nothing here asserts on time. Builds are cached in benchmarks/out/.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cgocheck.build.hermetic import BuildRequest, go_build  # noqa: E402
from cgocheck.build.toolchains import find  # noqa: E402
from cgocheck.core.targets import parse_target  # noqa: E402

MB = 1 << 20
PER_PACKAGE_MB = 0.22  # measured: each generated package (150 funcs, compressed DWARF) adds about this much


def timed(cmd: list[str], *, stdout: int | None = subprocess.DEVNULL) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of a child process and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, ru.ru_maxrss / 1024


def pipeline(cmds: list[list[str]]) -> tuple[float, float]:
    total, peak = 0.0, 0.0
    for c in cmds:
        t, m = timed(c)
        total += t
        peak = max(peak, m)
    return total, peak


def build(size_mb: int, target: str) -> Path:
    out = HERE / "out"
    src = out / f"big{size_mb}"
    binary = out / f"big{size_mb}.{target.replace('/', '_')}"
    if binary.is_file():
        return binary
    packages = max(1, int((size_mb - 2.5) / PER_PACKAGE_MB))
    subprocess.run(
        [
            sys.executable,
            str(HERE / "gen_big.py"),
            str(src),
            "--packages",
            str(packages),
            "--cunits",
            str(max(10, packages // 2)),
        ],
        check=True,
    )
    r = go_build(BuildRequest(source=src, output=binary, target=parse_target(target), go=find("newest"), timeout=3600))
    if not r.ok:
        raise SystemExit(r.log[-3000:])
    print(f"built {binary.name}: {binary.stat().st_size / MB:.1f} MB in {r.seconds:.0f} s", file=sys.stderr)
    return binary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    ap.add_argument("--target", default="linux/arm64")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    go = find("newest")
    cgocheck = [sys.executable, "-m", "cgocheck"]
    rows = []
    for size in a.sizes:
        binary = build(size, a.target)
        b = str(binary)
        runs = []
        for _ in range(a.repeat):
            runs.append(
                (
                    timed([*cgocheck, "inspect", "--format", "json", "--target", a.target, b]),
                    pipeline(
                        [
                            ["readelf", "-h", "-l", "-d", "-V", "--dyn-syms", "-n", "-W", b],
                            ["readelf", "-p", ".comment", b],
                            ["readelf", "--debug-dump=info", "--dwarf-depth=1", b],
                            [str(go.go), "version", "-m", b],
                        ]
                    ),
                    pipeline([["readelf", "--debug-dump=info", b], ["readelf", "--debug-dump=line", b]]),
                )
            )
        best = [min(r[i][0] for r in runs) for i in range(3)]
        peak = [max(r[i][1] for r in runs) for i in range(3)]
        rows.append(
            [
                f"{binary.stat().st_size / MB:.0f} MB",
                f"{best[0]:.2f} s",
                f"{peak[0]:.0f} MiB",
                f"{best[1]:.2f} s",
                f"{best[0] / best[1]:.2f}",
                f"{best[2]:.2f} s",
            ]
        )
    print(
        f"# inspect benchmark: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}, best of {a.repeat}"
    )
    print(
        tabulate(
            rows,
            headers=[
                "binary",
                "cgocheck inspect",
                "peak RSS",
                "readelf (CU DIEs) + go version -m",
                "ratio",
                "readelf full DWARF dump",
            ],
        )
    )
    print(
        "\nreadelf (CU DIEs) = readelf -h -l -d -V --dyn-syms -n; -p .comment; --debug-dump=info --dwarf-depth=1;"
        " plus go version -m: the same facts cgocheck reports. The full dump decodes every DIE and line."
    )


if __name__ == "__main__":
    main()
