"""`cgocheck deps BINARY --sysroot S`"""

from __future__ import annotations

import json
import sys

import click

from cgocheck.core.targets import parse_target


@click.command("deps")
@click.argument("binary", type=click.Path())
@click.option("--sysroot", required=True, help="Sysroot recipe name (cgocheck sysroot list) or folder.")
@click.option("--target", "-t", help="Target the binary is for (linux/arm64 ...); by default read from the binary.")
@click.option("--install-dir", help="Folder the binary will live in on the target (its $ORIGIN).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: the Depends line; json: each library's package and the symbols that set each version.")
def deps_cmd(binary: str, sysroot: str, target: str | None, install_dir: str | None, fmt: str) -> None:
    """The Debian Depends line BINARY needs, worked out as dpkg-shlibdeps does from the symbols
    and shlibs files of the sysroot's packages (what `sysroot create` keeps, or an imported
    image's /var/lib/dpkg). Exit 1 when a library is missing or no package describes it.
    """
    from cgocheck.commands.deps import deps

    res = deps(binary, sysroot, target=parse_target(target) if target else None, install_dir=install_dir)
    if fmt == "json":
        click.echo(json.dumps({
            "binary": res.binary,
            "sysroot": res.sysroot,
            "database": res.admindir,
            "depends": res.line,
            "complete": res.complete,
            "dependencies": [d.as_json() for d in res.dependencies],
            "libraries": [lib.as_json() for lib in res.libraries],
            "unknown_symbols": list(res.unknown_symbols),
            "warnings": list(res.warnings),
        }, indent=2))
    else:
        click.echo(res.line)
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    if not res.complete:
        sys.exit(1)
