#!/usr/bin/env python3
"""`cgocheck verify` as a new process against the bare hermetic build it runs, paired run by
run in the same run, on a warm Go cache. Goal: verify <= bare + 10%.

The bare build is the exact command cgocheck.build.hermetic.go_build runs (`env -i` with
the hermetic environment, `go build -x -o OUT ...`, in the package's folder), taken from a
real go_build call; both sides remove their output first, so the link really runs each
time (go build skips a link whose output is up to date). The analysis that needs no binary
(the compiler's -dumpmachine, go list, pkg-config's replay, the sysroot library index,
the analysis' imports) runs while go builds (cgocheck/commands/verify.py, SideWork).

    .venv/bin/python benchmarks/bench_verify.py [--fixture zlib] [--target linux/arm64]
        [--sysroot bookworm-arm64] [--go newest] [--runs 9]

Also prints, from one in-process verify, how long each phase took (the side work's parts
overlap the build). Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine_line, paired, ratio_text, show
from workloads import REPO, cgocheck, cgocheck_env

from cgocheck.build.hermetic import BuildRequest, go_build
from cgocheck.build.options import GoBuildOptions
from cgocheck.build.toolchains import find
from cgocheck.commands.verify import VerifyOptions, verify
from cgocheck.core.targets import parse_target
from cgocheck.sysroot import find_sysroot

LDFLAGS = "-linkmode=external"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", default="zlib")
    ap.add_argument("--target", default="linux/arm64")
    ap.add_argument("--sysroot", default="bookworm-arm64")
    ap.add_argument("--go", default="newest")
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    src = REPO / "fixtures" / "clean" / a.fixture
    target = parse_target(a.target)
    go = find(a.go)
    tmp = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    bare_out, ours_out = tmp / "bare", tmp / "verify"
    req = BuildRequest(source=src, output=bare_out, target=target, go=go, sysroot=find_sysroot(a.sysroot),
                       go_flags=(f"-ldflags={LDFLAGS}",))
    r = go_build(req)
    assert r.ok, r.log[-2000:]
    bare = f"rm -f {shlex.quote(str(bare_out))}; exec {shlex.join(r.argv)}"
    ours_cmd = cgocheck("verify", str(src), "--target", a.target, "--sysroot", a.sysroot, "--go", a.go,
                        f"--ldflags={LDFLAGS}", "--format", "json", "-o", str(ours_out))
    ours = f"rm -f {shlex.quote(str(ours_out))}; exec {shlex.join(ours_cmd)}"
    env = cgocheck_env()
    ra, rb, ratios = paired(ours, bare, runs=a.runs, warmup=2, env=env, cwd=str(src))
    assert rb is not None
    over = [x / y - 1 for x, y in zip(ra.wall, rb.wall, strict=True)]
    opts = VerifyOptions(packages=(str(src),), target=target, go=a.go, sysroot=a.sysroot,
                         build=GoBuildOptions(ldflags=LDFLAGS), output=tmp / "inproc")
    verify(opts)
    (tmp / "inproc").unlink()  # so that the link runs, as in the paired runs
    phases = verify(opts).timings
    print(machine_line())
    print(f"fixture clean/{a.fixture}, {target.name}, sysroot {a.sysroot}, Go {go.version}, warm Go cache, "
          f"{a.runs} pairs after 2 warm-ups, output removed before each run")
    print(tabulate(
        [["cgocheck verify (new process)", ra.spread(), f"{ra.median('cpu'):.2f}", f"{max(ra.rss_mib):.0f}",
          sorted(set(ra.codes))],
         ["bare hermetic go build", rb.spread(), f"{rb.median('cpu'):.2f}", f"{max(rb.rss_mib):.0f}",
          sorted(set(rb.codes))]],
        headers=["what", "wall s", "CPU s (children included)", "peak MiB", "exit codes"], tablefmt="github"))
    med = sorted(over)[len(over) // 2]
    print(f"\nverify / bare: {ratio_text(ratios)}; overhead median {med * 100:+.1f}% "
          f"(min {min(over) * 100:+.1f}%, max {max(over) * 100:+.1f}%)")
    print("\n" + tabulate([[k, f"{v:.3f}"] for k, v in phases.items()], headers=["in-process verify phase", "s"],
                          tablefmt="github"))
    print("\ncommands:\n  " + show(ours) + "\n  " + show(bare)[:300] + " ...")


if __name__ == "__main__":
    main()
