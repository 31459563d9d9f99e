#!/usr/bin/env python3
"""Generate a large stdlib-only cgo module: many Go packages and C units, all with DWARF.

    python benchmarks/gen_big.py OUT_DIR --packages 200 --funcs 150 --cunits 100

Each Go package has `funcs` functions with switch-heavy bodies (code and DWARF grow with
them) and a table of string constants; each C unit has functions called through cgo
from one package. The result is a normal module: `go build` it with cgocheck's hermetic
build (see bench_inspect.py).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path


def go_package(i: int, funcs: int, rng: random.Random) -> str:
    lines = [f"package p{i}", "", 'import "strconv"', ""]
    lines.append(f"var Names{i} = []string{{")
    for j in range(funcs):
        lines.append(f'\t"p{i}-name-{j}-{rng.getrandbits(64):016x}",')
    lines.append("}")
    for j in range(funcs):
        lines.append(f"func F{j}(x int) string {{")
        lines.append("\tswitch x % 8 {")
        for k in range(8):
            lines.append(f"\tcase {k}:")
            lines.append(f"\t\treturn strconv.Itoa(x*{rng.randint(2, 999)}+{k}) + Names{i}[{j}]")
        lines.append("\t}")
        lines.append('\treturn ""')
        lines.append("}")
    lines.append("func All(x int) int {\n\tn := 0")
    for j in range(funcs):
        lines.append(f"\tn += len(F{j}(x))")
    lines.append("\treturn n\n}")
    return "\n".join(lines) + "\n"


def c_unit(i: int, funcs: int) -> str:
    out = ["#include <stdlib.h>", "#include <string.h>", "#include <stdio.h>", ""]
    for j in range(funcs):
        out.append(
            f'int cunit{i}_f{j}(int x) {{ char b[32]; snprintf(b, sizeof b, "%d-{i}-{j}", x * {j + 3});'
            f" return (int)strlen(b) + abs(x - {j}); }}"
        )
    out.append(f"int cunit{i}_all(int x) {{ int n = 0;")
    for j in range(funcs):
        out.append(f"  n += cunit{i}_f{j}(x);")
    out.append("  return n; }")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--packages", type=int, default=200)
    ap.add_argument("--funcs", type=int, default=150)
    ap.add_argument("--cunits", type=int, default=100)
    ap.add_argument("--cfuncs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    root: Path = a.out
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text("module example.com/big\n\ngo 1.19\n")
    for i in range(a.packages):
        d = root / f"p{i}"
        d.mkdir(exist_ok=True)
        (d / "p.go").write_text(go_package(i, a.funcs, rng))
    cg = root / "cside"
    cg.mkdir(exist_ok=True)
    decls = []
    for i in range(a.cunits):
        (cg / f"unit{i}.c").write_text(c_unit(i, a.cfuncs))
        decls.append(f"int cunit{i}_all(int x);")
    calls = "\n".join(f"\tn += int(C.cunit{i}_all(C.int(x)))" for i in range(a.cunits))
    (cg / "cside.go").write_text(
        "package cside\n\n/*\n"
        + "\n".join(decls)
        + '\n*/\nimport "C"\n\nfunc All(x int) int {\n\tn := 0\n'
        + calls
        + "\n\treturn n\n}\n"
    )
    imports = "\n".join(f'\tp{i} "example.com/big/p{i}"' for i in range(a.packages))
    uses = "\n".join(f"\tn += p{i}.All(len(os.Args))" for i in range(a.packages))
    (root / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\t"os"\n\n\t"example.com/big/cside"\n'
        + imports
        + "\n)\n\nfunc main() {\n\tn := cside.All(len(os.Args))\n"
        + uses
        + "\n\tfmt.Println(n)\n}\n"
    )


if __name__ == "__main__":
    main()
