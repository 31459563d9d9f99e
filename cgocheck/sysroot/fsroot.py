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

from cgocheck.core.errors import BadInput
from cgocheck.core.pathnames import within

MAX_LINKS = 40  # as Linux's path walk


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
        rel = PurePosixPath(guest).relative_to("/") if guest.startswith("/") else PurePosixPath(guest)
        return self.top.joinpath(*rel.parts)

    def resolve(self, guest: str | PurePosixPath) -> Resolved | None:
        """Resolve a guest path; None when it does not exist. Raises SymlinkLoop."""
        notes: list[str] = []
        todo = list(reversed(PurePosixPath("/", guest).parts[1:]))
        done: list[str] = []
        links = 0
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                else:
                    notes.append(f"'..' above the sysroot's top in {guest} stays at the top")
                continue
            host = self.top.joinpath(*done, part)
            try:
                st = os.lstat(host)
            except FileNotFoundError:
                return None
            except NotADirectoryError:
                return None
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
                todo.extend(reversed(PurePosixPath(target).parts[1 if target.startswith("/") else 0 :]))
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

    def listdir(self, guest: str) -> list[str]:
        r = self.resolve(guest)
        if r is None or not r.host.is_dir():
            return []
        try:
            return sorted(os.listdir(r.host))
        except OSError:
            return []

    def open_regular(self, guest: str) -> tuple[Resolved, BinaryIO]:
        """Open a regular file for reading, never following a link out of the sysroot.

        Device files, FIFOs and sockets are refused (reading them could hang or never end).
        """
        r = self.resolve(guest)
        if r is None:
            raise FileNotFoundError(errno.ENOENT, "no such file in sysroot", guest)
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
