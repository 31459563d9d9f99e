"""cgocheck's own data files (``cgocheck/data/``), read from the installed package's folder.

``importlib.resources`` costs ~5 ms at import (it brings tempfile, shutil and zipfile) for
zip-safe access that cgocheck does not need: it is installed as files, and the sysroot
creation digest (cgocheck.sysroot.creator) and the matrix's tool identity hash these same
files on disk.
"""

from __future__ import annotations

import os

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def read_bytes(name: str) -> bytes:
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def read_text(name: str) -> str:
    return read_bytes(name).decode("utf-8")
