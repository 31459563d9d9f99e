"""`cgocheck config`: the resolved settings and where each value came from."""

from __future__ import annotations

import json
import os
import sys

import click

from cgocheck.cli import options
from cgocheck.cli.options import tabulate


@click.command("config")
@options.config_option()
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
def config_cmd(config_path: str | None, fmt: str) -> None:
    """Show the resolved configuration and where each value came from (exit 2 if it is invalid).

    Precedence: command line > CGOCHECK_* environment variables > cgocheck.toml (or
    pyproject.toml [tool.cgocheck]) > defaults.
    """
    from cgocheck.settings import describe, env_variables

    settings = options.load(config_path)
    if fmt == "json":
        sys.stdout.write(json.dumps(settings.as_dict(), indent=2) + "\n")
        return
    click.echo(f"file: {settings.file or '(none found; defaults and environment only)'}")
    click.echo(tabulate(describe(settings), headers=["key", "value", "from"], tablefmt="simple"))
    if settings.baseline_keys:
        click.echo(f"baseline: {len(settings.baseline_keys)} accepted finding(s)")
    set_env = [k for k in env_variables() if os.environ.get(k, "").strip()]
    if set_env:
        click.echo("environment: " + ", ".join(set_env))
