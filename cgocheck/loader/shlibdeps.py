"""The Debian ``Depends:`` a binary needs, worked out as dpkg-shlibdeps does, from the
``symbols`` and ``shlibs`` files of the packages in a sysroot.

For each library the binary names in DT_NEEDED (found where the target's loader finds it,
:mod:`cgocheck.loader.resolve`):

1. the package that ships it (the sysroot's dpkg database, :mod:`cgocheck.sysroot.dpkgdb`);
2. that package's ``symbols`` file, if it describes the SONAME: the dependency template
   (``libc6 #MINVER#``) starts at the smallest version of any of its symbols, then every
   symbol the binary imports (``name@VERSION``, ``name@Base`` when unversioned; copy
   relocations count as imports) raises it to that symbol's minimal version, looked up in
   the SONAMEs' symbols files in DT_NEEDED order, deprecated symbols left out;
3. else its ``shlibs`` file's line for the library's name and version (an unversioned
   ``deb`` line or an untyped one), taken as written.

The same template from several libraries keeps the highest version; ``#MINVER#`` becomes
``(>= VERSION)`` (or nothing when no version was found), and the list is sorted as
Dpkg::Deps sorts it. What dpkg-shlibdeps adds from debian/control (Build-Depends-Package)
and from debian/shlibs.local or /etc/dpkg/shlibs.* has no equivalent for a lone binary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from debian.debian_support import Version

from cgocheck.elf.model import DynamicSymbol, SharedObjectFacts
from cgocheck.loader.model import Resolution
from cgocheck.sysroot.dpkgdb import DpkgDb

_SYMBOL_LINE = re.compile(r"^(?:\s+|#(?:DEPRECATED|MISSING): ([^#]+)#\s*)(.*)")
_INCLUDE = re.compile(r'^(\(.*\))?#include\s+"([^"]+)"')
_ALT = re.compile(r"^\|\s*(.*)$")
_FIELD = re.compile(r"^\*\s*([^:]+):\s*(.*\S)\s*$")
_OBJECT = re.compile(r"^(\S+)\s+(.*)$")
_SHLIBS = re.compile(r"^\s*(?:(\S+):\s+)?(\S+)\s+(\S+)(?:\s+(\S.*\S))?\s*$")
_REST = re.compile(r"^\s(\S+)(?:\s(\d+))?")
_PATTERN_TAGS = ("c++", "symver", "regex")


@dataclass(frozen=True)
class SymbolEntry:
    name: str  # "malloc@GLIBC_2.17"
    minver: str
    dep_id: int
    deprecated: bool


@dataclass
class SymbolsObject:
    soname: str
    deps: list[str]  # dependency templates; a symbol's dep_id indexes them
    symbols: dict[str, SymbolEntry] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    patterns: int = 0  # (c++), (symver), (regex) entries: matched by no exact lookup

    def smallest(self, dep_id: int = 0) -> str | None:
        best: str | None = None
        for s in self.symbols.values():
            if s.dep_id != dep_id:
                continue
            if best is None or vcmp(best, s.minver) > 0:
                best = s.minver
        return best


def vcmp(a: str, b: str) -> int:
    """Debian version order (dpkg --compare-versions); unparseable versions as strings."""
    try:
        va, vb = Version(a), Version(b)
    except ValueError:
        return (a > b) - (a < b)
    return (va > vb) - (va < vb)


def _tags_and_rest(spec: str) -> tuple[tuple[str, ...], str]:
    if spec.startswith("("):
        end = spec.find(")")
        if end > 0:
            tags = tuple(t.split("=", 1)[0].strip() for t in spec[1:end].split("|"))
            return tags, spec[end + 1 :]
    return (), spec


def parse_symbols(text: str) -> dict[str, SymbolsObject]:
    """A symbols file (deb-symbols(5)) as its objects, keyed by SONAME."""
    objs: dict[str, SymbolsObject] = {}
    cur: SymbolsObject | None = None
    for line in text.splitlines():
        m = _SYMBOL_LINE.match(line)
        if m:
            if cur is None:
                continue
            deprecated = bool(m.group(1))
            tags, spec = _tags_and_rest(m.group(2))
            if spec[:1] in "'\"" and tags:
                q = spec[0]
                end = spec.find(q, 1)
                name, rest = (spec[1:end], spec[end + 1 :]) if end > 0 else (spec, "")
            else:
                name, _, tail = spec.partition(" ")
                rest = " " + tail if tail else ""
            r = _REST.match(rest)
            if not name or r is None:
                continue
            if any(t in _PATTERN_TAGS for t in tags):
                cur.patterns += 1
                continue
            cur.symbols[name] = SymbolEntry(name, r.group(1), int(r.group(2) or 0), deprecated)
            continue
        if _INCLUDE.match(line) or not line.strip() or line.startswith("#"):
            continue
        if (a := _ALT.match(line)) and cur is not None:
            cur.deps.append(a.group(1))
        elif (f := _FIELD.match(line)) and cur is not None:
            cur.fields[f.group(1).strip().title()] = f.group(2)
        elif o := _OBJECT.match(line):
            cur = objs.get(o.group(1))
            if cur is None:
                cur = objs[o.group(1)] = SymbolsObject(o.group(1), [o.group(2)])
            else:
                cur.deps = [o.group(2)]
    return objs


def split_soname(soname: str) -> tuple[str, str] | None:
    """``libz.so.1`` -> (libz, 1); ``libfoo-2.0.so`` -> (libfoo, 2.0); else None."""
    m = re.fullmatch(r"(.+)\.so\.(.+)", soname)
    if m:
        return m.group(1), m.group(2)
    m = re.fullmatch(r"(.+)-(\d.*)\.so", soname)
    if m:
        return m.group(1), m.group(2)
    return None


def shlibs_dependency(text: str, soname: str, package_type: str = "deb") -> str | None:
    """The dependency a shlibs file (deb-shlibs(5)) gives SONAME: a line of its package type,
    else the first untyped one."""
    nv = split_soname(soname)
    if nv is None:
        return None
    dep: str | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _SHLIBS.match(line.rstrip())
        if not m or (m.group(2), m.group(3)) != nv:
            continue
        if m.group(1) is not None:
            if m.group(1) == package_type:
                return m.group(4) or ""
        elif dep is None:
            dep = m.group(4) or ""
    return dep


# --- the result ------------------------------------------------------------------------


@dataclass(frozen=True)
class SetBy:
    symbol: str  # "name@VERSION"
    soname: str
    minver: str


@dataclass(frozen=True)
class Dependency:
    text: str  # "libc6 (>= 2.34)"
    template: str  # "libc6 #MINVER#" or the shlibs line's dependency
    version: str | None  # the minimal version #MINVER# became
    source: str  # symbols | shlibs
    sonames: tuple[str, ...]
    floor: str | None  # the smallest version in the symbols file (where it starts)
    set_by: tuple[SetBy, ...]  # the imports whose minimal version is the result (above the floor)
    symbols: int  # how many imports it covers

    def as_json(self) -> dict[str, object]:
        return {
            "dependency": self.text,
            "template": self.template,
            "version": self.version,
            "source": self.source,
            "sonames": list(self.sonames),
            "floor": self.floor,
            "set_by": [{"symbol": s.symbol, "soname": s.soname, "minver": s.minver} for s in self.set_by],
            "symbols": self.symbols,
        }


@dataclass(frozen=True)
class LibraryInfo:
    soname: str
    path: str | None  # guest path the loader opens; None when not found
    package: str | None
    package_version: str | None
    info: str  # symbols | shlibs | none | not-found | private
    info_file: str | None  # guest path of the symbols or shlibs file used
    symbols_used: int = 0

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DepsResult:
    binary: str
    sysroot: str
    admindir: str | None
    depends: tuple[str, ...]
    dependencies: tuple[Dependency, ...]
    libraries: tuple[LibraryInfo, ...]
    unknown_symbols: tuple[str, ...]  # imports no symbols file or library names
    warnings: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        return ", ".join(self.depends)

    @property
    def complete(self) -> bool:
        return all(lib.info in ("symbols", "shlibs", "private") for lib in self.libraries)


_RELATION_ORDER = {None: 0, ">=": 1, ">>": 2, "=": 3, "<<": 4, "<=": 5}
_SIMPLE = re.compile(r"^\s*([a-zA-Z0-9][a-zA-Z0-9+.:-]*)\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?")


def _sort_key(dep: str) -> list[tuple[str, int, str]]:
    out = []
    for alt in dep.split("|"):
        m = _SIMPLE.match(alt)
        if not m:
            out.append((alt.strip(), 0, ""))
            continue
        rel = {"<": "<=", ">": ">="}.get(m.group(2) or "", m.group(2) or None)
        out.append((m.group(1), _RELATION_ORDER.get(rel, 0), m.group(3) or ""))
    return out


def _normalise(dep: str) -> str:
    dep = re.sub(r"\s+", " ", dep).strip()
    dep = re.sub(r"\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\)", r"(\1 \2)", dep)
    return re.sub(r"\s*\|\s*", " | ", dep)


def _imports(facts: SharedObjectFacts) -> list[DynamicSymbol]:
    """What the binary takes from its libraries: undefined dynamic symbols, and defined ones a
    Verneed entry names (copy relocations of the executable)."""
    out = list(facts.undefined)
    out += [s for s in facts.defined if s.library is not None]
    return out


def compute(facts: SharedObjectFacts, res: Resolution, db: DpkgDb | None, *, sysroot: str) -> DepsResult:
    """The Depends of ``facts`` (the binary), its libraries found as in ``res``."""
    deps: dict[str, str] = {}  # template -> minimal version ('' = none)
    source_of: dict[str, str] = {}
    sonames_of: dict[str, list[str]] = {}
    floor_of: dict[str, str | None] = {}
    used: dict[str, list[SetBy]] = {}
    libs: list[LibraryInfo] = []
    symfiles: dict[str, SymbolsObject] = {}  # soname -> its symbols object (the merged symfile)
    warnings: list[str] = []

    def update(template: str, minver: str, existing_only: bool = False) -> None:
        for sub in re.split(r"\s*,\s*", template):
            if not sub:
                continue
            if sub in deps:
                have = deps[sub]
                if have == "" or (minver not in ("", "0") and vcmp(minver, have) > 0):
                    deps[sub] = minver
            elif not existing_only:
                deps[sub] = minver

    for soname in facts.needed:
        lib = res.library(soname)
        if lib is None or not lib.path:
            libs.append(LibraryInfo(soname, None, None, None, "not-found", None))
            warnings.append(f"cannot find library {soname} in the sysroot")
            continue
        owners = (db.owners(lib.path) or db.owners(lib.real_path)) if db is not None else []
        done = False
        for pkg in owners or [None]:  # type: ignore[list-item]
            p = db.packages.get(pkg) if (db is not None and pkg) else None
            text = db.info_file(pkg, "symbols") if (db is not None and pkg) else None
            objs = parse_symbols(text) if text else {}
            if soname in objs:
                obj = objs[soname]
                symfiles[soname] = obj
                dep = obj.deps[0] if obj.deps else ""
                small = obj.smallest(0) or ""
                minver = "" if small in ("", "0") else small
                update(dep, minver)
                for sub in re.split(r"\s*,\s*", dep):
                    if sub:
                        source_of.setdefault(sub, "symbols")
                        sonames_of.setdefault(sub, []).append(soname)
                        f = floor_of.get(sub)
                        floor_of[sub] = minver if f is None or (minver and vcmp(minver, f) > 0) else f
                libs.append(LibraryInfo(soname, lib.path, pkg, p.version if p else None, "symbols",
                                        f"{db.admindir}/info/{p.qualified if p else pkg}.symbols" if db else None))
                done = True
                break
            shl = db.info_file(pkg, "shlibs") if (db is not None and pkg) else None
            dep_s = shlibs_dependency(shl, soname) if shl else None
            if dep_s is not None:
                for sub in re.split(r",\s*", dep_s):
                    if sub:
                        deps[sub] = ""
                        source_of.setdefault(sub, "shlibs")
                        sonames_of.setdefault(sub, []).append(soname)
                libs.append(LibraryInfo(soname, lib.path, pkg, p.version if p else None, "shlibs",
                                        f"{db.admindir}/info/{p.qualified if p else pkg}.shlibs" if db else None))
                done = True
                break
        if not done:
            what = f"package {', '.join(owners)}" if owners else "no package"
            if lib.soname is None:
                libs.append(LibraryInfo(soname, lib.path, owners[0] if owners else None, None, "private", None))
                continue
            libs.append(LibraryInfo(soname, lib.path, owners[0] if owners else None, None, "none", None))
            warnings.append(f"no dependency information found for {lib.path} ({what}: no symbols or shlibs file "
                            f"describes {soname})")

    unknown: list[str] = []
    counts: dict[str, int] = {}
    per_lib: dict[str, int] = {}
    for sym in _imports(facts):
        name = f"{sym.name}@{sym.version or 'Base'}"
        hit: tuple[str, SymbolEntry] | None = None
        for soname in facts.needed:
            so = symfiles.get(soname)
            if so is None:
                continue
            e = so.symbols.get(name)
            if e is not None and not e.deprecated:
                hit = (soname, e)
                break
        if hit is None:
            if sym.library is not None or sym.binding != "WEAK":
                unknown.append(name)
            continue
        soname, e = hit
        so = symfiles[soname]
        template = so.deps[e.dep_id] if e.dep_id < len(so.deps) else so.deps[0]
        update(template, e.minver)
        per_lib[soname] = per_lib.get(soname, 0) + 1
        for sub in re.split(r"\s*,\s*", template):
            if sub:
                counts[sub] = counts.get(sub, 0) + 1
                used.setdefault(sub, []).append(SetBy(name, soname, e.minver))

    libs = [LibraryInfo(x.soname, x.path, x.package, x.package_version, x.info, x.info_file,
                        per_lib.get(x.soname, 0)) for x in libs]
    out: list[Dependency] = []
    for templ, ver in deps.items():
        has = ver not in ("", "0")
        text = templ.replace("#MINVER#", f"(>= {ver})") if has else templ.replace("#MINVER#", "")
        text = _normalise(text)
        floor = floor_of.get(templ)
        set_by: tuple[SetBy, ...] = ()
        if has and "#MINVER#" in templ and (floor in (None, "") or vcmp(ver, floor or "") > 0):
            set_by = tuple(s for s in used.get(templ, []) if vcmp(s.minver, ver) == 0)
        out.append(Dependency(text, templ, ver if has and "#MINVER#" in templ else None,
                              source_of.get(templ, "symbols"), tuple(dict.fromkeys(sonames_of.get(templ, []))),
                              floor or None, set_by, counts.get(templ, 0)))
    out.sort(key=lambda d: _sort_key(d.text))
    line = tuple(dict.fromkeys(d.text for d in out))
    return DepsResult(
        binary=facts.path,
        sysroot=sysroot,
        admindir=db.admindir if db else None,
        depends=line,
        dependencies=tuple(out),
        libraries=tuple(libs),
        unknown_symbols=tuple(sorted(set(unknown))),
        warnings=tuple(warnings),
    )
