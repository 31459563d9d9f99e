"""The one bounded reader for every text, TOML or JSON file cgocheck reads.

Configuration, the baseline, saved reports and matrix cells, sysroot recipes and lock files,
a sysroot's metadata, ``.pc`` files, ld.so.conf and its includes, musl's path file: each is
read here, and each read ends, whatever the file is:

- **regular files only**: the path is stat()ed before it is opened, so a FIFO, a device
  (``/dev/zero``, ``/dev/urandom``, a tape or watchdog that opening would wake) or a folder
  is refused unopened; the open itself is ``O_NONBLOCK`` and its fstat() checked again, so a
  file swapped for a FIFO in between cannot block the read either;
- **a size cap per kind** (:class:`Limits`): checked on the size fstat() gives and again on
  what is read (``/proc`` files say 0 bytes), never more than the cap plus one byte is read;
- **a nesting cap before parsing**: tomllib and json recurse once per ``[``/``{`` (a deep
  file is a RecursionError, or a crash), and tomllib's handling of a dotted key is quadratic
  in its parts; :func:`shape` measures both in linear time on the text with its strings and
  comments taken out, and :func:`loads_json`/:func:`loads_toml` refuse a file past its kind's
  caps before the parser sees it (RecursionError stays caught behind that, should the
  measure ever miss a construct);
- **decoded safely**: UTF-8, a bad byte reported with its line, never a traceback.

Every problem is a :class:`FileProblem` (bad input, exit 2) whose one line names the file.
Files of the sysroot are opened by :class:`cgocheck.sysroot.fsroot.FsRoot` (links resolved
inside it) and read with :func:`read_open`, under the same caps.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

from cgocheck.core.errors import BadInput, CgocheckError, EnvironmentProblem, shown
from cgocheck.core.lazyre import lazy

KiB = 1 << 10
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What a kind of file may be: its size, nesting and, for JSON, number of values."""

    what: str  # "configuration file": named in messages
    max_bytes: int
    max_depth: int = 64  # nested arrays/tables/objects; for TOML also the parts of a dotted key
    max_values: int = 4_000_000  # containers plus separators: bounds the parsed objects' memory


# The kinds. A real file of each is a small fraction of its cap; a cap is what keeps a
# hostile one from costing more than a few seconds and a few hundred MB (the JSON caps were
# measured: the worst shapes of a 64 MiB report with 4M values peak under 1 GiB).
CONFIG = Limits("configuration file", 1 * MiB, 32)  # cgocheck.toml, pyproject.toml: a few KiB
RECIPE = Limits("sysroot recipe", 256 * KiB, 16)  # ~1 KiB
REPORT = Limits("JSON report", 64 * MiB, 64)  # a report or matrix cell: ~200 KiB; a matrix: a few MiB
LOCK = Limits("lock file", 16 * MiB, 16)  # a 200-package lock: ~60 KiB
META = Limits("sysroot metadata file", 1 * MiB, 16)  # meta.json, complete, digest: < 4 KiB
TRACE = Limits("build trace", 64 * MiB, 16)  # pkg-config calls of one build, one JSON per line
PC = Limits(".pc file", 1 * MiB)  # pkg-config's own files: < 4 KiB
LDCONF = Limits("ld.so.conf file", 1 * MiB)  # a few lines
MUSL_PATH = Limits("musl path file", 64 * KiB)  # a few folders
SMALL = Limits("small text file", 64 * KiB)  # a GOROOT's VERSION, a toolchain's meta.json
SMALL_JSON = Limits("tool's JSON output", 4 * MiB, 8)  # go env -json
SOURCE = Limits("source file", 8 * MiB)  # a file a SARIF snippet is quoted from
APT_SOURCES = Limits("apt sources file", 1 * MiB)
GOMOD = Limits("Go module file", 64 * MiB)  # go.mod, go.work, go.sum: a large go.sum is ~1 MiB
CC_ARGS = Limits("compiler call record", 16 * MiB)  # one compiler call's argv (ARG_MAX is 2 MiB)
# one library's entry of the sysroot library index (libc.so.6: ~200 KiB; a big C++ library a few MiB)
LIBINDEX = Limits("library index entry", 32 * MiB, 6, 2_000_000)


class FileProblem(BadInput):
    """A file cgocheck cannot use: missing, not a regular file, too large, too deep, not
    UTF-8, not valid TOML/JSON. ``problem`` is the message without the file's name, for a
    caller that names the file its own way."""

    def __init__(self, path: str | os.PathLike[str], problem: str, *, missing: bool = False) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.missing = missing
        super().__init__(f"{shown(self.path)}: {problem}")


def size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link (not followed here)"
    return "not a regular file"


def _not_regular(path: str | os.PathLike[str], mode: int) -> FileProblem:
    what = _kind(mode)
    return FileProblem(path, f"{what}, not a regular file" if what.startswith("a ") else what)


