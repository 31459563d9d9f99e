"""resolve's library search on sysroot folders assembled at test time from the host's real
libraries (x86-64 Debian: its loader, libc, libm, libz). Only the executable's dynamic
tags are varied (RPATH, RUNPATH, NEEDED), on facts read from a real binary."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from cgocheck.checks import check_resolution
from cgocheck.elf import read_shared_object
from cgocheck.elf.model import SharedObjectFacts
from cgocheck.loader import search as search_mod
from cgocheck.loader.ldconf import glob_in_root, read_ld_so_conf, read_musl_path
from cgocheck.loader.model import Resolution
from cgocheck.sysroot.fsroot import FsRoot
from tests.support.resolve_tree import ARM64_LIBM, HOST, HOST_OK, HOST_REASON, T, base_tree, put, run

pytestmark = pytest.mark.skipif(not HOST_OK, reason=HOST_REASON)


def libs(res: Resolution) -> list[tuple[str, str, str]]:
    return [(lib.name, lib.path, lib.found_via) for lib in res.libraries]


def rules(res: Resolution) -> list[str]:
    return sorted(f.rule for f in check_resolution(res))


# --- the loader and its default folders ---------------------------------------------


def test_default_folders_are_read_from_the_loader(tmp_path: Path) -> None:
    res = run(base_tree(tmp_path))
    assert res.setup.default_dirs == (f"/lib/{T}", f"/usr/lib/{T}", "/lib", "/usr/lib")
    assert res.setup.default_dirs_source.startswith("built into")
    assert res.setup.lib == f"lib/{T}"  # Debian's $LIB
    assert res.setup.platform == "x86_64"
    assert res.loader_path == f"/usr/lib/{T}/ld-linux-x86-64.so.2"  # through two re-rooted links
    assert libs(res) == [
        ("libc.so.6", f"/lib/{T}/libc.so.6", "default"),
        ("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", "loader"),
    ]
    assert res.starts and rules(res) == ["S005"]


@pytest.mark.fires("L004")
def test_missing_loader_is_l004_and_default_folders_are_assumed(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    os.unlink(root / "usr" / "lib" / T / "ld-linux-x86-64.so.2")
    res = run(root)
    assert res.loader_problem is not None and res.loader_problem.problem == "not-found"
    assert res.setup.default_dirs_source == "assumed (Debian multiarch layout)"
    assert "L004" in rules(res)


def test_breadth_first_load_order_and_each_soname_once(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, f"/usr/lib/{T}/libm.so.6", HOST["libm"])
    put(root, f"/usr/lib/{T}/libz.so.1", HOST["libz"])
    # exe: libz, libm; libz needs libc; libm needs libc and the loader.
    res = run(root, needed=("libz.so.1", "libm.so.6"))
    assert [lib.name for lib in res.libraries] == [
        "libz.so.1",
        "libm.so.6",
        "libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",  # joins the scope where libm names it, as ld.so does
    ]
    loader = res.libraries[-1]
    assert loader.found_via == "loader" and loader.in_scope and loader.needed_by == ("libm.so.6", "libc.so.6")
    assert res.library("libc.so.6") is not None
    assert res.library("libc.so.6").needed_by == ("libz.so.1", "libm.so.6")  # type: ignore[union-attr]


def test_loader_joins_the_scope_through_libc(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, f"/usr/lib/{T}/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1",))
    assert [(lib.name, lib.in_scope) for lib in res.libraries] == [
        ("libz.so.1", True),
        ("libc.so.6", True),
        ("/lib64/ld-linux-x86-64.so.2", True),
    ]


# --- RPATH and RUNPATH ----------------------------------------------------------------


def test_rpath_is_inherited_by_the_libraries_it_loads(tmp_path: Path) -> None:
    root = base_tree(tmp_path, libc_dir="/opt/a")
    put(root, "/opt/a/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1",), rpath=("/opt/a",))
    got = {lib.name: (lib.found_via, lib.source) for lib in res.libraries}
    assert got["libz.so.1"] == ("rpath", "/work/prog")
    assert got["libc.so.6"] == ("rpath", "/work/prog")  # libz has no run path: the exe's RPATH serves it
    assert res.starts


def test_runpath_is_not_inherited(tmp_path: Path) -> None:
    root = base_tree(tmp_path, libc_dir="/opt/a")
    put(root, "/opt/a/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1",), runpath=("/opt/a",))
    assert [(lib.name, lib.found_via, lib.in_scope) for lib in res.libraries] == [
        ("libz.so.1", "runpath", True),
        ("/lib64/ld-linux-x86-64.so.2", "loader", False),  # nothing loaded names it
    ]
    (miss,) = res.missing_libraries
    assert miss.name == "libc.so.6" and miss.problem == "not-found" and miss.needed_by == ("libz.so.1",)
    assert [s.rule for s in miss.searched] == ["default"] * 4
    assert "L001" in rules(res)


def test_rpath_is_ignored_when_the_same_object_has_runpath(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, "/opt/rpath/libz.so.1", HOST["libz"])
    put(root, "/opt/runpath/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1", "libc.so.6"), rpath=("/opt/rpath",), runpath=("/opt/runpath",))
    assert res.library("libz.so.1").path == "/opt/runpath/libz.so.1"  # type: ignore[union-attr]


def test_rpath_comes_before_ld_so_conf_and_runpath_after_it_is_the_requesters_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library with its own DT_RUNPATH does not use the executable's DT_RPATH."""
    root = base_tree(tmp_path)
    put(root, "/opt/a/libz.so.1", HOST["libz"])
    put(root, "/opt/a/libm.so.6", HOST["libm"])
    put(root, f"/usr/lib/{T}/libm.so.6", HOST["libm"])
    real: Callable[..., SharedObjectFacts] = read_shared_object

    def patched(path: str, *, display_path: str | None = None) -> SharedObjectFacts:
        facts = real(path, display_path=display_path)
        if display_path == "/opt/a/libz.so.1":  # give libz a RUNPATH and a NEEDED libm
            facts = dataclasses.replace(facts, runpath=("/nowhere",), needed=("libm.so.6", *facts.needed))
        return facts

    monkeypatch.setattr(search_mod, "read_shared_object", patched)
    res = run(root, needed=("libz.so.1",), rpath=("/opt/a",))
    assert res.library("libz.so.1").path == "/opt/a/libz.so.1"  # type: ignore[union-attr]
    # libz has a RUNPATH: the exe's RPATH is not searched for libz's needs.
    assert res.library("libm.so.6").path == f"/lib/{T}/libm.so.6"  # type: ignore[union-attr]


