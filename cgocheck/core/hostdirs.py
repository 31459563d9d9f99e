"""Is a path the build host's, the target's, or the toolchain's? Shared by every check
that looks at include folders, library folders and run paths."""

from __future__ import annotations

import platform
import posixpath

# The machine cgocheck runs on builds for itself with these triplets.
_HOST_TRIPLETS = {
    "x86_64": ("x86_64-linux-gnu", "x86_64-linux-musl"),
    "aarch64": ("aarch64-linux-gnu", "aarch64-linux-musl"),
    "riscv64": ("riscv64-linux-gnu",),
    "ppc64le": ("powerpc64le-linux-gnu",),
    "s390x": ("s390x-linux-gnu",),
}

TEMP_PREFIXES = ("/tmp/", "/var/tmp/", "/dev/shm/")
HOME_PREFIXES = ("/home/", "/root/", "/Users/")
LOCAL_PREFIXES = ("/usr/local/", "/opt/homebrew/")


def host_triplets() -> tuple[str, ...]:
    return _HOST_TRIPLETS.get(platform.machine(), ())


def norm(path: str) -> str:
    return posixpath.normpath(path) + ("/" if not path.endswith("/") else "")


def target_default_dirs(triplet: str) -> tuple[str, ...]:
    return (
        f"/lib/{triplet}/",
        f"/usr/lib/{triplet}/",
        "/lib/",
        "/usr/lib/",
        "/lib64/",
        "/usr/lib64/",
        "/lib32/",
        "/usr/lib32/",
    )


def host_reason(path: str, *, target_triplet: str | None = None, sysroot: str | None = None) -> str | None:
    """Why this absolute path belongs to the build host and not the target, or None."""
    p = norm(path)
    if sysroot:
        top = norm(sysroot)
        if p.startswith(top):
            return f"inside the build machine's sysroot {sysroot}"
    for trip in host_triplets():
        if trip != target_triplet and f"/{trip}/" in p:
            return f"the build host's multiarch folder ({trip})"
    if p.startswith(TEMP_PREFIXES):
        return "a temporary folder on the build host"
    if p.startswith(HOME_PREFIXES):
        return "a home folder on the build host"
    if p.startswith(LOCAL_PREFIXES):
        return "/usr/local on the build host"
    if "/sysroot" in p or "/.cache/" in p:
        return "a build-machine folder (sysroot or cache)"
    return None
