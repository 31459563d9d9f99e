"""The sysroot library index (cgocheck.loader.index): entries reused while a library is
unchanged, re-read when it is replaced, rewritten or touched (and the verdict follows the
new file), and a damaged or hostile entry ignored and rebuilt, never trusted. Sysroots are
assembled from the host's real libraries (tests.support.resolve_tree), each test with a
cgocheck home of its own."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from cgocheck.core import folders
from cgocheck.elf.model import DynamicSymbol
from cgocheck.loader import index as libindex
from cgocheck.loader.model import Resolution
from tests.support.resolve_tree import HOST, HOST_OK, HOST_REASON, T, base_tree, put, run

pytestmark = pytest.mark.skipif(not HOST_OK, reason=HOST_REASON)

ZLIB = DynamicSymbol("zlibVersion", None, None, "GLOBAL", "FUNC", False)
NEEDED = ("libz.so.1", "libc.so.6")


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CGOCHECK_HOME", str(home))
    monkeypatch.delenv("CGOCHECK_LIBINDEX", raising=False)
    libindex._OPEN.clear()
    return home


def tree(tmp_path: Path) -> Path:
    root = base_tree(tmp_path)
    put(root, f"/usr/lib/{T}/libz.so.1", HOST["libz"])
    return root


def resolved(root: Path) -> tuple[Resolution, libindex.LibraryIndex]:
    """A fresh process's view: a new index object (nothing in memory), the entries on disk."""
    libindex._OPEN.clear()
    res = run(root, needed=NEEDED, undefined=(ZLIB,))
    idx = libindex.for_root(os.path.realpath(root))
    assert idx is not None
    return res, idx


def binding(res: Resolution, name: str) -> str | None:
    hits = [b for b in res.bindings if b.symbol == name]
    return hits[0].provider if hits else None


def entries(root: Path) -> list[Path]:
    return sorted(libindex.folder_for(os.path.realpath(root)).glob("*.json"))


def test_entries_are_written_once_then_read(tmp_path: Path) -> None:
    root = tree(tmp_path)
    first, idx = resolved(root)
    assert (idx.hits, idx.misses) == (0, 3)  # the loader, libz, libc
    assert len(entries(root)) == 3
    assert binding(first, "zlibVersion") == "libz.so.1"
    again, idx = resolved(root)
    assert (idx.hits, idx.misses, idx.rejected) == (3, 0, 0)
    assert again == first
    # nothing written inside the sysroot; the index lives under the home's cache
    assert libindex.folder_for(os.path.realpath(root)).is_relative_to(folders.cache())
    assert not any(p.name.endswith(".json") for p in root.rglob("*"))


def test_the_index_gives_what_parsing_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path)
    resolved(root)
    indexed, idx = resolved(root)
    assert idx.hits == 3
    monkeypatch.setenv("CGOCHECK_LIBINDEX", "0")
    libindex._OPEN.clear()
    parsed = run(root, needed=NEEDED, undefined=(ZLIB,))
    assert libindex.for_root(os.path.realpath(root)) is None
    assert indexed == parsed


def test_a_replaced_library_invalidates_its_entry_and_the_verdict_follows(tmp_path: Path) -> None:
    root = tree(tmp_path)
    before, _ = resolved(root)
    assert binding(before, "zlibVersion") == "libz.so.1" and not before.unresolved_symbols
    libz = root / "usr" / "lib" / T / "libz.so.1"
    # a new file in its place (a package upgrade): libm under libz's name, no zlibVersion in it
    shutil.copyfile(HOST["libm"], tmp_path / "new")
    os.replace(tmp_path / "new", libz)
    after, idx = resolved(root)
    assert (idx.hits, idx.misses, idx.rejected) == (2, 1, 1)
    assert binding(after, "zlibVersion") is None
    assert [u.symbol for u in after.unresolved_symbols] == ["zlibVersion"]
    # the entry now describes the new file: the next run reads it, same verdict
    again, idx = resolved(root)
    assert (idx.hits, idx.misses) == (3, 0) and again == after


