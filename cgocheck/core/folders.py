"""The folders cgocheck owns. Nothing is ever written outside them (or the build output)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """Root of everything the tool caches: toolchains, downloads, sysroots, Go caches.

    ``CGOCHECK_HOME`` wins; otherwise ``$XDG_CACHE_HOME/cgocheck`` or ``~/.cache/cgocheck``.
    """
    env = os.environ.get("CGOCHECK_HOME")
    if env:
        return Path(env).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return (base / "cgocheck").absolute()


def downloads() -> Path:
    return home() / "downloads"


def toolchains() -> Path:
    return home() / "go"


def sysroots() -> Path:
    return home() / "sysroots"


def work() -> Path:
    return home() / "work"


def cache() -> Path:
    """Derived data cgocheck can always rebuild (the sysroot library index): safe to delete."""
    return home() / "cache"
