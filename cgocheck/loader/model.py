"""What resolve found: the libraries in load order, how each was found or why it was not,
every symbol binding and what failed (the model the checks and renderers take)."""

from __future__ import annotations

from dataclasses import dataclass

# Rules by which a library was found.
VIA_RPATH = "rpath"
VIA_RUNPATH = "runpath"
VIA_LDCONF = "ld.so.conf"
VIA_DEFAULT = "default"
VIA_LOADER = "loader"
VIA_PATH = "path"  # DT_NEEDED with a '/' in it
SHIPPED_VIA = (VIA_RPATH, VIA_RUNPATH, VIA_PATH)  # libraries that come with the application


@dataclass(frozen=True)
class Candidate:
    """A file the loader would open and reject."""

    path: str  # guest path tried
    reason: str
    fatal: bool  # True: the real loader stops there with an error; False: it keeps searching


@dataclass(frozen=True)
class SearchStep:
    dir: str  # guest folder
    rule: str  # rpath | runpath | ld.so.conf | default
    source: str | None = None  # object whose RPATH/RUNPATH it came from


@dataclass(frozen=True)
class Library:
    name: str  # the name it was first requested by (DT_NEEDED, or PT_INTERP for the loader)
    soname: str | None  # its DT_SONAME
    path: str  # the path the loader opens (search folder + name), as ldd prints it
    real_path: str  # the same after the sysroot's links
    found_via: str  # rpath | runpath | ld.so.conf | default | loader | path
    search_dir: str | None
    source: str | None  # object whose RPATH/RUNPATH gave the folder
    needed_by: tuple[str, ...]
    skipped: tuple[Candidate, ...]
    in_scope: bool  # part of the global symbol scope (the loader is only once something needs it)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MissingLibrary:
    name: str
    needed_by: tuple[str, ...]
    problem: str  # not-found | wrong-architecture | unloadable
    detail: str
    candidates: tuple[Candidate, ...]
    searched: tuple[SearchStep, ...]


@dataclass(frozen=True)
class Binding:
    symbol: str
    version: str | None  # the version the reference asks for
    requester: str
    provider: str  # the provider's name (soname, or the executable's path)
    provider_path: str
    provider_version: str | None
    default: bool | None  # True: sym@@V, False: sym@V (non-default), None: unversioned definition
    weak: bool  # the reference is weak
    kind: str = "normal"  # normal | copy (the executable's copy relocation)


@dataclass(frozen=True)
class UnresolvedSymbol:
    symbol: str
    version: str | None
    requester: str
    library: str | None  # the library Verneed names for it
    weak: bool
    cause: str  # missing-library | missing-version | version-mismatch | no-definition
    detail: str


@dataclass(frozen=True)
class MissingVersion:
    version: str
    library: str  # the Verneed file name
    requester: str
    provider_path: str
    newest: tuple[str, ...]  # the newest nodes of that family the library does define
    symbols: tuple[str, ...]  # the requester's symbols that need it


@dataclass(frozen=True)
class NoVersionInfo:
    library: str
    requester: str
    versions: tuple[str, ...]
    provider_path: str


@dataclass(frozen=True)
class Interposition:
    symbol: str
    executable: str
    shadowed: tuple[str, ...]  # libraries whose definitions the executable's hides


@dataclass(frozen=True)
class PrivateRef:
    symbol: str
    version: str
    requester: str


@dataclass(frozen=True)
class GlibcNeed:
    """The newest GLIBC_x.y (or GLIBCXX_x.y) the application (executable and the libraries it
    ships) needs."""

    required: str | None
    forcing: tuple[str, ...]  # "symbol" or "symbol (requester)"
    sysroot: str | None  # newest version the sysroot's libc.so.6 (libstdc++.so.6) defines
    sysroot_libc: str | None  # its path
    floor: str | None  # --glibc-floor (--glibcxx-floor), as "2.31" ("3.4.28")
    above_floor: bool
    above_sysroot: bool
    family: str = "GLIBC"  # GLIBC | GLIBCXX


@dataclass(frozen=True)
class SearchSetup:
    flavour: str  # glibc | musl | static
    default_dirs: tuple[str, ...]
    default_dirs_source: str
    ld_so_conf_dirs: tuple[str, ...]
    ld_so_conf_files: tuple[str, ...]
    lib: str  # what $LIB expands to
    platform: str | None  # what $PLATFORM expands to (None: unknown, elements using it dropped)
    install_dir: str | None  # the executable's $ORIGIN
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    binary: str
    sysroot: str
    loader: str | None  # PT_INTERP
    loader_path: str | None  # where it is in the sysroot (guest path, links followed)
    loader_problem: MissingLibrary | None
    setup: SearchSetup
    libraries: tuple[Library, ...]  # load order; the loader last when nothing needs it
    missing_libraries: tuple[MissingLibrary, ...]
    bindings: tuple[Binding, ...]
    unresolved_symbols: tuple[UnresolvedSymbol, ...]  # strong references: the program fails
    weak_unresolved: tuple[UnresolvedSymbol, ...]  # weak references: they stay NULL, fine
    missing_versions: tuple[MissingVersion, ...]
    no_version_info: tuple[NoVersionInfo, ...]
    interpositions: tuple[Interposition, ...]
    private_refs: tuple[PrivateRef, ...]  # GLIBC_PRIVATE used by the application
    glibc: GlibcNeed
    notes: tuple[str, ...] = ()
    glibcxx: GlibcNeed | None = None  # when the application needs libstdc++ versions (or has a floor)
    # strong undefined symbols that no dynamic relocation names and nothing defines: the
    # loader never looks them up, the program starts (S010, info)
    unreferenced_symbols: tuple[UnresolvedSymbol, ...] = ()

    @property
    def starts(self) -> bool:
        """Would the loader get as far as running the program?"""
        return not (self.loader_problem or self.missing_libraries or self.missing_versions or self.unresolved_symbols)

    def library(self, name: str) -> Library | None:
        for lib in self.libraries:
            if name in (lib.name, lib.soname, lib.path, lib.real_path):
                return lib
        return None
