"""Binding, as ld.so does it after loading: the version needs checked first (dl-version.c),
then every undefined symbol (and the executable's copy relocations) looked up in the global
scope, executable first then the libraries in load order (dl-lookup.c), and what the
application needs from glibc, against the sysroot and the floor."""

from __future__ import annotations

from cgocheck.core import glibc as glibcver
from cgocheck.elf.model import DynamicSymbol
from cgocheck.loader.model import (
    SHIPPED_VIA,
    Binding,
    GlibcNeed,
    Interposition,
    Library,
    MissingLibrary,
    MissingVersion,
    NoVersionInfo,
    PrivateRef,
    Resolution,
    SearchSetup,
    UnresolvedSymbol,
)
from cgocheck.loader.search import LINKER_SYMBOLS, OK_BINDS, LoadedObject, Resolver
from cgocheck.sysroot.fsroot import FsRoot


def _family_newest(verdef: tuple[str, ...], version: str, n: int = 3) -> tuple[str, ...]:
    fam = glibcver.split(version)
    same = [v for v in verdef if (s := glibcver.split(v)) and fam and s[0] == fam[0]]
    return tuple(sorted(same, key=glibcver.key)[-n:])


VAGUE_BINDS = ("WEAK", "GNU_UNIQUE")


def version_need(
    app: list[LoadedObject], objects: list[LoadedObject], prefix: str, provider: str, floor: tuple[int, ...] | None
) -> GlibcNeed:
    """The newest ``<prefix>x.y`` (GLIBC_, GLIBCXX_) the application needs (its executable and
    the libraries it ships), the symbols that force it, the newest the sysroot's provider
    (libc.so.6, libstdc++.so.6) defines, and the floor."""
    best: tuple[int, ...] = ()
    best_name: str | None = None
    for o in app:
        for vn in o.facts.verneed:
            for v in vn.versions:
                if v.startswith(prefix) and (k := glibcver.key(v)) and k > best:
                    best, best_name = k, v
    forcing: list[str] = []
    if best_name:
        for o in app:
            for s in (*o.facts.undefined, *o.facts.defined):
                if s.version == best_name and (not s.defined or s.library is not None):
                    label = s.name if o.is_main else f"{s.name} ({o.label()})"
                    if label not in forcing:
                        forcing.append(label)
    lib = next((o for o in objects if provider in o.names), None)
    newest: str | None = None
    if lib is not None:
        nodes = [v for v in lib.facts.verdef if v.startswith(prefix) and glibcver.split(v)]
        newest = max(nodes, key=glibcver.key) if nodes else None
    return GlibcNeed(
        required=best_name,
        forcing=tuple(sorted(forcing)),
        sysroot=newest,
        sysroot_libc=lib.path if lib else None,
        floor=glibcver.fmt(floor) if floor else None,
        above_floor=bool(floor and best and best > floor),
        above_sysroot=bool(best and newest and best > glibcver.key(newest)),
        family=prefix.rstrip("_"),
    )


