"""A sysroot's own metadata (``.cgocheck/``), read without following a link anywhere.

``sysroot create`` writes ``.cgocheck/`` into the sysroot: ``creating`` while it works, then
``lock.json``, ``digest``, ``meta.json`` and, last, ``complete``. Whether a folder counts as
a complete sysroot, which packages it holds and which code made it is decided by these
files, so they must be the sysroot's own: a ``.cgocheck`` that is a symbolic link (to a
folder of another sysroot, or anywhere on the host), or a ``complete`` that is one, is not
metadata. Every access here opens the sysroot's top once and walks ``.cgocheck`` and the
file relative to it with ``O_NOFOLLOW`` (openat), and reads through the bounded reader.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cgocheck.core import files

META_DIR = ".cgocheck"
COMPLETE = "complete"
CREATING = "creating"


class LinkedMetadata(Exception):
    """``.cgocheck`` (or a file in it) is there but a link or not what it must be."""


@contextlib.contextmanager
def _meta_fd(top: str | os.PathLike[str]) -> Iterator[int | None]:
    """An fd of TOP/.cgocheck when it is a real folder (not a link); None when absent.
    Raises LinkedMetadata when it is a link or not a folder."""
    try:
        top_fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield None
        return
    try:
        try:
            fd = os.open(META_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=top_fd)
        except FileNotFoundError:
            yield None
            return
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise LinkedMetadata(f"{META_DIR} is a link or not a folder") from None
            yield None
            return
        try:
            yield fd
        finally:
            os.close(fd)
    finally:
        os.close(top_fd)


def state(top: str | os.PathLike[str]) -> str:
    """"none" (no ``.cgocheck/``: not made by cgocheck), "complete", "incomplete" (a real
    ``.cgocheck/`` without a regular ``complete`` in it), or "linked" (``.cgocheck`` is a link
    or not a folder: not trusted, treated as incomplete by callers that refuse)."""
    try:
        with _meta_fd(top) as fd:
            if fd is None:
                return "none"
            try:
                st = os.stat(COMPLETE, dir_fd=fd, follow_symlinks=False)
            except OSError:
                return "incomplete"
            return "complete" if stat.S_ISREG(st.st_mode) else "incomplete"
    except LinkedMetadata:
        return "linked"


def has_meta_dir(top: str | os.PathLike[str]) -> bool:
    """Is there a ``.cgocheck`` entry at all (a link counts: it makes the folder suspect)."""
    return os.path.lexists(Path(top) / META_DIR)


def is_complete(top: str | os.PathLike[str]) -> bool:
    return state(top) == "complete"


def read_meta_bytes(top: str | os.PathLike[str], name: str, limits: files.Limits = files.META) -> bytes | None:
    """The bytes of ``.cgocheck/NAME``; None when it is absent, a link, or unreadable."""
    try:
        with _meta_fd(top) as fd:
            if fd is None:
                return None
            return files.read_bytes(name, limits, dir_fd=fd, follow=False, label=Path(top) / META_DIR / name)
    except (LinkedMetadata, files.FileProblem):
        return None


def read_meta_text(top: str | os.PathLike[str], name: str, limits: files.Limits = files.META) -> str | None:
    data = read_meta_bytes(top, name, limits)
    if data is None:
        return None
    try:
        return files.decode(data, Path(top) / META_DIR / name)
    except files.FileProblem:
        return None


def read_meta_json(top: str | os.PathLike[str], name: str, limits: files.Limits = files.META) -> dict[str, Any]:
    """``.cgocheck/NAME`` as a JSON object; {} when absent, a link, unreadable or not one."""
    text = read_meta_text(top, name, limits)
    if text is None:
        return {}
    try:
        data = files.loads_json(text, Path(top) / META_DIR / name, limits)
    except files.FileProblem:
        return {}
    return data if isinstance(data, dict) else {}


def read_meta_file(top: str | os.PathLike[str], name: str, limits: files.Limits) -> str:
    """``.cgocheck/NAME`` as text, or a FileProblem saying why not (for a caller that must
    say, like ``--locked`` reading the lock a sysroot was made with)."""
    label = Path(top) / META_DIR / name
    try:
        with _meta_fd(top) as fd:
            if fd is None:
                raise files.FileProblem(label, "no such file", missing=True)
            return files.decode(files.read_bytes(name, limits, dir_fd=fd, follow=False, label=label), label)
    except LinkedMetadata as exc:
        raise files.FileProblem(label, str(exc)) from None
