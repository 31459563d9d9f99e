#!/usr/bin/env python3
"""The same cgocheck command from two trees of the code, paired run by run: this checkout
("head") against BASE (another checkout, or `git archive COMMIT | tar -x -C BASE`), each a new
process with its own tree first on PYTHONPATH and its bytecode compiled beforehand. Prints
both medians (wall and CPU) and the head/base ratio, pair by pair; the exit codes must match.

    python benchmarks/bench_versions.py --base /tmp/base [--runs 21] [--cwd DIR] -- inspect --format json BIN

Run it with an interpreter that has cgocheck's dependencies and no editable install of it
(an editable install's finder imports importlib.metadata on every start). Nothing asserts
on time.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine_line, paired, ratio_text

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, type=Path, help="the other tree (its cgocheck/ package is run)")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--cwd", default=None, help="folder the commands run in")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="-- then cgocheck's arguments")
    a = ap.parse_args()
    words = a.args[1:] if a.args[:1] == ["--"] else a.args
    if not words:
        ap.error("no cgocheck arguments (after --)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    for tree in (REPO, a.base):
        compileall.compile_dir(str(tree / "cgocheck"), quiet=1)

    def cmd(tree: Path) -> str:
        return (f"PYTHONPATH={shlex.quote(str(tree))} exec {shlex.quote(sys.executable)} -m cgocheck "
                + shlex.join(words))

    head, base, ratios = paired(cmd(REPO), cmd(a.base.resolve()), runs=a.runs, warmup=2, env=env, cwd=a.cwd)
    assert base is not None
    print(machine_line())
    print("cgocheck " + shlex.join(words))
    print(f"  head {REPO}: wall {head.spread()} CPU {head.spread('cpu')} exit {sorted(set(head.codes))}")
    print(f"  base {a.base}: wall {base.spread()} CPU {base.spread('cpu')} exit {sorted(set(base.codes))}")
    print(f"  head/base: {ratio_text(ratios)}")
    if set(head.codes) != set(base.codes):
        raise SystemExit("the two trees exited differently")


if __name__ == "__main__":
    main()
