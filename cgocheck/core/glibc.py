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


def parse_floor(text: str) -> tuple[int, ...]:
    """'2.31' or 'GLIBC_2.31' -> (2, 31)."""
    t = text.strip()
    if t.upper().startswith("GLIBC_"):
        t = t[6:]
    if not re.fullmatch(r"\d+(\.\d+)*", t):
        raise ValueError(f"not a glibc version: {text!r}")
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