def finish(
    r: Resolver,
    binary: str,
    root: FsRoot,
    floor_key: tuple[int, ...] | None,
    cxx_floor_key: tuple[int, ...] | None = None,
) -> Resolution:
    missing = tuple(
        MissingLibrary(m.name, tuple(r.missing_needed_by[m.name]), m.problem, m.detail, m.candidates, m.searched)
        for m in r.missing.values()
    )
    missing_names = set(r.missing)
    objects = list(r.scope)
    if r.rtld is not None and not r.rtld.in_scope:
        objects.append(r.rtld)

    # Version needs (dl-version.c), before any symbol is bound.
    missing_versions: list[MissingVersion] = []
    no_info: list[NoVersionInfo] = []
    bad_nodes: set[tuple[str, str, str]] = set()  # (requester, library, version)
    if r.flavour == "glibc":
        for obj in objects:
            for vn in obj.facts.verneed:
                if vn.library in missing_names:
                    continue
                provider = r.match_loaded(vn.library)
                if provider is None:
                    r.notes.append(f"{obj.label()} needs versions from {vn.library}, which is not loaded")
                    continue
                if not provider.facts.verdef:
                    no_info.append(NoVersionInfo(vn.library, obj.label(), vn.versions, provider.path))
                    continue
                for v in vn.versions:
                    if v in provider.facts.verdef:
                        continue
                    bad_nodes.add((obj.label(), vn.library, v))
                    syms = sorted(
                        {
                            s.name
                            for s in (*obj.facts.undefined, *obj.facts.defined)
                            if s.version == v and s.library == vn.library
                        }
                    )
                    missing_versions.append(
                        MissingVersion(
                            v,
                            vn.library,
                            obj.label(),
                            provider.path,
                            _family_newest(provider.facts.verdef, v),
                            tuple(syms),
                        )
                    )

    # Binding, in the global scope.
    # An undefined symbol that no dynamic relocation names is never looked up (the loader
    # looks up what its relocations name): not bound, and when nothing defines it, not an
    # error (the program starts and nothing can ever use it), only unreferenced_symbols (S010).
    bindings: list[Binding] = []
    unresolved: list[UnresolvedSymbol] = []
    weak_unresolved: list[UnresolvedSymbol] = []
    unreferenced: list[UnresolvedSymbol] = []
    for obj in objects:
        refs: list[tuple[DynamicSymbol, str]] = [(s, "normal") for s in obj.facts.undefined]
        if obj.is_main:
            refs += [(s, "copy") for s in obj.facts.defined if s.library is not None and s.binding in OK_BINDS]
        for sym, kind in refs:
            got = r.lookup(sym, skip_main=kind == "copy")
            weak = sym.binding == "WEAK"
            looked_up = kind == "copy" or obj.facts.looked_up(sym)
            if got is not None and not looked_up:
                continue
            if got is not None:
                prov, d = got
                bindings.append(
                    Binding(
                        sym.name,
                        sym.version,
                        obj.label(),
                        prov.label(),
                        prov.path,
                        d.version,
                        (not d.hidden) if d.version else None,
                        weak,
                        kind,
                    )
                )
                continue
            cause, detail = _why_unresolved(r, sym, obj, missing_names, bad_nodes)
            u = UnresolvedSymbol(sym.name, sym.version, obj.label(), sym.library, weak, cause, detail)
            if weak:
                weak_unresolved.append(u)  # weak references: as before, whether named or not
            elif not looked_up:
                unreferenced.append(u)
            else:
                unresolved.append(u)

    # The executable's own definitions that hide a library's. Vague linkage (C++ inline
    # functions, template instantiations and their guard variables: weak or GNU_UNIQUE in the
    # executable) is the one-definition rule at work, not interposition.
    interpositions: list[Interposition] = []
    main = r.main
    for name, defs in sorted(main.defs().items()):
        own = [d for d in defs if d.library is None]
        if name in LINKER_SYMBOLS or not own or all(d.binding in VAGUE_BINDS for d in own):
            continue
        shadowed = tuple(o.label() for o in objects if not o.is_main and name in o.defs())
        if shadowed:
            interpositions.append(Interposition(name, main.label(), shadowed))

    # glibc (and libstdc++): what the application needs, against the sysroot and the floor.
    app = [o for o in objects if o.is_main or o.found_via in SHIPPED_VIA]
    private: list[PrivateRef] = []
    for o in app:
        for s in (*o.facts.undefined, *o.facts.defined):
            if s.version == "GLIBC_PRIVATE" and (s.library is not None or not s.defined):
                private.append(PrivateRef(s.name, s.version, o.label()))
    glibc = version_need(app, objects, "GLIBC_", "libc.so.6", floor_key)
    glibcxx = version_need(app, objects, "GLIBCXX_", "libstdc++.so.6", cxx_floor_key)

    libraries = tuple(
        Library(
            name=o.name,
            soname=o.facts.soname,
            path=o.path,
            real_path=o.real,
            found_via=o.found_via,
            search_dir=o.search_dir,
            source=o.source,
            needed_by=tuple(o.needed_by),
            skipped=tuple(o.skipped),
            in_scope=o.in_scope,
            notes=tuple(o.notes),
        )
        for o in objects
        if not o.is_main
    )
    setup = SearchSetup(
        flavour=r.flavour,
        default_dirs=r.default_dirs,
        default_dirs_source=r.default_source,
        ld_so_conf_dirs=r.conf_dirs,
        ld_so_conf_files=r.conf_files,
        lib=r.lib_value,
        platform=r.platform,
        install_dir=r.install_dir,
        notes=tuple(r.setup_notes),
    )
    return Resolution(
        binary=binary,
        sysroot=str(root.top),
        loader=r.interpreter,
        loader_path=r.rtld.real if r.rtld else None,
        loader_problem=r.loader_problem,
        setup=setup,
        libraries=libraries,
        missing_libraries=missing,
        bindings=tuple(bindings),
        unresolved_symbols=tuple(unresolved),
        weak_unresolved=tuple(weak_unresolved),
        unreferenced_symbols=tuple(unreferenced),
        missing_versions=tuple(missing_versions),
        no_version_info=tuple(no_info),
        interpositions=tuple(interpositions),
        private_refs=tuple(private),
        glibc=glibc,
        glibcxx=glibcxx if glibcxx.required or glibcxx.floor else None,
        notes=tuple(r.notes),
    )


def _def_label(d: DynamicSymbol) -> str:
    return (d.version or "unversioned") + ("" if d.hidden else " default")


def _why_unresolved(
    r: Resolver, sym: DynamicSymbol, obj: LoadedObject, missing: set[str], bad_nodes: set[tuple[str, str, str]]
) -> tuple[str, str]:
    if sym.library and sym.library in missing:
        return "missing-library", f"its library {sym.library} was not loaded"
    if sym.library and sym.version and (obj.label(), sym.library, sym.version) in bad_nodes:
        return "missing-version", f"{sym.library} has no version node {sym.version}"
    elsewhere = [
        f"{o.label()} ({', '.join(sorted({_def_label(d) for d in o.defs()[sym.name]}))})"
        for o in r.scope
        if sym.name in o.defs()
    ]
    if elsewhere:
        return "version-mismatch", "defined only with other versions: " + "; ".join(elsewhere[:3])
    if missing:
        return "no-definition", f"defined by no loaded object ({len(missing)} needed libraries are missing)"
    return "no-definition", "defined by no loaded object"
