"""Symbol version strings (GLIBC_2.34, GLIBC_PRIVATE, ...) compared as versions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

_VER = re.compile(r"^([A-Z_]+?)_?(\d+(?:\.\d+)*)$")


class _HasVersion(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str | None: ...


def split(version: str) -> tuple[str, tuple[int, ...]] | None:
    """'GLIBC_2.34' -> ('GLIBC', (2, 34)); 'GLIBC_PRIVATE' -> None."""
    m = _VER.match(version)
    if not m:
        return None
    return m.group(1), tuple(int(x) for x in m.group(2).split("."))


def key(version: str) -> tuple[int, ...]:
    parts = split(version)
    return parts[1] if parts else ()


def parse_floor(text: str, prefix: str = "GLIBC_") -> tuple[int, ...]:
    """'2.31' or 'GLIBC_2.31' -> (2, 31); with prefix GLIBCXX_: '3.4.28' or 'GLIBCXX_3.4.28'."""
    t = text.strip()
    if t.upper().startswith(prefix):
        t = t[len(prefix):]
    if not re.fullmatch(r"\d+(\.\d+)*", t):
        raise ValueError(f"not a {prefix.rstrip('_').lower()} version: {text!r}")
    return tuple(int(x) for x in t.split("."))


def fmt(v: tuple[int, ...]) -> str:
    return ".".join(str(x) for x in v)


def max_version_with_symbols(
    symbols: Iterable[_HasVersion], prefix: str = "GLIBC_"
) -> tuple[str | None, tuple[str, ...]]:
    best: tuple[int, ...] = ()
    best_name: str | None = None
    forcing: list[str] = []
    for s in symbols:
        v = s.version
        if not v or not v.startswith(prefix):
            continue
        k = key(v)
        if not k:
            continue
        if k > best:
            best, best_name, forcing = k, v, [s.name]
        elif k == best:
            forcing.append(s.name)
    return best_name, tuple(sorted(set(forcing)))


CXX_FAMILIES = ("GLIBCXX", "CXXABI", "GCC")


def cxx_versions(symbols: Iterable[_HasVersion]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The newest GLIBCXX_, CXXABI_ and GCC_ version the symbols need, and those that force it
    (the C++ runtime's and libgcc's floors, as max_version_with_symbols gives glibc's)."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    syms = list(symbols)
    for family in CXX_FAMILIES:
        newest, forcing = max_version_with_symbols(syms, prefix=f"{family}_")
        if newest:
            out[family] = (newest, forcing)
    return out
