#!/usr/bin/env python3
"""What `cgocheck verify` adds over the bare hermetic `go build` it runs, with a warm Go cache.

    .venv/bin/python benchmarks/bench_verify.py [--fixture zlib] [--target linux/arm64]
        [--sysroot bookworm-arm64] [--go newest] [--runs 5]

Both sides build the same package for the same target with the same sysroot and flags,
into a fresh output path each run (so the link really runs), after one warm-up run each.
"bare" is cgocheck.build.hermetic.go_build alone; "verify" is the whole command in-process (CC and
pkg-config wrappers, go list in parallel, -dumpmachine, ELF/DWARF reading, pkg-config
replay and host comparison, checks, and resolve unless --no-resolve), and the same as a
separate `cgocheck verify` process (which adds Python's start-up and imports).
Prints a table of medians; nothing asserts on time.
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

from cgocheck.build.hermetic import BuildRequest, go_build  # noqa: E402
from cgocheck.build.options import GoBuildOptions  # noqa: E402
from cgocheck.build.toolchains import find  # noqa: E402
from cgocheck.commands.verify import VerifyOptions, verify  # noqa: E402
from cgocheck.core.targets import parse_target  # noqa: E402
from cgocheck.sysroot import find_sysroot  # noqa: E402

LDFLAGS = "-linkmode=external"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", default="zlib")
    ap.add_argument("--target", default="linux/arm64")
    ap.add_argument("--sysroot", default="bookworm-arm64")
    ap.add_argument("--go", default="newest")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    src = HERE.parent / "fixtures" / "clean" / args.fixture
    target = parse_target(args.target)
    go = find(args.go)
    sysroot = find_sysroot(args.sysroot)
    tmp = Path(tempfile.mkdtemp(prefix="bench-verify-"))

    def bare(i: int) -> float:
        req = BuildRequest(
            source=src,
            output=tmp / f"bare-{i}",
            target=target,
            go=go,
            sysroot=sysroot,
            go_flags=(f"-ldflags={LDFLAGS}",),
        )
        t = time.perf_counter()
        r = go_build(req)
        dt = time.perf_counter() - t
        assert r.ok, r.log[-2000:]
        return dt

    phases: dict[str, list[float]] = {}

    def full(i: int, resolve: bool) -> float:
        opts = VerifyOptions(
            packages=(str(src),),
            target=target,
            go=args.go,
            sysroot=args.sysroot,
            build=GoBuildOptions(ldflags=LDFLAGS),
            output=tmp / f"verify-{resolve}-{i}",
            resolve=resolve,
        )
        t = time.perf_counter()
        r = verify(opts)
        dt = time.perf_counter() - t
        assert r.record.ok, r.record.log_tail
        if resolve:
            for k, v in r.timings.items():
                phases.setdefault(k, []).append(v)
        return dt

    def process(i: int) -> float:
        cmd = [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            str(src),
            "--target",
            args.target,
            "--sysroot",
            args.sysroot,
            "--go",
            args.go,
            f"--ldflags={LDFLAGS}",
            "--format",
            "json",
            "-o",
            str(tmp / f"cli-{i}"),
        ]
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, check=False)
        dt = time.perf_counter() - t
        assert p.returncode == 0, p.stderr[-2000:]
        return dt

    # warm-up: fills Go's cache for both CC values (the wrapper's path is part of Go's key)
    bare(-1)
    full(-1, True)
    phases.clear()
    rows_b, rows_v, rows_n, rows_p = [], [], [], []
    for i in range(args.runs):  # interleaved, so drift hits both sides alike
        rows_b.append(bare(i))
        rows_v.append(full(i, True))
        rows_n.append(full(i, False))
        rows_p.append(process(i))
    b = statistics.median(rows_b)

    def row(name: str, xs: list[float]) -> list[str]:
        m = statistics.median(xs)
        return [name, f"{m:.3f}", f"{min(xs):.3f}", f"{m - b:+.3f}", f"{(m - b) / b * 100:+.1f}%"]

    print(
        f"fixture clean/{args.fixture}, {target.name}, sysroot {args.sysroot}, Go {go.version}, "
        f"{args.runs} runs after a warm-up, fresh output each run"
    )
    print(
        tabulate(
            [
                row("bare hermetic go build", rows_b),
                row("verify (in-process)", rows_v),
                row("verify --no-resolve (in-process)", rows_n),
                row("cgocheck verify (new process)", rows_p),
            ],
            headers=["what", "median s", "min s", "over bare", "overhead"],
            tablefmt="simple",
        )
    )
    print()
    print(
        tabulate(
            [[k, f"{statistics.median(v):.3f}"] for k, v in phases.items()],
            headers=["verify phase", "median s"],
            tablefmt="simple",
        )
    )


if __name__ == "__main__":
    main()
