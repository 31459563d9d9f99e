"""The sysroot library index: what resolve needs from each library of a sysroot (its header,
SONAME, NEEDED, RPATH/RUNPATH, version needs and definitions, and every dynamic symbol with
its version and binding), read once from the library on first use and kept in cgocheck's
cache, so a later resolve reads a small JSON entry instead of parsing the ELF file.

Layout: ``<home>/cache/libindex/<sha256 of the sysroot's real top>/<sha256 of the library's
resolved guest path>.json``, one entry per library file. An entry is used only when the
file the loader model opened still has the identity the entry records (device, inode,
size, mtime_ns, ctime_ns) and the entry names the same sysroot and resolved path: a file
replaced, rewritten or touched is read again and its entry rewritten; nothing else is.

Nothing in the sysroot is written, and the sysroot's creation code is not involved: the
index is derived data, rebuilt whenever it is missing or wrong. An entry is read through
the bounded reader (size, nesting and value caps, no link followed) and checked field by
field before any of it is used; a damaged, truncated, foreign or hostile entry is ignored
and replaced, never trusted and never an error. Entries are written to a temporary file
in the same folder and renamed over the old one, so two processes indexing the same
library at once each leave a complete entry (the same one) and a reader never sees half
of one. A cache that cannot be written (read-only, full) only costs the speed-up.

``CGOCHECK_LIBINDEX=0`` turns the index off (every library parsed, nothing written).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cgocheck.core import files, folders
from cgocheck.core.errors import BadInput
from cgocheck.elf import read_shared_object
from cgocheck.elf.model import DynamicSymbol, ElfHeader, SharedObjectFacts, VersionNeed

FORMAT = 2  # 2: unrelocated
MAX_MEMO = 4096  # entries kept in memory per sysroot within one process


def enabled() -> bool:
    return os.environ.get("CGOCHECK_LIBINDEX", "1") not in ("0", "off", "no", "false")


def identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What says a library file is still the one indexed: device, inode, size, mtime, ctime."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def folder_for(top: str | os.PathLike[str]) -> Path:
    """The index folder of the sysroot whose real top folder is TOP."""
    digest = files.sha256_hex(os.fsencode(os.fspath(top)))[:24]
    return folders.cache() / "libindex" / digest


class _Bad(Exception):
    """An entry that is not what this code writes: ignored and rebuilt."""


# --- encoding ---------------------------------------------------------------------------


def _sym_row(s: DynamicSymbol) -> list[Any]:
    return [s.name, s.version, s.library, s.binding, s.sym_type, s.hidden]


def encode(facts: SharedObjectFacts) -> dict[str, Any]:
    h = facts.header
    return {
        "header": [h.machine, h.machine_code, h.elf_class, h.endian, h.osabi, h.file_type, h.flags,
                   list(h.flags_decoded), h.float_abi, h.entry],
        "soname": facts.soname,
        "needed": list(facts.needed),
        "rpath": list(facts.rpath),
        "runpath": list(facts.runpath),
        "verneed": [[v.library, list(v.versions)] for v in facts.verneed],
        "verdef": list(facts.verdef),
        "defined": [_sym_row(s) for s in facts.defined],
        "undefined": [_sym_row(s) for s in facts.undefined],
        "unrelocated": None if facts.unrelocated is None else list(facts.unrelocated),
    }


# --- decoding: every field checked -----------------------------------------------------


def _str(x: object) -> str:
    if type(x) is not str:
        raise _Bad
    return x


def _opt_str(x: object) -> str | None:
    if x is not None and type(x) is not str:
        raise _Bad
    return x


def _int(x: object) -> int:
    if type(x) is not int:
        raise _Bad
    return x


def _strs(x: object) -> tuple[str, ...]:
    if type(x) is not list or any(type(v) is not str for v in x):
        raise _Bad
    return tuple(x)


_new = object.__new__


def _symbols(rows: object, defined: bool) -> tuple[DynamicSymbol, ...]:
    if type(rows) is not list:
        raise _Bad
    out: list[DynamicSymbol] = []
    append = out.append
    for r in rows:
        if type(r) is not list or len(r) != 6:
            raise _Bad
        name, version, library, binding, sym_type, hidden = r
        if (type(name) is not str or type(binding) is not str or type(sym_type) is not str
                or (version is not None and type(version) is not str)
                or (library is not None and type(library) is not str) or type(hidden) is not bool):
            raise _Bad
        # Every field was checked above: set them as the frozen dataclass's __init__ would,
        # without its per-field object.__setattr__ calls (4x faster on libc's 3000 symbols).
        s = _new(DynamicSymbol)
        s.__dict__.update(name=name, version=version, library=library, binding=binding, sym_type=sym_type,
                          defined=defined, hidden=hidden)
        append(s)
    return tuple(out)


def decode(data: object, path: str) -> SharedObjectFacts:
    """The facts of an entry's ``facts`` object, shown as PATH. _Bad when anything is off."""
    if type(data) is not dict:
        raise _Bad
    h = data.get("header")
    if type(h) is not list or len(h) != 10:
        raise _Bad
    header = ElfHeader(
        machine=_str(h[0]),
        machine_code=_int(h[1]),
        elf_class=_int(h[2]),
        endian=_str(h[3]),
        osabi=_str(h[4]),
        file_type=_str(h[5]),
        flags=_int(h[6]),
        flags_decoded=_strs(h[7]),
        float_abi=_str(h[8]),
        entry=_int(h[9]),
    )
    if header.elf_class not in (32, 64) or header.endian not in ("little", "big"):
        raise _Bad
    verneed_rows = data.get("verneed")
    if type(verneed_rows) is not list:
        raise _Bad
    verneed = []
    for v in verneed_rows:
        if type(v) is not list or len(v) != 2:
            raise _Bad
        verneed.append(VersionNeed(_str(v[0]), _strs(v[1])))
    return SharedObjectFacts(
        path=path,
        header=header,
        soname=_opt_str(data.get("soname")),
        needed=_strs(data.get("needed")),
        rpath=_strs(data.get("rpath")),
        runpath=_strs(data.get("runpath")),
        verneed=tuple(verneed),
        verdef=_strs(data.get("verdef")),
        defined=_symbols(data.get("defined"), True),
        undefined=_symbols(data.get("undefined"), False),
        unrelocated=None if (u := data.get("unrelocated")) is None else _strs(u),
    )


