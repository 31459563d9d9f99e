"""`cgocheck toolchains list|install|remove`"""

from __future__ import annotations

import click

from cgocheck.build import toolchains
from cgocheck.cli.options import tabulate


@click.group("toolchains")
def toolchains_grp() -> None:
    """Go toolchains side by side in cgocheck's own folder."""


@toolchains_grp.command("list")
def list_cmd() -> None:
    """Installed Go toolchains, newest first."""
    rows = [(t.version, t.source, str(t.goroot)) for t in toolchains.installed()]
    if not rows:
        click.echo("no Go toolchain installed; run: cgocheck toolchains install newest")
        return
    click.echo(tabulate(rows, headers=["version", "source", "GOROOT"]))


@toolchains_grp.command("install")
@click.argument("versions", nargs=-1, required=True)
def install_cmd(versions: tuple[str, ...]) -> None:
    """Install Go versions: 1.24 (newest 1.24.x), 1.24.11, newest; 1.19 comes from Debian."""
    for v in versions:
        t = toolchains.install(v)
        click.echo(f"go{t.version}\t{t.goroot}")


@toolchains_grp.command("remove")
@click.argument("versions", nargs=-1, required=True)
def remove_cmd(versions: tuple[str, ...]) -> None:
    """Remove toolchains cgocheck installed."""
    for v in versions:
        t = toolchains.remove(v)
        click.echo(f"removed go{t.version} ({t.goroot})")
