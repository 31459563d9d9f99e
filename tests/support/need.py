"""What a test needs from the machine: tools, Go toolchains, sysroots.

When something is missing a test skips with the reason, except under CI or CGOCHECK_STRICT=1,
where a missing tool is a failure: a green CI run must have run the real thing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cgocheck.build import toolchains
from cgocheck.core.errors import CgocheckError

STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("CGOCHECK_STRICT") == "1"
BOOTSTRAP = "run scripts/bootstrap setup"


def need(condition: bool, what: str, how: str = BOOTSTRAP) -> None:
    """Skip (locally) or fail (CI) when WHAT, which the test needs, is missing; HOW says
    how to get it."""
    if condition:
        return
    msg = f"{what} is missing: {how}"
    if STRICT:
        pytest.fail(msg)
    pytest.skip(msg)


def need_tool(name: str) -> str:
    """The path of the program NAME on PATH."""
    path = shutil.which(name)
    need(path is not None, name)
    assert path is not None
    return path


def go(spec: str) -> toolchains.GoToolchain:
    """An installed Go toolchain, found by cgocheck's own registry."""
    try:
        return toolchains.find(spec)
    except CgocheckError as err:
        need(False, f"Go {spec} ({err.message})")
        raise


def goroot(spec: str, env: str | None = None) -> Path | None:
    """The GOROOT of an installed Go toolchain, or None; ENV may name a GOROOT instead."""
    chosen = os.environ.get(env, "") if env else ""
    try:
        return toolchains.find(chosen or spec).goroot
    except CgocheckError:
        return None


def sysroot(name: str) -> Path:
    """A created Debian sysroot by recipe name, or a plain folder by absolute path (Debian's
    cross libc under /usr/<triplet>)."""
    if name.startswith("/"):
        need(Path(name, "lib").is_dir(), f"{name} (Debian's cross libc6 package)")
        return Path(name)
    from cgocheck.sysroot import find_sysroot

    try:
        return find_sysroot(name)
    except CgocheckError as err:
        need(False, f"sysroot {name} ({err.message})", f"cgocheck sysroot create {name}")
        raise
