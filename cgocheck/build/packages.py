"""What `go build` is asked to build: the module it runs in, the package arguments (folders,
import paths, patterns such as ./... and ./cmd/...), and the main packages they name."""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cgocheck.core.errors import BadInput

_MAJOR = ("v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9")


def module_root(source: Path) -> Path:
    """The folder holding go.mod at or above ``source`` (or ``source`` itself)."""
    p = source.absolute()
    for d in (p, *p.parents):
        if (d / "go.mod").is_file():
            return d
    return p


def _one(package: str, cwd: Path) -> tuple[Path, str]:
    """(module root, argument relative to it) of one package argument."""
    base, dots, _ = package.partition("...")
    folder = base.rstrip("/") if dots else package
    p = Path(folder) if os.path.isabs(folder) else cwd / (folder or ".")
    if p.is_dir():
        root = module_root(p)
        rel = os.path.relpath(p.absolute(), root).replace(os.sep, "/")
        arg = "." if rel == "." else "./" + rel
        if dots:
            arg = "./..." if arg == "." else f"{arg}/..."
        return root, arg
    if package.startswith((".", "/")):
        raise BadInput(f"package folder {folder or package} does not exist")
    return module_root(cwd), package  # an import path, resolved by go in the module of cwd


def locate(packages: Sequence[str], cwd: Path) -> tuple[Path, tuple[str, ...]]:
    """(folder go runs in, package arguments) for the user's arguments; all in one module."""
    if not packages:
        raise BadInput("no package to build")
    found = [_one(p, cwd) for p in packages]
    roots = {r for r, _ in found}
    if len(roots) > 1:
        raise BadInput(f"the packages lie in different modules ({', '.join(sorted(map(str, roots)))}): verify each")
    return found[0][0], tuple(a for _, a in found)


def is_pattern(args: Sequence[str]) -> bool:
    return len(args) > 1 or any("..." in a for a in args)


@dataclass(frozen=True)
class MainPackage:
    import_path: str
    dir: str
    binary: str  # the file name `go build -o DIR/` writes for it


def binary_name(import_path: str) -> str:
    """The name `go build -o DIR/` gives a main package's binary (cmd/go's DefaultExecName:
    the last path element, or the one before a /vN major-version suffix)."""
    elem = posixpath.basename(import_path)
    if elem in _MAJOR and "/" in import_path:
        elem = posixpath.basename(posixpath.dirname(import_path))
    return elem


def test_packages(
    go: Path, env: Mapping[str, str], cwd: Path, args: Sequence[str], flags: Sequence[str], timeout: float
) -> tuple[tuple[MainPackage, ...], str]:
    """The packages ARGS name that have tests (``go list``), each with the file name
    ``go test -c -o DIR/`` gives its test binary, and go's error text if it failed."""
    build_flags = [f for f in flags if f.startswith(("-tags", "-mod", "-overlay"))]
    fmt = "{{.Name}}\t{{.ImportPath}}\t{{.Dir}}\t{{.Error}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}"
    try:
        proc = subprocess.run(
            [str(go), "list", *build_flags, "-e", "-f", fmt, *args],
            env=dict(env), cwd=cwd, capture_output=True, text=True, errors="replace", timeout=min(300, timeout),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return (), "go list did not finish"
    found: list[MainPackage] = []
    errors: list[str] = []
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 6:
            continue
        name, ip, d, err, tests, xtests = parts
        if err and err != "<nil>":
            errors.append(err)
        if tests != "0" or xtests != "0":
            elem = name if ip == "command-line-arguments" else binary_name(ip)
            found.append(MainPackage(ip, d, elem + ".test"))
    if proc.returncode != 0 and not errors:
        errors.append(proc.stderr.strip()[-2000:])
    return tuple(found), "\n".join(errors)


def main_packages(
    go: Path, env: Mapping[str, str], cwd: Path, args: Sequence[str], flags: Sequence[str], timeout: float
) -> tuple[tuple[MainPackage, ...], str]:
    """The main packages ARGS name (``go list``), and go's error text if it failed."""
    build_flags = [f for f in flags if f.startswith(("-tags", "-mod", "-overlay"))]
    try:
        proc = subprocess.run(
            [str(go), "list", *build_flags, "-e", "-f", "{{.Name}}\t{{.ImportPath}}\t{{.Dir}}\t{{.Error}}", *args],
            env=dict(env), cwd=cwd, capture_output=True, text=True, errors="replace", timeout=min(300, timeout),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return (), "go list did not finish"
    mains: list[MainPackage] = []
    errors: list[str] = []
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 4:
            continue
        name, ip, d, err = parts
        if err and err != "<nil>":
            errors.append(err)
        if name == "main":
            mains.append(MainPackage(ip, d, binary_name(ip)))
    if proc.returncode != 0 and not errors:
        errors.append(proc.stderr.strip()[-2000:])
    return tuple(mains), "\n".join(errors)