def test_origin_of_the_executable_and_of_a_library(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, "/opt/app/lib/libz.so.1", HOST["libz"])
    put(root, "/opt/app/bin/prog", HOST["exe"])
    binary = str(root / "opt" / "app" / "bin" / "prog")
    res = run(root, binary=binary, needed=("libz.so.1", "libc.so.6"), runpath=("$ORIGIN/../lib",))
    assert res.setup.install_dir == "/opt/app/bin"  # it lies inside the sysroot
    lib = res.library("libz.so.1")
    assert lib is not None and lib.path == "/opt/app/bin/../lib/libz.so.1"  # as ld.so spells it
    assert lib.real_path == "/opt/app/lib/libz.so.1" and lib.found_via == "runpath"
    # --install-dir wins, ${ORIGIN} is the same token
    res2 = run(root, install_dir="/opt/app/bin", needed=("libz.so.1",), runpath=("${ORIGIN}/../lib",))
    assert res2.library("libz.so.1") is not None


def test_origin_unknown_outside_the_sysroot_is_said_not_guessed(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, "/opt/app/lib/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1", "libc.so.6"), runpath=("$ORIGIN/../lib",))
    assert [m.name for m in res.missing_libraries] == ["libz.so.1"]
    assert any("--install-dir" in n for n in res.notes)
    (l001,) = [f for f in check_resolution(res) if f.rule == "L001"]
    assert "--install-dir" in l001.message


def test_lib_and_platform_tokens(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, f"/opt/lib/{T}/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1", "libc.so.6"), runpath=("/opt/$LIB",))
    assert res.library("libz.so.1").path == f"/opt/lib/{T}/libz.so.1"  # type: ignore[union-attr]
    put(root, "/p/x86_64/libm.so.6", HOST["libm"])
    res = run(root, needed=("libm.so.6", "libc.so.6"), runpath=("/p/$PLATFORM", "/p/$PLATFORMX"))
    assert res.library("libm.so.6").path == "/p/x86_64/libm.so.6"  # type: ignore[union-attr]


def test_needed_with_a_slash_is_a_path(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, "/opt/z/libz.so.1", HOST["libz"])
    put(root, f"/usr/lib/{T}/libz.so.1", HOST["libz"])
    res = run(root, needed=("/opt/z/libz.so.1", "libc.so.6"))
    lib = res.library("/opt/z/libz.so.1")
    assert lib is not None and lib.found_via == "path" and lib.path == "/opt/z/libz.so.1"


def test_same_file_under_two_names_is_loaded_once(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, f"/usr/lib/{T}/libz.so.1.2.13", HOST["libz"])
    os.symlink("libz.so.1.2.13", root / "usr" / "lib" / T / "libz.so.1")
    res = run(root, needed=("libz.so.1", f"/usr/lib/{T}/libz.so.1.2.13", "libc.so.6"))
    assert [lib.name for lib in res.libraries].count("libz.so.1") == 1
    assert len([lib for lib in res.libraries if "libz" in lib.name]) == 1


# --- ld.so.conf ------------------------------------------------------------------------


