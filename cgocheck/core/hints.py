"""Install hints: the one place that names packages for the user to install.

Every hint cgocheck prints names packages that exist (Debian 12's apt, PyPI) or a cgocheck
command; :func:`all_apt_packages` lists every Debian package a hint can name, and the tests
check each with ``apt-cache show``. Nothing else in cgocheck spells ``apt-get install``.
"""

from __future__ import annotations

import platform
import shlex
from pathlib import Path

# Debian names a cross compiler's package after its triplet, '_' spelled '-':
# the command aarch64-linux-gnu-gcc comes from gcc-aarch64-linux-gnu, ...-g++ from g++-...
_NATIVE = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}

# fixed hints: what they are for -> Debian packages
TOOLS: dict[str, tuple[str, ...]] = {
    "clang": ("clang", "lld"),
    "gcc": ("gcc",),
    "g++": ("g++",),
    "apt": ("apt",),
    "dpkg": ("dpkg",),
    "tar": ("tar",),
    "pkg-config": ("pkg-config",),
    "qemu": ("qemu-user",),
    "readelf": ("binutils",),
}


def apt(*packages: str) -> str:
    return f"run: apt-get install {' '.join(packages)}"


def host_triplet() -> str:
    return _NATIVE.get(platform.machine(), f"{platform.machine()}-linux-gnu")


def cross_packages(triplet: str, cxx: bool = False) -> tuple[str, ...] | None:
    """The Debian package with ``<triplet>-gcc`` (or ``-g++``), None where Debian has none
    (musl triplets: Debian builds no cross compiler for them)."""
    if "musl" in triplet:
        return None
    from cgocheck.core.targets import all_arches

    if triplet not in {a.triplets["glibc"] for a in all_arches()}:
        return None
    if triplet == host_triplet():
        return ("g++",) if cxx else ("gcc",)
    return (f"{'g++' if cxx else 'gcc'}-{triplet.replace('_', '-')}",)


def compiler(cc: str) -> str:
    """What to run when the C or C++ compiler ``cc`` (a command line) is missing."""
    words = shlex.split(cc)
    name = Path(words[0]).name if words else cc
    for suffix, cxx in (("-gcc", False), ("-g++", True)):
        if name.endswith(suffix):
            triplet = name[: -len(suffix)]
            pkgs = cross_packages(triplet, cxx)
            if pkgs is None and "musl" not in triplet:
                return f"install it, or name another with --cc-path ({triplet} is no target cgocheck knows)"
            if pkgs is None:
                return (
                    f"Debian has no {name}: use --cc clang (with a musl sysroot) or --cc zig "
                    f"(pip install ziglang), or name one with --cc-path"
                )
            return apt(*pkgs)
    if name.startswith("clang"):
        return apt(*TOOLS["clang"])
    if name in ("gcc", "cc"):
        return apt(*TOOLS["gcc"])
    if name in ("g++", "c++"):
        return apt(*TOOLS["g++"])
    return "install it or name another with --cc-path"


def tool(what: str) -> str:
    return apt(*TOOLS[what])


def all_apt_packages() -> dict[str, str]:
    """Every Debian package a hint can name -> the hint that names it (for the tests)."""
    from cgocheck.core.targets import all_arches

    out: dict[str, str] = {}
    for a in all_arches():
        for flavour in ("glibc", "musl"):
            t = a.triplets[flavour]
            for cxx in (False, True):
                pkgs = cross_packages(t, cxx)
                for p in pkgs or ():
                    out[p] = compiler(f"{t}-{'g++' if cxx else 'gcc'}")
    for what, pkgs in TOOLS.items():
        for p in pkgs:
            out[p] = tool(what)
    return out
