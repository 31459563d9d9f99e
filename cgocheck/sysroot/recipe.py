"""Sysroot recipes: ``sysroots/<name>.toml``, validated on load.

A recipe names a Debian suite and architecture, the libc flavour it provides, the packages
whose dependency closure makes the sysroot, and optionally an apt source to use instead of
the machine's own (the first stanza of its deb822 file, with ``Suites:`` replaced).

    name = "bookworm-arm64"          # must be the file's stem for files in sysroots/
    suite = "bookworm"
    arch = "arm64"                   # Debian architecture name
    libc = "glibc"                   # glibc | musl
    libc_version = "2.36"            # optional: create checks the real libc against it
    packages = ["libc6-dev", "zlib1g-dev"]
    exclude = ["gcc-aarch64-linux-gnu"]   # optional: never pulled in (with a reason below)
    exclude_reason = "..."           # optional, recorded in the lock file
    usrmerge = true                  # optional (default true): /lib -> usr/lib, ...

    [source]                         # optional
    uris = ["http://deb.debian.org/debian"]
    components = ["main"]
    signed_by = "/usr/share/keyrings/debian-archive-keyring.gpg"
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cgocheck.core import files
from cgocheck.core.errors import BadInput, shown
from cgocheck.core.targets import LIBCS, all_arches

_NAME = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_PKG = re.compile(r"^[a-z0-9][a-z0-9.+-]+$")


@dataclass(frozen=True)
class AptSourceOverride:
    uris: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


@dataclass(frozen=True)
class Recipe:
    name: str
    suite: str
    arch: str  # Debian architecture
    libc: str  # "glibc" | "musl"
    packages: tuple[str, ...]
    libc_version: str | None = None
    exclude: tuple[str, ...] = ()
    exclude_reason: str | None = None
    usrmerge: bool = True
    source: AptSourceOverride | None = None
    path: Path | None = None  # the file it came from
    shipped: bool = False  # one of cgocheck's own recipes (its lock file lives in cgocheck's folder)

    @property
    def state_key(self) -> str:
        """apt state is shared by every recipe of one suite and architecture."""
        return f"{self.suite}-{self.arch}"

    def triplet(self) -> str:
        for a in all_arches():
            if a.debian_arch == self.arch:
                return a.triplets[self.libc]
        raise BadInput(f"recipe {self.name}: no target in targets.toml has Debian arch {self.arch}")


# key -> (type(s), required)
_TOP: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "name": (str, True),
    "suite": (str, True),
    "arch": (str, True),
    "libc": (str, True),
    "packages": (list, True),
    "libc_version": (str, False),
    "exclude": (list, False),
    "exclude_reason": (str, False),
    "usrmerge": (bool, False),
    "source": (dict, False),
}
_SOURCE: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "uris": (list, True),
    "components": (list, True),
    "signed_by": (str, False),
}


def _line_of(text: str, key: str, table: str | None = None) -> str:
    """' (line N)' for the first ``key =`` line (inside ``[table]`` if given), else ''."""
    in_table = table is None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            in_table = table is not None and s.strip("[] ") == table
            if table is None:
                break
            continue
        if in_table and re.match(rf"^{re.escape(key)}\s*=", s):
            return f" (line {n})"
    return ""


def _typename(t: type | tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list", bool: "true or false", dict: "a table"}
    if isinstance(t, tuple):
        return " or ".join(names.get(x, x.__name__) for x in t)
    return names.get(t, t.__name__)


def _check_table(
    where: str, text: str, data: dict[str, Any], schema: dict[str, tuple[Any, bool]], table: str | None
) -> None:
    prefix = f"{table}." if table else ""
    for key, value in data.items():
        if key not in schema:
            known = ", ".join(schema)
            raise BadInput(f"{where}{_line_of(text, key, table)}: unknown key '{prefix}{key}' (known: {known})")
        typ, _ = schema[key]
        # bool is an int subclass; no int keys here, so a plain isinstance is exact.
        if not isinstance(value, typ):
            raise BadInput(
                f"{where}{_line_of(text, key, table)}: {prefix}{key} must be {_typename(typ)}, "
                f"not {type(value).__name__}"
            )
        if typ is list and not all(isinstance(v, str) for v in value):
            raise BadInput(f"{where}{_line_of(text, key, table)}: {prefix}{key} must list strings")
    for key, (_, required) in schema.items():
        if required and key not in data:
            raise BadInput(f"{where}: missing required key {prefix}{key!r}")


def parse_recipe(text: str, where: str, stem: str | None = None) -> Recipe:
    """Validate recipe text; ``where`` names the file in messages."""
    data = files.loads_toml(text, where, files.RECIPE)
    _check_table(where, text, data, _TOP, None)
    src = data.get("source")
    if src is not None:
        _check_table(where, text, src, _SOURCE, "source")

    name, suite, arch, libc = data["name"], data["suite"], data["arch"], data["libc"]
    if not _NAME.match(name):
        raise BadInput(f"{where}{_line_of(text, 'name')}: bad name {name!r}")
    if stem is not None and name != stem:
        raise BadInput(f"{where}{_line_of(text, 'name')}: name {name!r} differs from file name {stem!r}")
    if not _NAME.match(suite):
        raise BadInput(f"{where}{_line_of(text, 'suite')}: bad suite {suite!r}")
    if libc not in LIBCS:
        raise BadInput(f"{where}{_line_of(text, 'libc')}: libc must be one of {', '.join(LIBCS)}")
    debian_arches = sorted({a.debian_arch for a in all_arches()})
    if arch not in debian_arches:
        raise BadInput(
            f"{where}{_line_of(text, 'arch')}: unknown Debian arch {arch!r} (known: {', '.join(debian_arches)})"
        )
    for key in ("packages", "exclude"):
        for pkg in data.get(key, []):
            if not _PKG.match(pkg):
                raise BadInput(f"{where}{_line_of(text, key)}: bad package name {pkg!r} in {key}")
    if not data["packages"]:
        raise BadInput(f"{where}{_line_of(text, 'packages')}: packages is empty")
    lv = data.get("libc_version")
    if lv is not None and not re.fullmatch(r"\d+\.\d+(\.\d+)?", lv):
        raise BadInput(f"{where}{_line_of(text, 'libc_version')}: bad libc_version {lv!r}")
    source = None
    if src is not None:
        if not src["uris"] or not src["components"]:
            raise BadInput(f"{where}{_line_of(text, 'uris', 'source')}: source needs uris and components")
        source = AptSourceOverride(
            uris=tuple(src["uris"]), components=tuple(src["components"]), signed_by=src.get("signed_by")
        )
    return Recipe(
        name=name,
        suite=suite,
        arch=arch,
        libc=libc,
        packages=tuple(data["packages"]),
        libc_version=lv,
        exclude=tuple(data.get("exclude", ())),
        exclude_reason=data.get("exclude_reason"),
        usrmerge=data.get("usrmerge", True),
        source=source,
    )


def load_recipe(path: str | os.PathLike[str], *, check_stem: bool = True) -> Recipe:
    p = Path(path)
    try:
        text = files.read_text(p, files.RECIPE)
    except files.FileProblem as exc:
        if exc.missing:
            raise BadInput(f"{shown(p)}: no such recipe file") from None
        raise BadInput(f"{shown(p)}: cannot read recipe: {exc.problem}") from None
    r = parse_recipe(text, str(p), stem=p.stem if check_stem else None)
    return dataclasses.replace(r, path=p.absolute())


PROJECT_MARKERS = ("cgocheck.toml", "pyproject.toml", "go.mod")


def shipped_recipes_dir() -> Path:
    """The recipes cgocheck ships: ``cgocheck/recipes/`` in an installed wheel, the
    repository's top-level ``sysroots/`` folder in a checkout (the wheel's source)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "recipes"
    return installed if installed.is_dir() else package.parent / "sysroots"


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (the working folder) holding a
    cgocheck.toml, pyproject.toml or go.mod."""
    here = (start or Path.cwd()).absolute()
    for d in (here, *here.parents):
        if any((d / m).is_file() for m in PROJECT_MARKERS):
            return d
    return None


def recipe_dirs() -> list[tuple[str, Path]]:
    """Where recipe names are looked up, first match wins: ``$CGOCHECK_RECIPES``, the
    ``sysroots/`` folder of the project (see :func:`project_root`), then the shipped ones."""
    out: list[tuple[str, Path]] = []
    env = os.environ.get("CGOCHECK_RECIPES")
    if env:
        out.append(("env", Path(env).expanduser().absolute()))
    root = project_root()
    if root is not None and (root / "sysroots").is_dir():
        out.append(("project", root / "sysroots"))
    out.append(("shipped", shipped_recipes_dir()))
    seen: set[Path] = set()
    unique: list[tuple[str, Path]] = []
    for origin, d in out:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            unique.append((origin, d))
    return unique


def recipes_dir() -> Path:
    """The first folder recipes are looked up in (see :func:`recipe_dirs`)."""
    return recipe_dirs()[0][1]


def _names_in(d: Path) -> list[str]:
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.toml") if _NAME.match(p.stem))


def recipe_names() -> list[str]:
    names: set[str] = set()
    for _, d in recipe_dirs():
        names.update(_names_in(d))
    return sorted(names)


def _is_shipped(p: Path) -> bool:
    return p.parent.resolve() == shipped_recipes_dir().resolve()


def find_recipe(name_or_file: str) -> Recipe | None:
    """A recipe by name (``<name>.toml`` in :func:`recipe_dirs`) or by path to a ``.toml``;
    None if neither."""
    if name_or_file.endswith(".toml"):
        p = Path(name_or_file)
        if not os.path.lexists(p):  # anything else there: reading it says what is wrong
            raise BadInput(f"{shown(name_or_file)}: no such recipe file")
        in_dirs = any(p.parent.resolve() == d.resolve() for _, d in recipe_dirs() if d.is_dir())
        return _with_origin(load_recipe(p, check_stem=in_dirs))
    if not _NAME.match(name_or_file):
        return None
    for _, d in recipe_dirs():
        p = d / f"{name_or_file}.toml"
        if p.is_file():
            return _with_origin(load_recipe(p))
    return None


def _with_origin(r: Recipe) -> Recipe:
    return dataclasses.replace(r, shipped=r.path is not None and _is_shipped(r.path))


def all_recipes() -> list[Recipe]:
    out = []
    for n in recipe_names():
        r = find_recipe(n)
        if r is not None:
            out.append(r)
    return out
