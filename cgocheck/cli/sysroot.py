"""``cgocheck sysroot create|import|list|info|check``"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from cgocheck.cli.options import tabulate
from cgocheck.core.errors import BadInput, one_line

MAX_ROWS = 200  # rows of a table (pkg-config modules, problems); --format json has the rest
MAX_WARNINGS = 50  # warning lines on stderr; the rest are counted


def _one(text: object) -> str:
    """A table cell or a warning as one line (a file name in a sysroot may hold a newline)."""
    return one_line(str(text))


def _warn(warnings: tuple[str, ...] | list[str]) -> None:
    for w in warnings[:MAX_WARNINGS]:
        click.echo(f"warning: {_one(w)}", err=True)
    if len(warnings) > MAX_WARNINGS:
        click.echo(f"warning: and {len(warnings) - MAX_WARNINGS} more warnings (--format json lists them)", err=True)


@click.group("sysroot")
def sysroot_grp() -> None:
    """Target sysroots made from Debian packages, without root."""


def _logger(verbose: bool) -> Callable[[str], None]:
    """Progress on stderr when it is a terminal (or with -v); quiet in CI logs."""
    show = verbose or sys.stderr.isatty()

    def log(msg: str) -> None:
        if msg.startswith("+ ") and not verbose:
            return
        if show or msg.startswith("warning:"):
            click.echo(msg, err=True)

    return log


@sysroot_grp.command("create")
@click.argument("recipe")
@click.option("--locked", is_flag=True, help="Download exactly the versions of sysroots/NAME.lock.json.")
@click.option("--force", is_flag=True, help="Recreate it even if it exists.")
@click.option("--refresh", is_flag=True, help="apt-get update even if the lists are less than a day old.")
@click.option("--write-lock", is_flag=True, help="Copy the lock file next to the recipe (NAME.lock.json).")
@click.option("-v", "--verbose", is_flag=True, help="Show each apt command and step.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def create_cmd(
    recipe: str, locked: bool, force: bool, refresh: bool, write_lock: bool, verbose: bool, fmt: str
) -> None:
    """Create the sysroot of a recipe (a name in sysroots/ or a .toml file)."""
    from cgocheck.sysroot.create import create
    from cgocheck.sysroot.recipe import find_recipe, recipe_names

    r = find_recipe(recipe)
    if r is None:
        known = ", ".join(recipe_names()) or "none"
        raise BadInput(f"unknown sysroot recipe {recipe!r} (known: {known})")
    log = _logger(verbose)
    res = create(r, locked=locked, force=force, refresh=refresh, write_lock=write_lock, log=log)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "name": res.name,
                    "path": str(res.path),
                    "digest": res.digest,
                    "packages": res.packages,
                    "downloaded": res.downloaded,
                    "reused": res.reused,
                    "seconds": round(res.seconds, 2),
                    "size_bytes": res.size_bytes,
                    "skipped": list(res.skipped),
                    "lock_written": str(res.lock_written) if res.lock_written else None,
                },
                indent=2,
            )
        )
        return
    if res.reused:
        click.echo(f"{res.name}: already created at {res.path} (digest {res.digest[:16]}); --force recreates it")
    else:
        click.echo(
            f"{res.name}: {res.packages} packages ({res.downloaded} downloaded), "
            f"{res.size_bytes / 1e6:.1f} MB, digest {res.digest[:16]}, {res.seconds:.1f}s -> {res.path}"
        )
        for s in res.skipped:
            click.echo(f"  left out: {s['package']} -> {s['dependency']} ({s['reason']})")
    if res.lock_written:
        click.echo(f"lock file written: {res.lock_written}")


@sysroot_grp.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also list recipes whose sysroot is not created.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def list_cmd(show_all: bool, fmt: str) -> None:
    """Created (complete) sysroots."""
    from cgocheck.sysroot.info import list_sysroots
    from cgocheck.sysroot.recipe import all_recipes

    entries = list_sysroots()
    rows: list[dict[str, object]] = [e.as_json() for e in entries]
    if show_all:
        have = {e.name for e in entries}
        for r in all_recipes():
            if r.name not in have:
                rows.append(
                    {
                        "name": r.name,
                        "suite": r.suite,
                        "arch": r.arch,
                        "libc": r.libc,
                        "libc_version": r.libc_version,
                        "digest": None,
                        "path": None,
                        "creator": None,
                        "creator_current": None,
                    }
                )
        rows.sort(key=lambda x: str(x["name"]))
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no sysroots created yet (cgocheck sysroot create NAME; --all lists the recipes)")
        return
    table = [
        [
            _one(x["name"]),
            _one(x["arch"]),
            _one(x["suite"]),
            _one(f"{x['libc']} {x['libc_version'] or '?'}") if x["libc"] else "-",
            _one(str(x["digest"])[:12]) if x["digest"] else "(not created)",
            _made_by(x),
            _one(x["path"] or ""),
        ]
        for x in rows
    ]
    click.echo(tabulate(table, headers=["name", "arch", "suite", "libc", "digest", "made by", "path"]))
    stale = [str(x["name"]) for x in rows if x["digest"] and not x["creator_current"]]
    if stale:
        click.echo(
            f"warning: made by other creation code: {', '.join(stale)} (cgocheck sysroot create NAME re-makes it)",
            err=True,
        )


def _made_by(row: dict[str, object]) -> str:
    if not row["digest"]:
        return ""
    return "this cgocheck" if row["creator_current"] else "OTHER CODE"


def _span(nodes: tuple[str, ...], every: bool) -> str:
    if not nodes:
        return ""
    return " ".join(nodes) if every else f"{nodes[0]} .. {nodes[-1]} ({len(nodes)} nodes)"


def _made_by_info(creator: str | None, current: bool | None) -> str:
    if current is None:
        return "not cgocheck (a folder of its own)"
    return f"{creator or 'unrecorded'} ({'this cgocheck' if current else 'OTHER creation code: re-create it'})"


@sysroot_grp.command("info")
@click.argument("sysroot_ref", metavar="NAME|PATH")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--all-versions", is_flag=True, help="List every GLIBC_x.y version node.")
def info_cmd(sysroot_ref: str, fmt: str, all_versions: bool) -> None:
    """What a sysroot holds: libc and version, loader, architecture, pkg-config modules.

    Works on any folder (debootstrap output, an SDK, an exported container filesystem).
    """
    from cgocheck.sysroot import find_sysroot
    from cgocheck.sysroot.info import inspect_sysroot

    path: Path = find_sysroot(sysroot_ref)
    info = inspect_sysroot(path)
    if fmt == "json":
        click.echo(json.dumps(info.as_json(), indent=2))
        return
    nodes = info.glibc_versions
    shown = f"{nodes[0]} .. {nodes[-1]} ({len(nodes)} nodes)" if nodes and not all_versions else " ".join(nodes)
    rows = [
        ["path", info.path],
        ["recipe", info.recipe or "-"],
        ["suite", info.suite or "-"],
        ["libc", f"{info.libc or '-'} {info.libc_version or ''}".strip()],
        ["libc file", info.libc_path or "-"],
    ]
    if info.libc_banner:
        rows.append(["libc build", info.libc_banner])
    rows += [
        ["targets", ", ".join(info.targets) or "-"],
        ["ELF", f"{info.machine or '-'} {info.elf_class or ''}-bit {info.float_abi or ''}".strip()],
        ["debian arch", info.debian_arch or "-"],
        ["triplet", info.triplet or "-"],
        ["loader", f"{info.loader} -> {info.loader_target}" if info.loader else "-"],
        ["GLIBC nodes", shown or "-"],
        ["GLIBCXX nodes", _span(info.glibcxx_versions, all_versions) or "- (no libstdc++.so.6)"],
        ["digest", info.digest or "-"],
        ["made by", _made_by_info(info.creator, info.creator_current)],
        ["pkg-config dirs", " ".join(info.pkgconfig_dirs) or "-"],
    ]
    click.echo(tabulate([[k, _one(v)] for k, v in rows], tablefmt="plain"))
    if info.pkgconfig:
        click.echo()
        first = info.pkgconfig[:MAX_ROWS]
        click.echo(
            tabulate(
                [[_one(m.module), _one(m.version or "?"), _one(", ".join(m.requires)), _one(m.path)] for m in first],
                headers=["pkg-config module", "version", "requires", "file"],
            )
        )
        if len(info.pkgconfig) > len(first):
            click.echo(f"... and {len(info.pkgconfig) - len(first)} more modules (--format json lists them)")
    _warn(info.warnings)


@sysroot_grp.command("check")
@click.argument("sysroot_ref", metavar="NAME|PATH")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def check_cmd(sysroot_ref: str, fmt: str) -> None:
    """Is a sysroot fit to build against: links resolve inside it, loaders, linker scripts,
    start files, .pc files. The same check ends `sysroot create`. Exit 1 on any problem.

    Works on any folder (debootstrap output, an SDK, an exported container filesystem).
    """
    from cgocheck.sysroot import find_sysroot
    from cgocheck.sysroot.check import check_sysroot

    path: Path = find_sysroot(sysroot_ref)
    res = check_sysroot(path)
    if fmt == "json":
        click.echo(json.dumps(res.as_json(), indent=2))
    else:
        looked = ", ".join(f"{n} {k}" for k, n in res.counts.items())
        targets = ", ".join(res.targets) or "none"
        if res.ok:
            click.echo(f"{path}: ok ({looked}; loaders for {targets})")
        else:
            rows = [[p.kind, _one(p.path), _one(p.message)] for p in res.problems[:MAX_ROWS]]
            click.echo(tabulate(rows, headers=["check", "path", "problem"]))
            if res.total > len(rows):
                click.echo(f"... and {res.total - len(rows)} more problems"
                           f" (--format json lists the first {len(res.problems)})")
            click.echo(f"{path}: {res.total} problems ({looked}; loaders for {targets})")
    if not res.ok:
        sys.exit(1)


@sysroot_grp.command("import")
@click.argument("name")
@click.argument("image")
@click.option("--platform", help="The image of a multi-platform index to import: linux/arm64, linux/arm/v7 ...")
@click.option("--force", is_flag=True, help="Replace the sysroot NAME if it exists.")
@click.option("-v", "--verbose", is_flag=True, help="Show each layer as it is checked and applied.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def import_cmd(name: str, image: str, platform: str | None, force: bool, verbose: bool, fmt: str) -> None:
    """Import a container image's file system as the sysroot NAME, without a daemon or network.

    IMAGE is an OCI image layout folder (PATH, or PATH:REF for the manifest named REF), a
    `docker save` / `podman save` tar file (PATH.tar, or PATH.tar:REPO:TAG) or a plain root
    file system tar file (`docker export`, optionally compressed). Layers are applied in order
    with their whiteouts, every digest checked against the manifest; the result must pass
    `cgocheck sysroot check` before it counts.
    """
    from cgocheck.sysroot.image import import_image

    res = import_image(name, image, platform=platform, force=force, log=_logger(verbose))
    if fmt == "json":
        click.echo(json.dumps({
            "name": res.name, "path": str(res.path), "digest": res.digest, "image": res.image,
            "packages": res.packages, "entries": res.entries, "counts": res.counts,
            "seconds": round(res.seconds, 2), "size_bytes": res.size_bytes, "rewritten_links": res.rewritten_links,
            "libc": res.libc, "libc_version": res.libc_version, "targets": list(res.targets),
        }, indent=2))
        return
    img = res.image
    what = str(img.get("manifest_digest") or img.get("config_digest") or img["kind"])
    libc = f"{res.libc} {res.libc_version or '?'}" if res.libc else "no libc"
    click.echo(
        f"{res.name}: {len(img['layers'])} layer(s) of {img['kind']} {what[:19]}, {res.entries} entries, "  # type: ignore[arg-type]
        f"{libc} for {', '.join(res.targets) or '?'}, {res.packages} dpkg packages, "
        f"{res.size_bytes / 1e6:.1f} MB, digest {res.digest[:16]}, {res.seconds:.1f}s -> {res.path}"
    )
