"""Symlink rewriting, usrmerge links and the content digest, on real folders."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from cgocheck.sysroot.create import _lexical, content_digest, make_usrmerge, rewrite_symlinks


def _inside(top: Path, link: Path) -> bool:
    real = os.path.realpath(link)
    return real == str(top.resolve()) or real.startswith(str(top.resolve()) + os.sep)


def make_tree(top: Path) -> None:
    """A Debian-like tree after unpacking onto merged /usr (lib -> usr/lib made first)."""
    make_usrmerge(top, before=True)
    (top / "usr/lib/aarch64-linux-gnu").mkdir(parents=True)
    (top / "usr/lib/aarch64-linux-gnu/libz.so.1.2.13").write_bytes(b"\x7fELF zlib")
    os.symlink("libz.so.1.2.13", top / "usr/lib/aarch64-linux-gnu/libz.so.1")
    # what zlib1g-dev ships: an absolute link into /lib (which is usr/lib here)
    os.symlink("/lib/aarch64-linux-gnu/libz.so.1.2.13", top / "usr/lib/aarch64-linux-gnu/libz.so")
    (top / "etc").mkdir()
    (top / "etc/hosts").write_text("127.0.0.1 localhost\n")
    os.symlink("/etc", top / "usr/lib/etc-abs")  # an absolute link to a folder
    os.symlink("../../../../../../etc/hosts", top / "usr/lib/escape")  # climbs above the top
    os.symlink("/", top / "usr/lib/root")
    os.symlink("/no/such/file", top / "usr/lib/dangling")


def test_rewrite_makes_every_link_relative_and_inside(tmp_path: Path) -> None:
    top = tmp_path / "root"
    top.mkdir()
    make_tree(top)
    changed = {link: (old, new) for link, old, new in rewrite_symlinks(top)}
    # the zlib link is canonicalised through the lib -> usr/lib link to a neighbour
    assert os.readlink(top / "usr/lib/aarch64-linux-gnu/libz.so") == "libz.so.1.2.13"
    assert changed["/usr/lib/aarch64-linux-gnu/libz.so"][0] == "/lib/aarch64-linux-gnu/libz.so.1.2.13"
    assert os.readlink(top / "usr/lib/etc-abs") == "../../etc"
    assert os.readlink(top / "usr/lib/escape") == "../../etc/hosts"
    assert os.readlink(top / "usr/lib/root") == "../.."
    assert os.readlink(top / "usr/lib/dangling") == "../../no/such/file"
    # relative links that stay inside are left as they were
    assert os.readlink(top / "usr/lib/aarch64-linux-gnu/libz.so.1") == "libz.so.1.2.13"
    assert os.readlink(top / "lib") == "usr/lib"
    assert "/usr/lib/aarch64-linux-gnu/libz.so.1" not in changed
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = Path(dirpath, n)
            if p.is_symlink():
                assert not os.readlink(p).startswith("/"), p
                assert _inside(top, p), p
    assert (top / "usr/lib/escape").read_text().startswith("127.0.0.1")
    assert (top / "usr/lib/aarch64-linux-gnu/libz.so").read_bytes() == b"\x7fELF zlib"
    # idempotent
    assert rewrite_symlinks(top) == []


def test_lexical_clamps_at_the_top() -> None:
    assert _lexical(PurePosixPath("/usr/lib"), "../../../../etc") == (PurePosixPath("/etc"), True)
    assert _lexical(PurePosixPath("/usr/lib"), "x/../y") == (PurePosixPath("/usr/lib/y"), False)
    assert _lexical(PurePosixPath("/usr/lib"), "/a/./b") == (PurePosixPath("/a/b"), False)


def test_usrmerge_links_and_lib64_merge(tmp_path: Path) -> None:
    top = tmp_path / "r"
    top.mkdir()
    assert make_usrmerge(top, before=True) == ["bin", "sbin", "lib"]
    # bookworm's libc6:amd64 ships /lib64/ld-linux-x86-64.so.2 as a real folder entry
    (top / "lib64").mkdir()
    os.symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", top / "lib64/ld-linux-x86-64.so.2")
    (top / "usr/lib32").mkdir()  # present under /usr only: gets its link
    (top / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    (top / "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2").write_bytes(b"\x7fELF loader")
    (top / "lib64/sibling").write_bytes(b"a file of its own")
    os.symlink("sibling", top / "lib64/to-sibling")  # points within the moved folder
    # as create does after each package: the absolute link becomes relative while in /lib64
    rewrite_symlinks(top)
    assert os.readlink(top / "lib64/ld-linux-x86-64.so.2") == "../usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    made = make_usrmerge(top, before=False)
    assert made == ["lib32", "lib64"]
    assert os.readlink(top / "lib64") == "usr/lib64"
    assert (top / "usr/lib64/ld-linux-x86-64.so.2").is_symlink()
    # moved one level down, the link still reaches the loader (it used to dangle there)
    assert os.readlink(top / "usr/lib64/ld-linux-x86-64.so.2") == "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    assert (top / "lib64/ld-linux-x86-64.so.2").read_bytes() == b"\x7fELF loader"
    assert os.readlink(top / "usr/lib64/to-sibling") == "sibling"
    assert (top / "lib64/to-sibling").read_bytes() == b"a file of its own"
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = Path(dirpath, n)
            assert not p.is_symlink() or p.exists(), f"{p} dangles"
    assert os.readlink(top / "lib32") == "usr/lib32"
    assert not (top / "libx32").exists()


def test_digest_is_deterministic_and_sensitive(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    make_tree(a)
    # the same tree built in another order, with other times and modes
    (b / "etc").mkdir()
    (b / "etc/hosts").write_text("127.0.0.1 localhost\n")
    make_tree_b = [
        ("usr/lib/aarch64-linux-gnu/libz.so.1.2.13", b"\x7fELF zlib"),
    ]
    make_usrmerge(b, before=True)
    (b / "usr/lib/aarch64-linux-gnu").mkdir(parents=True)
    os.symlink("/no/such/file", b / "usr/lib/dangling")
    os.symlink("/", b / "usr/lib/root")
    os.symlink("../../../../../../etc/hosts", b / "usr/lib/escape")
    os.symlink("/etc", b / "usr/lib/etc-abs")
    os.symlink("/lib/aarch64-linux-gnu/libz.so.1.2.13", b / "usr/lib/aarch64-linux-gnu/libz.so")
    os.symlink("libz.so.1.2.13", b / "usr/lib/aarch64-linux-gnu/libz.so.1")
    for rel, data in make_tree_b:
        (b / rel).write_bytes(data)
        os.chmod(b / rel, 0o600)
        os.utime(b / rel, (1, 1))
    assert content_digest(a) == content_digest(b)
    # .cgocheck/ is not content
    (b / ".cgocheck").mkdir()
    (b / ".cgocheck/complete").write_text("x")
    assert content_digest(a) == content_digest(b)

    base = content_digest(a)
    (a / "etc/hosts").write_text("127.0.0.2 localhost\n")
    assert content_digest(a) != base
    (a / "etc/hosts").write_text("127.0.0.1 localhost\n")
    assert content_digest(a) == base
    os.unlink(a / "usr/lib/root")
    os.symlink("/usr", a / "usr/lib/root")
    assert content_digest(a) != base
    os.unlink(a / "usr/lib/root")
    os.symlink("/", a / "usr/lib/root")
    assert content_digest(a) == base
    (a / "usr/share").mkdir()  # an empty folder counts
    assert content_digest(a) != base


def test_digest_of_an_empty_folder(tmp_path: Path) -> None:
    import hashlib

    assert content_digest(tmp_path) == hashlib.sha256(b"").hexdigest()
