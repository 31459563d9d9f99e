"""cgocheck's own data files (``cgocheck/data/``), read from the installed package's folder.

``importlib.resources`` costs ~5 ms at import (it brings tempfile, shutil and zipfile) for
zip-safe access that cgocheck does not need: it is installed as files, and the sysroot
creation digest (cgocheck.sysroot.creator) and the matrix's tool identity hash these same
files on disk.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def read_bytes(name: str) -> bytes:
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def read_text(name: str) -> str:
    return read_bytes(name).decode("utf-8")


def read_toml(name: str) -> dict[str, Any]:
    """A shipped TOML table, parsed (or as parsed by an earlier command: cgocheck.core.codecache)."""
    from cgocheck.core import codecache

    data = read_bytes(name)
    key = f"toml:{name}:{len(data)}:{zlib.crc32(data):08x}"
    table: dict[str, Any] | None = codecache.lookup(key)
    if not isinstance(table, dict):
        import tomllib

        table = tomllib.loads(data.decode("utf-8"))
        codecache.remember(key, table)
    return table
