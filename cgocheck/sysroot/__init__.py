"""Sysroots: recipes, rootless creation, inspection and chroot-confined file access."""

from __future__ import annotations

from pathlib import Path

from cgocheck.core import folders
from cgocheck.core.errors import BadInput, EnvironmentProblem, shown
from cgocheck.sysroot import meta

META_DIR = meta.META_DIR
COMPLETE = meta.COMPLETE


def refuse_unfinished(p: Path, name: str) -> None:
    """A folder cgocheck was creating and did not finish, or whose ``.cgocheck`` is a link
    (its metadata someone else's), is refused. Nothing is followed to decide it."""
    st = meta.state(p)
    if st == "incomplete":
        raise EnvironmentProblem(
            f"sysroot {shown(p)} is incomplete (its creation was interrupted); "
            f"run: cgocheck sysroot create {shown(name)} --force"
        )
    if st == "linked":
        raise EnvironmentProblem(
            f"sysroot {shown(p)}: {META_DIR} is a symbolic link or not a folder, so whether the sysroot is "
            f"complete cannot be read from it; remove it (or run: cgocheck sysroot create {shown(name)} --force)"
        )


def _check_complete(p: Path, name: str) -> Path:
    refuse_unfinished(p, name)
    return p.absolute()


def find_sysroot(name_or_path: str) -> Path:
    """The folder a ``--sysroot`` value means.

    A value with a ``/`` (or ``.``) is a folder: any folder works, but one cgocheck was
    creating and did not finish is refused. A bare name is a recipe (``sysroots/<name>.toml``)
    whose sysroot must have been created, else a created sysroot of that name, else a folder.
    """
    from cgocheck.sysroot.recipe import find_recipe, recipe_names

    value = name_or_path.strip()
    if not value:
        raise BadInput("empty sysroot name")
    looks_like_path = "/" in value or value.startswith(".") or value.startswith("~")
    if looks_like_path:
        p = Path(value).expanduser()
        if p.is_dir():
            return _check_complete(p, p.name)
        raise BadInput(f"sysroot folder {value!r} does not exist")
    recipe = find_recipe(value) if not value.endswith(".toml") else None
    created = folders.sysroots() / value
    if recipe is not None:
        if _created(created):
            return created
        if meta.has_meta_dir(created):
            _check_complete(created, value)
        raise EnvironmentProblem(f"sysroot {value} is not created yet; run: cgocheck sysroot create {value}")
    if _created(created):
        return created
    if Path(value).is_dir():
        return _check_complete(Path(value), value)
    known = ", ".join(recipe_names()) or "none"
    raise BadInput(f"{value!r} is neither a sysroot recipe (known: {known}) nor a folder")


def _created(path: Path) -> bool:
    """A sysroot ``create`` finished in cgocheck's folder (a real folder, not a link to one)."""
    return not path.is_symlink() and meta.is_complete(path)


HINT = "create one with `cgocheck sysroot create <recipe>` (see `cgocheck sysroot list`) or pass a folder"


def require(value: str) -> Path:
    """The folder a command's ``--sysroot`` value names. One that is not there is an
    environment problem (exit 3) whose message says how to make it."""
    try:
        return find_sysroot(value)
    except EnvironmentProblem:
        raise
    except BadInput as err:
        raise EnvironmentProblem(f"sysroot {value!r} not found ({err.message}); {HINT}") from None