def test_a_library_rewritten_in_place_or_touched_is_read_again(tmp_path: Path) -> None:
    root = tree(tmp_path)
    before, _ = resolved(root)
    libz = root / "usr" / "lib" / T / "libz.so.1"
    data = libz.read_bytes()
    with open(libz, "r+b") as f:  # same inode, same size, new content
        f.write(data)
    after, idx = resolved(root)
    assert (idx.misses, idx.rejected) == (1, 1) and after == before
    st = libz.stat()
    os.utime(libz, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touch
    after, idx = resolved(root)
    assert (idx.misses, idx.rejected) == (1, 1) and after == before


def _hostile(entry: Path, good: dict[str, object]) -> list[tuple[str, bytes | None]]:
    """Ways an entry may be damaged or forged; None: made another way (a link, a FIFO)."""
    facts = good["facts"]
    assert isinstance(facts, dict)
    header = list(facts["header"])
    bad_symbol = [7, None, None, "GLOBAL", "FUNC", False]

    def forged(**changes: object) -> bytes:
        return json.dumps({**good, **changes}).encode()

    return [
        ("empty", b""),
        ("truncated", json.dumps(good).encode()[:1000]),
        ("not JSON", b"\x00\xff garbage"),
        ("not UTF-8 in a string", b'{"format": 1, "x": "\xff"}'),
        ("a list", b"[1, 2, 3]"),
        ("nested deep", b"[" * 200_000 + b"]" * 200_000),
        ("too many values", b"[" + b"0," * 3_000_000 + b"0]"),
        ("huge number", b'{"format": ' + b"9" * 5000 + b"}"),
        ("another format", forged(format=99)),
        ("another sysroot", forged(sysroot="/elsewhere")),
        ("another path", forged(path="/usr/lib/other.so")),
        ("a stale identity", forged(id=[0, 0, 0, 0, 0])),
        ("an identity of strings", forged(id=["a", "b", "c", "d", "e"])),
        ("symbols of the wrong shape", forged(facts={**facts, "defined": [[1, 2, 3]]})),
        ("a symbol name that is a number", forged(facts={**facts, "defined": [bad_symbol]})),
        ("a header too short", forged(facts={**facts, "header": [1, 2]})),
        ("a bool for an int", forged(facts={**facts, "header": [header[0], True, *header[2:]]})),
        ("needed not a list", forged(facts={**facts, "needed": "libc.so.6"})),
        ("no facts", forged(facts=None)),
        ("a link to /dev/zero", None),
        ("a FIFO", None),
        ("a folder", None),
    ]


def test_a_damaged_or_hostile_entry_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    root = tree(tmp_path)
    clean, _ = resolved(root)
    libz_entry = next(p for p in entries(root) if "libz" in p.read_text())
    good = json.loads(libz_entry.read_text())
    for what, data in _hostile(libz_entry, good):
        if libz_entry.is_dir() and not libz_entry.is_symlink():
            libz_entry.rmdir()
        else:
            libz_entry.unlink()
        if data is not None:
            libz_entry.write_bytes(data)
        elif what == "a link to /dev/zero":
            libz_entry.symlink_to("/dev/zero")
        elif what == "a FIFO":
            os.mkfifo(libz_entry)
        else:
            libz_entry.mkdir()
        res, idx = resolved(root)
        assert res == clean, what
        assert idx.misses == 1 and idx.hits == 2, what
        if what == "a folder":
            continue  # not replaced by a file (os.replace cannot), only ignored
        # rebuilt: a complete, valid entry again, used by the next run
        assert json.loads(libz_entry.read_text())["id"] == good["id"], what
        _, idx = resolved(root)
        assert (idx.hits, idx.misses) == (3, 0), what


def test_an_unwritable_cache_costs_only_the_speed(tmp_path: Path, own_home: Path) -> None:
    root = tree(tmp_path)
    own_home.mkdir(parents=True)
    (own_home / "cache").write_text("not a folder")
    first, idx = resolved(root)
    assert idx.misses == 3 and binding(first, "zlibVersion") == "libz.so.1"
    again, idx = resolved(root)
    assert idx.misses == 3 and again == first


def test_the_folders_of_removed_sysroots_are_swept(tmp_path: Path) -> None:
    gone = tree(tmp_path / "a")
    resolved(gone)
    gone_folder = libindex.folder_for(os.path.realpath(gone))
    assert gone_folder.is_dir()
    shutil.rmtree(tmp_path / "a")
    resolved(tree(tmp_path / "b"))  # a new sysroot's folder: the sweep runs
    assert not gone_folder.exists()


def test_facts_keep_the_path_they_were_asked_by(tmp_path: Path) -> None:
    root = tree(tmp_path)
    resolved(root)
    idx = libindex.for_root(os.path.realpath(root))
    assert idx is not None
    host = os.path.realpath(root / "usr" / "lib" / T / "libz.so.1")
    st = os.stat(host)
    a = idx.facts(host, f"/usr/lib/{T}/libz.so.1", st, "/lib/x/libz.so.1")
    b = idx.facts(host, f"/usr/lib/{T}/libz.so.1", st, "/other/libz.so.1")
    assert a.path == "/lib/x/libz.so.1" and b.path == "/other/libz.so.1"
    assert dataclasses.replace(a, path=b.path) == b


def _resolve_in_child(root: str) -> tuple[int, int]:
    res, idx = resolved(Path(root))
    assert binding(res, "zlibVersion") == "libz.so.1"
    return idx.hits, idx.misses


def test_processes_indexing_at_once_each_leave_a_complete_entry(tmp_path: Path) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    root = tree(tmp_path)
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("fork")) as pool:
        counts = list(pool.map(_resolve_in_child, [str(root)] * 8))
    assert all(h + m == 3 for h, m in counts)
    assert not list(libindex.folder_for(os.path.realpath(root)).glob(".new-*"))  # no temporary file left
    for entry in entries(root):
        assert json.loads(entry.read_text())["format"] == libindex.FORMAT
    _, idx = resolved(root)
    assert (idx.hits, idx.misses, idx.rejected) == (3, 0, 0)


def test_entry_names_are_the_sha256_hashlib_gives(tmp_path: Path) -> None:
    """The index names its folders and entries by a sha256 taken without hashlib (no OpenSSL at
    start-up); the digest must be hashlib's, byte for byte, or entries written by one
    interpreter would not be found by another."""
    import hashlib

    from cgocheck.core import files

    for data in (b"", b"/usr/lib/aarch64-linux-gnu/libz.so.1", os.fsencode(str(tmp_path)), bytes(range(256)) * 9):
        assert files.sha256_hex(data) == hashlib.sha256(data).hexdigest()