# --- the index --------------------------------------------------------------------------


class LibraryIndex:
    """The index of one sysroot (its real top folder TOP)."""

    def __init__(self, top: str | os.PathLike[str], folder: Path | None = None) -> None:
        self.top = os.fspath(top)
        self.folder = folder if folder is not None else folder_for(self.top)
        self.memo: dict[tuple[str, tuple[int, ...]], SharedObjectFacts] = {}
        self.hits = 0
        self.misses = 0
        self.rejected = 0  # entries present but unusable (changed file, damaged entry)

    def entry_path(self, real: str) -> Path:
        return self.folder / (files.sha256_hex(os.fsencode(real))[:32] + ".json")

    def facts(
        self,
        host: str,
        real: str,
        st: os.stat_result,
        shown: str,
        read: Callable[..., SharedObjectFacts] = read_shared_object,
    ) -> SharedObjectFacts:
        """The facts of the library at HOST (its resolved guest path REAL, its fstat ST as the
        caller opened it), shown as SHOWN: from the index when its entry matches the file,
        else read from the file with READ (read_shared_object) and indexed. Raises BadInput
        as read_shared_object does."""
        ident = identity(st)
        key = (real, ident)
        got = self.memo.get(key)
        if got is not None:
            self.hits += 1
            return got if got.path == shown else _with_path(got, shown)
        entry = self.entry_path(real)
        facts = self._load(entry, real, ident, shown)
        if facts is None:
            self.misses += 1
            facts = read(host, display_path=shown)
            self._store(entry, real, ident, facts)
        else:
            self.hits += 1
        if len(self.memo) < MAX_MEMO:
            self.memo[key] = facts
        return facts

    def _load(self, entry: Path, real: str, ident: tuple[int, ...], shown: str) -> SharedObjectFacts | None:
        try:
            raw = files.read_bytes(entry, files.LIBINDEX, follow=False)
        except BadInput as err:
            if not getattr(err, "missing", False):
                self.rejected += 1
            return None
        try:
            data = files.loads_own_json(raw, entry, files.LIBINDEX)
            if (type(data) is not dict or data.get("format") != FORMAT or data.get("sysroot") != self.top
                    or data.get("path") != real):
                raise _Bad
            stored = data.get("id")
            if type(stored) is not list or len(stored) != 5 or any(type(v) is not int for v in stored):
                raise _Bad
            if tuple(stored) != ident:
                raise _Bad  # the file changed since it was indexed
            return decode(data.get("facts"), shown)
        except (_Bad, BadInput, UnicodeDecodeError, ValueError, TypeError, KeyError, RecursionError, MemoryError):
            self.rejected += 1
            return None

    def _store(self, entry: Path, real: str, ident: tuple[int, ...], facts: SharedObjectFacts) -> None:
        if not self.folder.is_dir():
            _new_folder(self.folder, self.top)
        record = {"format": FORMAT, "sysroot": self.top, "path": real, "id": list(ident), "facts": encode(facts)}
        data = json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode("ascii")
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            import tempfile  # ~5 ms of a start: only a run that writes an entry needs it

            fd, tmp = tempfile.mkstemp(prefix=".new-", suffix=".json", dir=self.folder)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, entry)
            tmp = None
        except OSError:
            pass  # a cache that cannot be written only costs the speed-up
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


TOP_FILE = "sysroot.txt"  # the real top folder of the sysroot an index folder is for


def _new_folder(folder: Path, top: str) -> None:
    """Make a sysroot's index folder (naming its sysroot) and, as a new one is rare, remove the
    folders of sysroots that are gone (a test's temporary sysroot, a deleted one)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files.write_text(folder / TOP_FILE, top + "\n")
    except (OSError, BadInput):
        return
    sweep(folder.parent, keep=folder)


def sweep(parent: Path, keep: Path | None = None, limit: int = 10_000) -> list[Path]:
    """Remove the index folders under PARENT whose sysroot no longer exists."""
    import shutil

    removed: list[Path] = []
    try:
        entries = sorted(parent.iterdir())[:limit]
    except OSError:
        return removed
    for d in entries:
        if d == keep or d.is_symlink() or not d.is_dir():
            continue
        try:
            top = files.read_bytes(d / TOP_FILE, files.SMALL, follow=False).decode("utf-8", "replace").strip()
        except BadInput:
            continue  # being made, or not ours: left alone
        if top and not os.path.isdir(top):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def _with_path(facts: SharedObjectFacts, path: str) -> SharedObjectFacts:
    import dataclasses

    return dataclasses.replace(facts, path=path)


_OPEN: dict[str, LibraryIndex] = {}


def for_root(top: str | os.PathLike[str]) -> LibraryIndex | None:
    """The index of the sysroot at TOP (one per process and sysroot); None when turned off."""
    if not enabled():
        return None
    key = os.fspath(top)
    idx = _OPEN.get(key)
    if idx is None or idx.folder != folder_for(key):  # CGOCHECK_HOME changed (tests)
        idx = _OPEN[key] = LibraryIndex(key)
    return idx
