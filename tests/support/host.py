"""The build host's own loader and C library (an x86-64 Debian host), which tests copy into
sysroots they assemble."""

from __future__ import annotations

from pathlib import Path

HOST_TRIPLET = "x86_64-linux-gnu"
HOST_LIBC = Path(f"/lib/{HOST_TRIPLET}/libc.so.6")
HOST_LOADER = Path("/lib64/ld-linux-x86-64.so.2")
