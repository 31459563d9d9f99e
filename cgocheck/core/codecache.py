"""Compiled dataclass methods, kept between runs of the command line.

Every ``@dataclass`` writes the source of its ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` (and, frozen, ``__setattr__``/``__delattr__``) and compiles it with ``exec``
when its module is imported: 60-70 classes, 340-400 compilations, ~20 ms of every command
(a third of cgocheck's own import time, measured with ``benchmarks/bench_start.py``'s
commands and ``python -X importtime``). Python keeps no bytecode for them, as it does for
modules in ``__pycache__``.

:func:`install` puts a caching ``exec`` in the dataclasses module's namespace (the name its
functions look up before the builtin): given the same source text it runs the code object
``compile`` made of that text the last time, so each method is the function dataclasses
would have made, from the same source, with the same globals and the same file name
(``<string>``). Any other call (not a string, or other arguments) goes to the builtin
unchanged. :func:`save` writes what was compiled anew to
``<home>/cache/code/<interpreter>.marshal`` (``marshal``, the format of .pyc files; one
file per interpreter build, replaced atomically), read back under a size cap, regular
files only, no link followed; a file that is not a dict of source text to code objects is
ignored. Only the command line installs it (cgocheck.cli), first thing, and saves at its
end; ``CGOCHECK_CODECACHE=0`` turns it off.

The same file keeps cgocheck's own TOML tables parsed (rules.toml, targets.toml: ~7 ms of
tomllib for a command that reports a finding), keyed by name, size and CRC-32 of the bytes
read (:func:`lookup`, :func:`remember`; cgocheck.core.packagedata).
"""

from __future__ import annotations

import builtins
import contextlib
import marshal
import os
import stat
import sys
import types
import zlib
from typing import Any

from cgocheck.core import folders

MAX_BYTES = 16 << 20  # ~0.4 MiB for every class cgocheck has
MAX_ENTRIES = 8192  # beyond it, a save keeps only what this process used

_codes: dict[str, types.CodeType] = {}
_data: dict[str, Any] = {}  # parsed package data (cgocheck.core.packagedata), by name, size and CRC
_used: set[str] = set()
_new = 0  # compiled since the last save
_compiled = 0  # compiled in this process
_installed = False


def enabled() -> bool:
    return os.environ.get("CGOCHECK_CODECACHE", "1") != "0"


# marshal's format for code objects belongs to one interpreter: its exact build is in the
# file's name and, checked on reading, in the file
INTERPRETER = f"{sys.implementation.cache_tag}\0{sys.version}\0{sys.executable}"


def path() -> str:
    build = zlib.crc32(INTERPRETER.encode("utf-8", "replace"))
    return os.path.join(str(folders.cache()), "code", f"{sys.implementation.cache_tag}-{build:08x}.marshal")


def _load(file: str) -> tuple[dict[str, types.CodeType], dict[str, Any]]:
    none: tuple[dict[str, types.CodeType], dict[str, Any]] = ({}, {})
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return none
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            return none
        data = b""
        while len(data) <= MAX_BYTES and (chunk := os.read(fd, 1 << 20)):
            data += chunk
    except OSError:
        return none
    finally:
        os.close(fd)
    try:
        head, codes, tables = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return none
    if head != INTERPRETER or not isinstance(codes, dict) or not isinstance(tables, dict):
        return none
    if not all(type(k) is str and type(v) is types.CodeType for k, v in codes.items()):
        return none
    if not all(type(k) is str for k in tables):
        return none
    return codes, tables


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    global _new, _compiled
    if type(source) is not str or type(globals) is not dict or type(locals) is not dict:
        builtins.exec(source, globals, locals)
        return
    code = _codes.get(source)
    if code is None:
        code = compile(source, "<string>", "exec")
        _codes[source] = code
        _new += 1
        _compiled += 1
    _used.add(source)
    builtins.exec(code, globals, locals)


def install() -> None:
    """Cache the dataclasses' compilations in this process (before any dataclass is made)."""
    global _installed
    import dataclasses

    if _installed or not enabled() or "exec" in vars(dataclasses):
        return
    codes, tables = _load(path())
    _codes.update(codes)
    _data.update(tables)
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    _installed = True


def lookup(key: str) -> Any:
    """A parsed table :func:`remember` kept (in an earlier run), or None."""
    return _data.get(key)


def remember(key: str, value: Any) -> None:
    """Keep a parsed table of package data for the next runs (only marshal's types)."""
    global _new
    try:
        marshal.dumps(value)
    except ValueError:
        return
    _data[key] = value
    _new += 1


def save() -> None:
    """Write the cache when this process compiled something it did not have (never fails)."""
    global _new
    if not _installed or not _new:
        return
    table = _codes if len(_codes) <= MAX_ENTRIES else {k: v for k, v in _codes.items() if k in _used}
    file = path()
    tmp = f"{file}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, marshal.dumps((INTERPRETER, table, _data)))
        finally:
            os.close(fd)
        os.replace(tmp, file)
        _new = 0
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def stats() -> tuple[int, int]:
    """(methods compiled in this process, methods taken from the cache)."""
    return _compiled, len(_used) - _compiled
