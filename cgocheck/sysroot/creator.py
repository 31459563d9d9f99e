"""Which creation code made a sysroot: a digest of that code, recorded at creation.

A sysroot made by other code (an older cgocheck, a changed recipe parser or unpacker)
proves nothing about what the current code makes: ``list`` and ``info`` flag it and
``create`` re-makes it from the cached packages.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

# The code that decides what lands in a sysroot, and the data it reads.
_PACKAGE = Path(__file__).resolve().parent
CREATION_FILES = (
    _PACKAGE / "create.py",
    _PACKAGE / "apt.py",
    _PACKAGE / "check.py",
    _PACKAGE / "fsroot.py",
    _PACKAGE / "recipe.py",
    _PACKAGE / "pkgconfig.py",
    _PACKAGE / "dpkgdb.py",
    _PACKAGE / "image.py",
    _PACKAGE.parent / "data" / "targets.toml",
)


@functools.cache
def creation_digest() -> str:
    """sha256 (first 16 hex digits) over the creation code's files, names included."""
    h = hashlib.sha256()
    for f in CREATION_FILES:
        h.update(f.name.encode() + b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]
