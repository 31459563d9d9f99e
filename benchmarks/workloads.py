"""What the benchmarks measure on, made once and kept in benchmarks/out/: the cgo binaries
(fixtures built hermetically by cgocheck, a generated ~100 MB one), folders of N arm64 ELF
files taken from the arm64 sysroots (hard links), and how cgocheck is started.

cgocheck is run as `python -m cgocheck` with the package's bytecode compiled beforehand and
PYTHONDONTWRITEBYTECODE dropped from the environment: an installed wheel has its .pyc
files, and a process that compiles 100 modules from source on every start measures the
compiler, not cgocheck.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(REPO))

from cgocheck.core import folders  # noqa: E402

MB = 1 << 20


def cgocheck_env(**extra: str) -> dict[str, str]:
    """The environment cgocheck runs in: this checkout first on the path, bytecode allowed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    compileall.compile_dir(str(REPO / "cgocheck"), quiet=1)
    return env


def cgocheck(*args: str) -> list[str]:
    """The command a user types: the wheel's console script beside this interpreter (it runs
    the checkout's code, first on PYTHONPATH), else ``python -m cgocheck``, which also pays
    for runpy and importlib.util (~4 ms)."""
    script = Path(sys.executable).with_name("cgocheck")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), *args]
    return [sys.executable, "-m", "cgocheck", *args]


def sysroot(name: str) -> Path:
    return folders.sysroots() / name


def fixture_binary(fixture: str, target: str = "linux/arm64", sysroot_name: str = "bookworm-arm64") -> Path:
    """fixtures/clean/FIXTURE built for TARGET against SYSROOT (cgocheck verify), cached."""
    out = OUT / f"{fixture}.{target.replace('/', '_')}"
    if out.is_file():
        return out
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        cgocheck("verify", str(REPO / "fixtures" / "clean" / fixture), "--target", target, "--sysroot",
                 sysroot_name, "--format", "json", "-o", str(out)),
        env=cgocheck_env(), stdout=subprocess.DEVNULL, check=True,
    )
    return out


PER_PACKAGE_MB = 0.22  # measured: each generated package (150 funcs, compressed DWARF) adds about this much


def big_binary(size_mb: int = 100, target: str = "linux/arm64") -> Path:
    """A generated cgo module of about SIZE_MB with Go's default (compressed) DWARF, many Go
    packages and C units (gen_big.py), built hermetically once (minutes for 100 MB)."""
    from cgocheck.build.hermetic import BuildRequest, go_build
    from cgocheck.build.toolchains import find
    from cgocheck.core.targets import parse_target

    src = OUT / f"big{size_mb}"
    binary = OUT / f"big{size_mb}.{target.replace('/', '_')}"
    if binary.is_file():
        return binary
    packages = max(1, int((size_mb - 2.5) / PER_PACKAGE_MB))
    subprocess.run([sys.executable, str(HERE / "gen_big.py"), str(src), "--packages", str(packages),
                    "--cunits", str(max(10, packages // 2))], check=True)
    r = go_build(BuildRequest(source=src, output=binary, target=parse_target(target), go=find("newest"),
                              timeout=3600))
    if not r.ok:
        raise SystemExit(r.log[-3000:])
    print(f"built {binary.name}: {binary.stat().st_size / MB:.1f} MB in {r.seconds:.0f} s", file=sys.stderr)
    return binary


SYSROOTS_ARM64 = ("bookworm-arm64", "bullseye-arm64", "trixie-arm64")


def _arm64_pool() -> list[Path]:
    pool: list[Path] = []
    for name in SYSROOTS_ARM64:
        top = sysroot(name)
        for sub in ("usr/lib", "usr/bin", "usr/sbin", "usr/libexec"):
            for root, dirs, names in os.walk(top / sub):
                dirs.sort()
                for n in sorted(names):
                    p = Path(root) / n
                    if p.is_symlink() or not p.is_file():
                        continue
                    with open(p, "rb") as f:
                        if f.read(4) == b"\x7fELF":
                            pool.append(p)
    return pool


def elf_folder(n: int) -> Path:
    """A folder of N arm64 ELF files (libraries and programs of the arm64 sysroots' /usr,
    hard-linked; past the ~950 they have, the first ones again under other names)."""
    d = OUT / f"elves-{n}"
    if d.is_dir() and len(list(d.iterdir())) == n:
        return d
    pool = _arm64_pool()
    if not pool:
        raise SystemExit("no arm64 sysroot: cgocheck sysroot create bookworm-arm64")
    tmp = Path(tempfile.mkdtemp(dir=OUT, prefix=".elves-"))
    for i in range(n):
        src = pool[i % len(pool)]
        dst = tmp / f"{i:04d}-{src.name}"
        try:
            os.link(src, dst)
        except OSError:
            dst.write_bytes(src.read_bytes())
    if d.exists():
        import shutil

        shutil.rmtree(d)
    tmp.rename(d)
    return d
