"""A CGOCHECK_HOME of a test's own."""

from __future__ import annotations

import os
from pathlib import Path

from cgocheck.core import folders


def private_home(home: Path, share: tuple[str, ...] = ("downloads", "apt")) -> Path:
    """Make HOME, a cgocheck home of the test's own (results, work folders, sysroots it
    creates), sharing the real home's SHARE folders through symlinks: downloads and apt lists,
    or toolchains (go), the Go build cache (gocache) and sysroots. Nothing is downloaded
    again, nothing copied; a shared folder missing in the real home is made there first."""
    real = folders.home()
    home.mkdir(parents=True)
    for name in share:
        (real / name).mkdir(parents=True, exist_ok=True)
        os.symlink(real / name, home / name)
    return home
