"""Which libc and C++ headers the C code of a build was compiled against, from where, and
which glibc (features.h) or libstdc++ (bits/c++config.h) release they belong to.

The DWARF line tables of the result's C/C++ units name every header each unit read; the
include folder of a C library is the one holding its features.h, that of libstdc++ the one
above bits/c++config.h. Each folder's version is read from those headers themselves (in a
sysroot through FsRoot, so no link leads out of it), and set against the sysroot's own.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from cgocheck.build.record import HeaderOrigin, PathContext, classify_path
from cgocheck.core import files
from cgocheck.core.errors import BadInput
from cgocheck.elf.model import DwarfUnit
from cgocheck.sysroot.fsroot import FsRoot

MAX_HEADER = 256 << 10
HEADER = files.Limits("header", MAX_HEADER)  # the version macros sit in the first lines
_GLIBC = re.compile(rb"#\s*define\s+__GLIBC__\s+(\d+)\s.*?#\s*define\s+__GLIBC_MINOR__\s+(\d+)", re.S)
_GLIBCXX = re.compile(rb"#\s*define\s+_GLIBCXX_RELEASE\s+(\d+)")


def _read(path: str, sysroot: str | None) -> bytes:
    try:
        if sysroot and (path == sysroot or path.startswith(sysroot.rstrip("/") + "/")):
            _, f = FsRoot(sysroot).open_regular("/" + posixpath.relpath(path, sysroot))
        else:
            return files.read_bytes(path, HEADER, prefix=True)  # regular files only: a FIFO never blocks
    except (OSError, BadInput):
        return b""
    with f:
        return f.read(MAX_HEADER)


def glibc_version(text: bytes) -> str | None:
    m = _GLIBC.search(text)
    return f"{int(m.group(1))}.{int(m.group(2))}" if m else None


def glibcxx_version(text: bytes) -> str | None:
    m = _GLIBCXX.search(text)
    return m.group(1).decode() if m else None


def sysroot_versions(sysroot: str | None, triplet: str) -> dict[str, str | None]:
    """The glibc and libstdc++ releases of the sysroot's own headers."""
    out: dict[str, str | None] = {"glibc": None, "libstdc++": None}
    if not sysroot:
        return out
    out["glibc"] = glibc_version(_read(f"{sysroot}/usr/include/features.h", sysroot))
    from cgocheck.build.hermetic import sysroot_cxx

    cxx = sysroot_cxx(Path(sysroot), triplet)
    if cxx is not None:
        for d in cxx.includes:
            v = glibcxx_version(_read(f"{d}/bits/c++config.h", sysroot))
            if v:
                out["libstdc++"] = v
                break
    return out


def _exists(path: str, sysroot: str | None) -> bool:
    if sysroot and (path == sysroot or path.startswith(sysroot.rstrip("/") + "/")):
        try:
            return FsRoot(sysroot).is_file("/" + posixpath.relpath(path, sysroot))
        except BadInput:
            return False
    return Path(path).is_file()


_CXX = re.compile(r"^(.*/c\+\+/\d+(?:\.\d+)*)/")
MAX_UP = 4  # folders climbed from a header to its library's include folder


Root = tuple[str, str, str]  # (library, include folder, version file)


def _root_of(header: str, ctx: PathContext, memo: dict[str, Root | None]) -> Root | None:
    """(library, include folder, version file) a header belongs to, or None."""
    m = _CXX.match(header)
    if m:
        folder = m.group(1)
        multiarch = f"/include/{ctx.target_triplet}/c++/"
        if multiarch in folder:  # .../include/<triplet>/c++/<v>: the same libstdc++ as .../include/c++/<v>
            folder = folder.replace(multiarch, "/include/c++/")
        if folder not in memo:
            v = posixpath.basename(folder)
            cands = [f"{folder}/bits/c++config.h", f"{folder}/{ctx.target_triplet}/bits/c++config.h",
                     f"{posixpath.dirname(posixpath.dirname(folder))}/{ctx.target_triplet}/c++/{v}/bits/c++config.h"]
            cfg = next((c for c in cands if _exists(c, ctx.sysroot)), None)
            memo[folder] = ("libstdc++", folder, cfg) if cfg else None
        return memo[folder]
    d = posixpath.dirname(header)
    for _ in range(MAX_UP):
        if d in memo:
            return memo[d]
        if _exists(f"{d}/features.h", ctx.sysroot):
            memo[d] = ("glibc", d, f"{d}/features.h")
            return memo[d]
        if d in ("/", "") or (d.endswith("/include") and posixpath.basename(posixpath.dirname(d)) == ""):
            break
        d = posixpath.dirname(d)
    return None


def header_origins(units: Iterable[DwarfUnit], ctx: PathContext) -> tuple[HeaderOrigin, ...]:
    """Every libc and libstdc++ include folder the C/C++ units read headers from (a header's
    library is the nearest folder above it holding features.h, or its c++/<v> folder)."""
    memo: dict[str, Root | None] = {}
    found: dict[tuple[str, str], tuple[str | None, list[str], set[str]]] = {}
    for u in units:
        if u.language not in ("C", "C++"):
            continue
        for f in u.files:
            if not f.startswith("/") or f.startswith(("/tmp/go-build", "/_/GOROOT")):
                continue
            root = _root_of(f, ctx, memo)
            if root is None:
                continue
            lib, folder, version_file = root
            if (lib, folder) not in found:
                text = _read(version_file, ctx.sysroot)
                found[(lib, folder)] = (glibc_version(text) if lib == "glibc" else glibcxx_version(text), [], set())
            _, headers, us = found[(lib, folder)]
            us.add(u.name)
            if len(headers) < 5 and f not in headers:
                headers.append(f)
    own = sysroot_versions(ctx.sysroot, ctx.target_triplet)
    return tuple(
        HeaderOrigin(lib, folder, version, classify_path(folder, ctx)[0], own[lib], tuple(headers), len(us))
        for (lib, folder), (version, headers, us) in sorted(found.items())
    )