def _too_large(path: str | os.PathLike[str], size: int | None, limits: Limits) -> FileProblem:
    have = f"{size} bytes, " if size else ""
    return FileProblem(path, f"{have}larger than the {size_text(limits.max_bytes)} a {limits.what} may have")


def read_bytes(
    path: str | os.PathLike[str],
    limits: Limits,
    *,
    dir_fd: int | None = None,
    follow: bool = True,
    prefix: bool = False,
    label: str | os.PathLike[str] | None = None,
) -> bytes:
    """The bytes of a regular file, at most ``limits.max_bytes`` of them (more is an error;
    with ``prefix``, the first ``max_bytes`` of a file of any size).

    ``follow=False`` refuses a symbolic link as the last component (O_NOFOLLOW); ``dir_fd``
    opens ``path`` relative to an open folder (as openat(2)); messages name ``label`` (default
    ``path``).
    """
    name = path if label is None else label
    try:
        st = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow)
    except FileNotFoundError:
        raise FileProblem(name, "no such file", missing=True) from None
    except OSError as exc:
        raise FileProblem(name, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(name, st.st_mode)  # refused unopened: opening a device can do things
    if st.st_size > limits.max_bytes and not prefix:
        raise _too_large(name, st.st_size, limits)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise FileProblem(name, "no such file", missing=True) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise FileProblem(name, "a symbolic link (not followed here)") from None
        raise FileProblem(name, f"cannot read: {exc.strerror or exc}") from None
    with open(fd, "rb", buffering=0, closefd=True) as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped between the stat and the open
            raise _not_regular(name, mode)
        os.set_blocking(fd, True)
        if prefix:
            return f.read(limits.max_bytes)
        return read_open(f, limits, name)


def read_head(path: str | os.PathLike[str], n: int) -> bytes:
    """The first N bytes of a regular file (any size), opened as :func:`read_bytes` opens it."""
    return read_bytes(path, Limits("file", n), prefix=True)


def read_open(f: BinaryIO, limits: Limits, label: str | os.PathLike[str]) -> bytes:
    """At most ``limits.max_bytes`` of an open regular file (more is an error naming LABEL;
    a file whose size already says so is refused unread)."""
    try:
        size = os.fstat(f.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        size = 0
    if size > limits.max_bytes:
        raise _too_large(label, size, limits)
    chunks: list[bytes] = []
    got = 0
    try:
        while got <= limits.max_bytes:
            chunk = f.read(limits.max_bytes + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise FileProblem(label, f"cannot read: {exc.strerror or exc}") from None
    if got > limits.max_bytes:
        raise _too_large(label, None, limits)
    return b"".join(chunks)


def decode(data: bytes, label: str | os.PathLike[str]) -> str:
    """UTF-8 text (a leading byte order mark dropped); a bad byte is an error naming its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileProblem(label, f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: str | os.PathLike[str], limits: Limits, **kw: Any) -> str:
    return decode(read_bytes(path, limits, **kw), path)


# --- the shape of a TOML or JSON text, measured without parsing it ------------------------

# Strings (and TOML comments) are taken out before brackets are counted. Each pattern ends
# an unterminated string at the end of the text, so no position is ever scanned twice.
_JSON_STRING = lazy(r'"(?:[^"\\]++|\\.)*+"?', re.S)
_TOML_SKIP = lazy(
    r'"""(?:[^"\\]++|\\.|"(?!""))*+(?:"""(?:"{0,2})|\Z)'
    r"|'''(?:[^']++|'(?!''))*+(?:'''(?:'{0,2})|\Z)"
    r'|"(?:[^"\\\n]++|\\.)*+"?'
    r"|'[^'\n]*+'?"
    r"|#[^\n]*+",
    re.S,
)
_NOT_BRACKET = lazy(r"[^\[\]{}]++")
_DELTA = [0] * 256
_DELTA[ord("[")] = _DELTA[ord("{")] = 1
_DELTA[ord("]")] = _DELTA[ord("}")] = -1


@dataclass(frozen=True)
class Shape:
    depth: int  # deepest nesting of [ and {
    values: int  # containers plus separators (a bound on the values the parser makes)
    dotted: bool  # a dotted key with more parts than the cap (TOML)


def _toml_skip(m: re.Match[str]) -> str:
    return "" if m.group(0).startswith("#") else "s"


def shape(text: str, fmt: str, max_depth: int, max_values: int | None = None) -> Shape:
    """The nesting and size of a TOML (``fmt="toml"``) or JSON text, in linear time. Past
    ``max_values`` the depth is not measured (reported as 0): the text is refused anyway."""
    bare = _JSON_STRING().sub('""', text) if fmt == "json" else _TOML_SKIP().sub(_toml_skip, text)
    opens = bare.count("[") + bare.count("{")
    values = opens + bare.count(",")
    if max_values is not None and values > max_values:
        return Shape(0, values, False)
    depth = 0
    if opens:
        brackets = _NOT_BRACKET().sub("", bare).encode("ascii")
        depth = max(accumulate(map(_DELTA.__getitem__, brackets)), default=0)
    dotted = False
    if fmt == "toml" and max_depth > 1:
        # a.b.c = 1 and [a.b.c]: at most max_depth parts (a float has one dot, a date at most one)
        chain = re.compile(r"\.(?:[ \t]*+[\w+\-]*+[ \t]*+\.){" + str(max_depth - 1) + "}")
        dotted = chain.search(bare) is not None
    return Shape(depth, values, dotted)


def _check_shape(text: str, fmt: str, label: str | os.PathLike[str], limits: Limits) -> None:
    s = shape(text, fmt, limits.max_depth, limits.max_values)
    if s.values > limits.max_values:
        raise FileProblem(label, f"more than {limits.max_values} values; a {limits.what} has fewer")
    if s.depth > limits.max_depth:
        raise FileProblem(label, f"nested {s.depth} levels deep; a {limits.what} may nest {limits.max_depth}")
    if s.dotted:
        raise FileProblem(label, f"a dotted key of more than {limits.max_depth} parts; "
                                 f"a {limits.what} may nest {limits.max_depth}")


def loads_json(text: str, label: str | os.PathLike[str], limits: Limits) -> Any:
    """Parse JSON text after checking its shape against LIMITS."""
    _check_shape(text, "json", label, limits)
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, or a number past int's 4300-digit limit
        raise FileProblem(label, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise FileProblem(label, f"nested too deeply for a {limits.what}") from None


def loads_own_json(data: bytes, label: str | os.PathLike[str], limits: Limits) -> Any:
    """Parse JSON bytes cgocheck wrote itself (a cache entry), bounded more cheaply than
    :func:`loads_json`: the values are counted by the bytes' separators (an over-count: a
    ',' inside a string counts too), nesting is bounded by the decoder's recursion limit.
    Anything wrong is a FileProblem; the caller checks the shape of what it gets."""
    if len(data) > limits.max_bytes:
        raise _too_large(label, len(data), limits)
    if data.count(b",") + data.count(b"[") + data.count(b"{") > limits.max_values:
        raise FileProblem(label, f"more than {limits.max_values} values; a {limits.what} has fewer")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise FileProblem(label, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise FileProblem(label, f"nested too deeply for a {limits.what}") from None


def loads_toml(text: str, label: str | os.PathLike[str], limits: Limits) -> dict[str, Any]:
    """Parse TOML text after checking its shape against LIMITS."""
    _check_shape(text, "toml", label, limits)
    import tomllib  # imported by the commands that read TOML only

    try:
        return tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or a number past int's 4300-digit limit
        raise FileProblem(label, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise FileProblem(label, f"nested too deeply for a {limits.what}") from None


def read_json(path: str | os.PathLike[str], limits: Limits, **kw: Any) -> Any:
    return loads_json(read_text(path, limits, **kw), path, limits)


def read_toml(path: str | os.PathLike[str], limits: Limits, **kw: Any) -> dict[str, Any]:
    return loads_toml(read_text(path, limits, **kw), path, limits)


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of a few bytes (a cache key), from the interpreter's own sha256 module
    when it has one: importing hashlib loads OpenSSL (~2-4 ms), faster only on large inputs."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython <= 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # CPython >= 3.12
        except ImportError:
            from hashlib import sha256
    return str(sha256(data).hexdigest())


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes, read 1 MiB at a time (OSError as open/read raise it)."""
    import hashlib  # ~4 ms (OpenSSL): most commands hash nothing

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def sha256_or_none(path: str | os.PathLike[str]) -> str | None:
    """:func:`sha256_file`, or None when the file cannot be read."""
    try:
        return sha256_file(path)
    except OSError:
        return None


def exists_entry(path: Path) -> bool:
    """Is there anything at PATH (a dangling link, a FIFO, a device count too)?"""
    return os.path.lexists(path)


# --- writing: an OSError names the file and what was being done --------------------------

# A full disk, a quota, a read-only or failing file system: the machine's problem (exit 3),
# not the input's.
ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG, errno.EMFILE, errno.ENFILE, errno.ENOMEM}
)


def os_problem(exc: OSError, doing: str, path: str | os.PathLike[str] | None = None) -> CgocheckError:
    """One line for an OSError: what was being done, to which file, and why (``cannot write
    report.sarif: No space left on device``). Exit 3 for a full or failing disk, else 2."""
    where = path if path is not None else exc.filename
    why = exc.strerror or str(exc) or type(exc).__name__
    target = f" {shown(where)}" if where is not None else ""
    extra = f" -> {shown(exc.filename2)}" if exc.filename2 is not None else ""
    message = f"cannot {doing}{target}{extra}: {why}"
    return EnvironmentProblem(message) if exc.errno in ENVIRONMENT_ERRNOS else BadInput(message)


def write_text(path: str | os.PathLike[str], text: str, doing: str = "write") -> None:
    """Write TEXT to PATH (its folder made); an OSError becomes :func:`os_problem`'s one line."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise os_problem(exc, doing, path) from None
