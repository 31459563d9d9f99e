"""Read files in a sysroot as if it were '/': symlinks are resolved *inside* it.

An absolute link target is re-rooted at the sysroot, ``..`` never climbs above the
sysroot's top (as in a chroot), chains are followed up to a limit and loops are errors.
Every path this module hands out lies under the sysroot's real path, so nothing outside
it is ever read, whatever the sysroot's links say.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from cgocheck.core import files
from cgocheck.core.errors import BadInput
from cgocheck.core.pathnames import within

MAX_LINKS = 40  # as Linux's path walk
MAX_LISTED = 100_000  # names of one folder listed; a sysroot's largest (usr/lib/<triplet>) has ~2,000


class SymlinkLoop(BadInput):
    """Too many symbolic links while resolving a path in a sysroot."""


@dataclass(frozen=True)
class Resolved:
    """Where a sysroot path really lives, and how we got there."""

    guest: str  # the path as seen from inside the sysroot, normalised ("/usr/lib/libz.so.1")
    host: Path  # the real file under the sysroot's top (no symlinks left in it)
    notes: tuple[str, ...] = ()  # re-rooted absolute links and clamped ".." walks


class FsRoot:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        top = Path(root)
        if not top.is_dir():
            raise BadInput(f"sysroot {str(root)!r} is not a directory")
        # The top itself may be a link the user chose (e.g. ~/sysroots/current): resolve once.
        self.top = Path(os.path.realpath(top))

    def __repr__(self) -> str:
        return f"FsRoot({str(self.top)!r})"

    def host_path(self, guest: str) -> Path:
        """The host path of a guest path whose components are already link-free."""
        parts = [p for p in guest.split("/") if p and p != "."]
        return Path(str(self.top) + "/" + "/".join(parts)) if parts else self.top

    def resolve(self, guest: str | PurePosixPath, *, real_dir: str | None = None) -> Resolved | None:
        """Resolve a guest path; None when it does not exist. Raises SymlinkLoop.

        ``real_dir``: a guest folder the caller knows to be link-free (it walked there without
        following links) and GUEST to lie in it: its components are not looked at again.
        """
        notes: list[str] = []
        text = str(guest)
        done: list[str] = []
        if real_dir and text.startswith(real_dir.rstrip("/") + "/"):
            done = [p for p in real_dir.split("/") if p]
            text = text[len(real_dir.rstrip("/")) + 1 :]
        todo = [p for p in reversed(text.split("/")) if p]
        top = str(self.top)
        links = 0
        while todo:
            part = todo.pop()
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                else:
                    notes.append(f"'..' above the sysroot's top in {guest} stays at the top")
                continue
            host = top + "/" + "/".join(done) + "/" + part if done else top + "/" + part
            try:
                st = os.lstat(host)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
                    return None
                raise BadInput(f"cannot read {host}: {exc.strerror}") from None
            if stat.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_LINKS:
                    raise SymlinkLoop(
                        f"symlink loop or chain longer than {MAX_LINKS} resolving {guest} in sysroot {self.top}"
                    )
                target = os.readlink(host)
                if target.startswith("/"):
                    notes.append(f"/{'/'.join([*done, part])} -> {target} (absolute, re-rooted)")
                    done = []
                todo.extend(p for p in reversed(target.split("/")) if p)
                continue
            if todo and not stat.S_ISDIR(st.st_mode):
                return None
            done.append(part)
        guest_norm = "/" + "/".join(done)
        return Resolved(guest=guest_norm, host=self.top.joinpath(*done), notes=tuple(notes))

    def exists(self, guest: str) -> bool:
        return self.resolve(guest) is not None

    def is_file(self, guest: str) -> bool:
        r = self.resolve(guest)
        return r is not None and r.host.is_file()

    def is_dir(self, guest: str) -> bool:
        r = self.resolve(guest)
        return r is not None and r.host.is_dir()

    def listdir(self, guest: str, limit: int = MAX_LISTED) -> list[str]:
        """The sorted names in a guest folder, at most LIMIT of them (see :meth:`scan`)."""
        return self.scan(guest, limit)[0]

    def scan(self, guest: str, limit: int = MAX_LISTED) -> tuple[list[str], bool]:
        """(sorted names, whether the folder held more than LIMIT): the listing stops at
        LIMIT entries, so a folder of millions costs no more than one of LIMIT."""
        r = self.resolve(guest)
        if r is None or not r.host.is_dir():
            return [], False
        names: list[str] = []
        try:
            with os.scandir(r.host) as it:
                for entry in it:
                    if len(names) >= limit:
                        return sorted(names), True
                    names.append(entry.name)
        except OSError:
            return sorted(names), False
        return sorted(names), False

    def read_bytes(self, guest: str, limits: files.Limits) -> tuple[Resolved, bytes]:
        """A regular file's bytes through :meth:`open_regular`, under the bounded reader's
        caps (:mod:`cgocheck.core.files`): a larger file is a FileProblem naming it."""
        r, f = self.open_regular(guest)
        with f:
            return r, files.read_open(f, limits, r.guest)

    def open_regular(self, guest: str) -> tuple[Resolved, BinaryIO]:
        """Open a regular file for reading, never following a link out of the sysroot.

        Device files, FIFOs and sockets are refused (reading them could hang or never end).
        """
        r = self.resolve(guest)
        if r is None:
            raise FileNotFoundError(errno.ENOENT, "no such file in sysroot", guest)
        if not stat.S_ISREG(os.lstat(r.host).st_mode):  # refused unopened: opening a device can do things
            raise BadInput(f"{r.guest} in sysroot {self.top} is not a regular file")
        fd = os.open(r.host, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise BadInput(f"{r.guest} in sysroot {self.top} is not a regular file")
            os.set_blocking(fd, True)
            return r, os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def contains(self, host_path: str | os.PathLike[str]) -> bool:
        """Is a host path (already real, no links) inside this sysroot?"""
        return within(os.path.abspath(host_path), self.top)