def test_ld_so_conf_includes_globs_comments_and_order(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    etc = root / "etc"
    (etc / "ld.so.conf.d").mkdir(parents=True)
    (etc / "ld.so.conf").write_text(
        "# top\n/opt/first\ninclude ld.so.conf.d/*.conf\n  /opt/last/ # trailing\n/usr/lib/libc5=libc5\nhwcap 1 x\n"
    )
    (etc / "ld.so.conf.d" / "b.conf").write_text("/opt/b\n/opt/first\n")
    (etc / "ld.so.conf.d" / "a.conf").write_text("/opt/a\ninclude /etc/ld.so.conf\n")
    (etc / "ld.so.conf.d" / "c.txt").write_text("/opt/not-a-conf\n")
    (etc / "ld.so.conf.d" / ".hidden.conf").write_text("/opt/hidden\n")
    conf = read_ld_so_conf(FsRoot(root))
    assert conf.dirs == ("/opt/first", "/opt/a", "/opt/b", "/opt/last", "/usr/lib/libc5")
    assert conf.files == ("/etc/ld.so.conf", "/etc/ld.so.conf.d/a.conf", "/etc/ld.so.conf.d/b.conf")
    assert any("already read" in n for n in conf.notes)
    # a library found only in a conf folder is found through it, before the defaults
    put(root, "/opt/b/libz.so.1", HOST["libz"])
    put(root, f"/usr/lib/{T}/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1", "libc.so.6"))
    lib = res.library("libz.so.1")
    assert lib is not None and (lib.path, lib.found_via) == ("/opt/b/libz.so.1", "ld.so.conf")


def test_debian_default_include_is_assumed_without_ld_so_conf(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    (root / "etc" / "ld.so.conf.d").mkdir(parents=True)
    (root / "etc" / "ld.so.conf.d" / f"{T}.conf").write_text(f"/usr/local/lib/{T}\n/lib/{T}\n/usr/lib/{T}\n")
    conf = read_ld_so_conf(FsRoot(root))
    assert conf.dirs == (f"/usr/local/lib/{T}", f"/lib/{T}", f"/usr/lib/{T}")
    assert res_libc_via(root) == "ld.so.conf"


def res_libc_via(root: Path) -> str:
    lib = run(root).library("libc.so.6")
    assert lib is not None
    return lib.found_via


def test_include_glob_cannot_leave_the_sysroot(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    (root / "etc").mkdir()
    os.symlink("/etc", root / "etc" / "host")  # absolute: re-rooted to the sysroot's /etc
    (root / "etc" / "ld.so.conf").write_text("include ../../../../etc/*.conf\ninclude /etc/host/*.conf\n")
    fs = FsRoot(root)
    assert glob_in_root(fs, "../../../../etc/*.conf") == ["/etc/ld.so.conf"]
    conf = read_ld_so_conf(fs)
    assert conf.files == ("/etc/ld.so.conf",) and conf.dirs == ()


def test_musl_path_file(tmp_path: Path) -> None:
    root = tmp_path / "m"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "ld-musl-aarch64.path").write_text("/lib\n/usr/lib/aarch64-linux-musl:/usr/lib\nrel\n")
    conf = read_musl_path(FsRoot(root), "/etc/ld-musl-aarch64.path")
    assert conf.dirs == ("/lib", "/usr/lib/aarch64-linux-musl", "/usr/lib")
    assert read_musl_path(FsRoot(root), "/etc/none.path").dirs == ("/lib", "/usr/local/lib", "/usr/lib")


# --- candidates the loader skips or stops at -------------------------------------------


@pytest.mark.fires("L002")
@pytest.mark.skipif(not ARM64_LIBM.exists(), reason="needs libc6-arm64-cross (/usr/aarch64-linux-gnu)")
def test_wrong_machine_is_skipped_and_the_search_goes_on(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, "/opt/a/libm.so.6", ARM64_LIBM)
    put(root, f"/usr/lib/{T}/libm.so.6", HOST["libm"])
    res = run(root, needed=("libm.so.6",), runpath=("/opt/a",))
    lib = res.library("libm.so.6")
    assert lib is not None and lib.path == f"/lib/{T}/libm.so.6"
    (skipped,) = lib.skipped
    assert skipped.path == "/opt/a/libm.so.6" and "AArch64" in skipped.reason and not skipped.fatal
    # only the wrong one: L002
    os.unlink(root / "usr" / "lib" / T / "libm.so.6")
    res = run(root, needed=("libm.so.6", "libc.so.6"), runpath=("/opt/a",))
    assert [m.problem for m in res.missing_libraries] == ["wrong-architecture"]
    assert rules(res).count("L002") == 1


@pytest.mark.fires("L003")
def test_a_non_elf_candidate_stops_the_search(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    (root / "opt" / "a").mkdir(parents=True)
    (root / "opt" / "a" / "libz.so.1").write_text("INPUT(-lz)\n")
    put(root, f"/usr/lib/{T}/libz.so.1", HOST["libz"])
    res = run(root, needed=("libz.so.1", "libc.so.6"), runpath=("/opt/a",))
    (m,) = res.missing_libraries
    assert m.problem == "unloadable" and "invalid ELF header" in m.detail
    assert m.candidates[-1].path == "/opt/a/libz.so.1" and m.candidates[-1].fatal
    assert "L003" in rules(res)


def test_truncated_library_is_l003(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    data = HOST["libz"].read_bytes()
    (root / "usr" / "lib" / T / "libz.so.1").write_bytes(data[: len(data) // 3])
    res = run(root, needed=("libz.so.1", "libc.so.6"))
    (m,) = res.missing_libraries
    assert m.problem == "unloadable" and "damaged" in m.detail
