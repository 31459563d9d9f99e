"""Sysroot folders for resolve's unit tests, assembled from the host's real libraries."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from cgocheck.elf import read_shared_object
from cgocheck.elf.model import SharedObjectFacts
from cgocheck.loader.model import Resolution
from cgocheck.loader.resolve import resolve
from cgocheck.sysroot.fsroot import FsRoot
from tests.support.host import HOST_LIBC, HOST_LOADER, HOST_TRIPLET

T = HOST_TRIPLET
HOST = {
    "loader": HOST_LOADER,
    "libc": HOST_LIBC,
    "libm": Path(f"/lib/{T}/libm.so.6"),
    "libz": Path(f"/lib/{T}/libz.so.1"),
    "exe": Path("/bin/true"),
}
ARM64_LIBM = Path("/usr/aarch64-linux-gnu/lib/libm.so.6")

BINARY = "/work/prog"  # where the executable is in the sysroot (its $ORIGIN)

HOST_OK = all(p.exists() for p in HOST.values())
HOST_REASON = "needs an x86-64 Debian host's loader, libc, libm and libz"


def put(root: Path, guest: str, src: Path) -> None:
    dst = root / guest.lstrip("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(os.path.realpath(src), dst)


def base_tree(tmp: Path, *, libc_dir: str | None = f"/usr/lib/{T}") -> Path:
    """A minimal Debian-like sysroot: usrmerge links, the loader, libc (unless None)."""
    root = tmp / "root"
    (root / "usr" / "lib" / T).mkdir(parents=True)
    os.symlink("usr/lib", root / "lib")
    put(root, f"/usr/lib/{T}/ld-linux-x86-64.so.2", HOST["loader"])
    (root / "lib64").mkdir()
    os.symlink(f"/lib/{T}/ld-linux-x86-64.so.2", root / "lib64" / "ld-linux-x86-64.so.2")
    if libc_dir:
        put(root, f"{libc_dir}/libc.so.6", HOST["libc"])
    return root


def exe_facts(**changes: object) -> SharedObjectFacts:
    facts = read_shared_object(str(HOST["exe"]))
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def run(
    root: Path,
    *,
    binary: str = BINARY,
    install_dir: str | None = None,
    glibc_floor: str | None = None,
    **changes: object,
) -> Resolution:
    """Resolve a real executable's facts with CHANGES to its dynamic tags in ROOT."""
    changes.setdefault("needed", ("libc.so.6",))
    return resolve(
        binary,
        FsRoot(root),
        exe=exe_facts(**changes),
        interpreter="/lib64/ld-linux-x86-64.so.2",
        static=False,
        install_dir=install_dir,
        glibc_floor=glibc_floor,
    )
