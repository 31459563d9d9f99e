"""Every command's callback takes exactly the parameters its options declare: a shared option
added to a decorator (options.py) but not to one command's function is a TypeError at run
time, found here for every command and subcommand without running any."""

from __future__ import annotations

import importlib
import inspect

import click
import pytest

from cgocheck.cli import COMMANDS


def _commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, (module, attr) in COMMANDS.items():
        cmd = getattr(importlib.import_module(f"cgocheck.cli.{module}"), attr)
        out.append((name, cmd))
        if isinstance(cmd, click.Group):
            out.extend((f"{name} {sub}", c) for sub, c in cmd.commands.items())
    return out


@pytest.mark.parametrize(("name", "cmd"), _commands(), ids=[n for n, _ in _commands()])
def test_callback_takes_every_declared_parameter(name: str, cmd: click.Command) -> None:
    if cmd.callback is None or isinstance(cmd, click.Group):
        return
    fn = inspect.unwrap(cmd.callback)
    sig = inspect.signature(fn)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    declared = {p.name for p in cmd.params if p.name and p.expose_value}
    accepted = set(sig.parameters) - {"ctx"}
    assert declared - accepted == set(), f"{name}: options the function does not take"
    required = {n for n, p in sig.parameters.items() if p.default is p.empty and n != "ctx"}
    assert required - declared == set(), f"{name}: parameters no option gives"


def test_the_check_sees_a_missing_parameter() -> None:
    @click.command()
    @click.option("--a")
    @click.option("--b")
    def broken(a: str | None) -> None:  # --b is declared but not taken
        pass

    with pytest.raises(AssertionError):
        test_callback_takes_every_declared_parameter("broken", broken)
