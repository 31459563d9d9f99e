"""Symbol binding and version checks on real libraries (the host's libc, loader, libXau):
only the executable's references are varied, as DynamicSymbol/VersionNeed facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cgocheck.checks import check_resolution
from cgocheck.elf.model import DynamicSymbol, VersionNeed
from cgocheck.loader.model import Resolution
from tests.support.resolve_tree import BINARY, HOST_OK, HOST_REASON, T, base_tree, put, run

pytestmark = pytest.mark.skipif(not HOST_OK, reason=HOST_REASON)
LIBXAU = Path(f"/lib/{T}/libXau.so.6")


def und(name: str, version: str | None = None, library: str | None = "libc.so.6", weak: bool = False) -> DynamicSymbol:
    return DynamicSymbol(name, version, library if version else None, "WEAK" if weak else "GLOBAL", "FUNC", False)


def refs(
    root: Path,
    *symbols: DynamicSymbol,
    needed: tuple[str, ...] = ("libc.so.6",),
    glibc_floor: str | None = None,
    **changes: object,
) -> Resolution:
    """Resolve the executable with SYMBOLS undefined (and their version needs), CHANGES to its
    other facts."""
    vn: dict[str, list[str]] = {}
    for s in symbols:
        if s.version and s.library and s.version not in vn.setdefault(s.library, []):
            vn[s.library].append(s.version)
    verneed = tuple(VersionNeed(lib, tuple(vs)) for lib, vs in vn.items())
    # every keyword of run() named, so that CHANGES can only be its **changes
    return run(
        root,
        binary=BINARY,
        install_dir=None,
        glibc_floor=glibc_floor,
        needed=needed,
        undefined=symbols,
        verneed=verneed,
        **changes,
    )


def binding(res: Resolution, symbol: str) -> tuple[str, str | None, bool | None]:
    (b,) = [b for b in res.bindings if b.symbol == symbol and b.requester == res.binary]
    return b.provider, b.provider_version, b.default


def rules(res: Resolution) -> list[str]:
    return sorted(f.rule for f in check_resolution(res))


@pytest.mark.fires("S004")
def test_versioned_references_bind_default_and_compat_versions(tmp_path: Path) -> None:
    res = refs(
        base_tree(tmp_path), und("memcpy", "GLIBC_2.14"), und("memcpy_compat", None), und("realpath", "GLIBC_2.2.5")
    )
    assert binding(res, "memcpy") == ("libc.so.6", "GLIBC_2.14", True)
    # realpath@GLIBC_2.2.5 is libc's compatibility version (the default is @@GLIBC_2.3)
    assert binding(res, "realpath") == ("libc.so.6", "GLIBC_2.2.5", False)
    assert "S004" in rules(res)
    assert [u.symbol for u in res.unresolved_symbols] == ["memcpy_compat"]


def test_unversioned_reference_binds_the_oldest_or_the_default_version(tmp_path: Path) -> None:
    """dl-lookup.c: an unversioned reference (an 'old unversioned application') takes the
    library's base version (index 2, GLIBC_2.2.5 on x86-64) when there is one, else the
    one default version."""
    res = refs(base_tree(tmp_path), und("realpath"), und("memcpy"), und("getrandom"))
    assert binding(res, "realpath") == ("libc.so.6", "GLIBC_2.2.5", False)
    assert binding(res, "memcpy") == ("libc.so.6", "GLIBC_2.2.5", False)
    assert binding(res, "getrandom") == ("libc.so.6", "GLIBC_2.25", True)
    assert "S004" not in rules(res)  # S004 is about versioned references only


def test_loader_symbols_come_from_the_loader(tmp_path: Path) -> None:
    res = refs(
        base_tree(tmp_path),
        und("__tls_get_addr", "GLIBC_2.3", "ld-linux-x86-64.so.2"),
        needed=("libc.so.6", "ld-linux-x86-64.so.2"),
    )
    assert binding(res, "__tls_get_addr")[0] == "/lib64/ld-linux-x86-64.so.2"
    # libc's own references to the loader bind too
    assert any(b.requester == "libc.so.6" and b.symbol == "_rtld_global" for b in res.bindings)


@pytest.mark.fires("S002")
def test_missing_version_node_is_s002_and_not_s001(tmp_path: Path) -> None:
    res = refs(base_tree(tmp_path), und("__libc_start_main", "GLIBC_9.99"), und("puts", "GLIBC_2.2.5"))
    (mv,) = res.missing_versions
    assert (mv.version, mv.library, mv.symbols) == ("GLIBC_9.99", "libc.so.6", ("__libc_start_main",))
    assert mv.newest[-1].startswith("GLIBC_2.")
    assert not res.starts
    assert rules(res) == ["S002"]
    (u,) = res.unresolved_symbols
    assert u.cause == "missing-version"


@pytest.mark.fires("S001", "S005")
def test_unresolved_and_weak_unresolved(tmp_path: Path) -> None:
    res = refs(base_tree(tmp_path), und("no_such_function"), und("no_such_weak", weak=True))
    assert [u.symbol for u in res.unresolved_symbols] == ["no_such_function"]
    assert [u.symbol for u in res.weak_unresolved if u.requester == res.binary] == ["no_such_weak"]
    assert rules(res) == ["S001", "S005"]


@pytest.mark.fires("S003")
def test_glibc_floor_names_the_forcing_symbols(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    res = refs(root, und("memcpy", "GLIBC_2.14"), und("__libc_start_main", "GLIBC_2.34"), glibc_floor="2.31")
    assert res.glibc.required == "GLIBC_2.34" and res.glibc.forcing == ("__libc_start_main",)
    assert res.glibc.above_floor and not res.glibc.above_sysroot
    assert res.glibc.sysroot is not None and res.glibc.sysroot >= "GLIBC_2.34"
    (s003,) = [f for f in check_resolution(res) if f.rule == "S003"]
    assert "__libc_start_main" in s003.message
    ok = refs(root, und("memcpy", "GLIBC_2.14"), glibc_floor="GLIBC_2.17")
    assert not ok.glibc.above_floor and "S003" not in rules(ok)


def run_glibc_floor(root: Path, floor: str) -> Resolution:
    return refs(root, und("memcpy", "GLIBC_2.14"), glibc_floor=floor)


def test_bad_glibc_floor_is_bad_input(tmp_path: Path) -> None:
    from cgocheck.core.errors import BadInput

    with pytest.raises(BadInput):
        run_glibc_floor(base_tree(tmp_path), "two.thirty")


@pytest.mark.fires("S006")
def test_executable_definitions_interpose_and_copy_relocations_do_not(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    defined = (
        DynamicSymbol("malloc", None, None, "GLOBAL", "FUNC", True),
        DynamicSymbol("environ", "GLIBC_2.2.5", "libc.so.6", "WEAK", "OBJECT", True),  # a copy relocation
        DynamicSymbol("_IO_stdin_used", None, None, "GLOBAL", "OBJECT", True),
    )
    res = refs(root, und("puts", "GLIBC_2.2.5"), defined=defined)
    assert [(i.symbol, i.shadowed) for i in res.interpositions] == [("malloc", ("libc.so.6",))]
    (copy,) = [b for b in res.bindings if b.kind == "copy"]
    assert (copy.symbol, copy.provider, copy.provider_version) == ("environ", "libc.so.6", "GLIBC_2.2.5")
    assert "S006" in rules(res)


@pytest.mark.fires("S008")
def test_glibc_private_use_is_s008(tmp_path: Path) -> None:
    res = refs(
        base_tree(tmp_path),
        und("_dl_argv", "GLIBC_PRIVATE", "ld-linux-x86-64.so.2"),
        needed=("libc.so.6", "ld-linux-x86-64.so.2"),
    )
    assert [(p.symbol, p.requester) for p in res.private_refs] == [("_dl_argv", res.binary)]
    assert "S008" in rules(res)


@pytest.mark.fires("S007")
@pytest.mark.skipif(not LIBXAU.exists(), reason="needs libXau6 (a library without version definitions)")
def test_versions_required_from_an_unversioned_library_is_s007(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    put(root, f"/usr/lib/{T}/libXau.so.6", LIBXAU)
    res = refs(root, und("XauFileName", "XAU_1.0", "libXau.so.6"), needed=("libXau.so.6", "libc.so.6"))
    (nv,) = res.no_version_info
    assert (nv.library, nv.versions) == ("libXau.so.6", ("XAU_1.0",))
    # ld.so binds a versioned reference to an object without version definitions
    assert binding(res, "XauFileName")[0] == "libXau.so.6"
    assert rules(res) == ["S007"]
