"""Path strings compared as paths (no file system access)."""

from __future__ import annotations

import os


def within(path: str | os.PathLike[str], top: str | os.PathLike[str]) -> bool:
    """Is ``path`` ``top`` itself or below it? ``top`` may end in '/' and may be '/' itself
    (everything absolute is within '/'); no links are followed, '..' is not interpreted."""
    p, t = os.fspath(path), os.fspath(top)
    if not t:
        return False
    t = t.rstrip("/") or "/"
    if t == "/":
        return p.startswith("/")
    return p == t or p.startswith(t + "/")
