"""``-- ARGS``: the arguments after ``--`` go to the program cgocheck runs, not to cgocheck.

click would take them as more positional arguments (packages, the binary); a command of
class :class:`WithProgramArgs` splits them off first and its callback reads them with
:func:`program_args`."""

from __future__ import annotations

from typing import Any

import click

KEY = "cgocheck.program_args"


class WithProgramArgs(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            i = args.index("--")
            ctx.meta[KEY] = tuple(args[i + 1 :])
            args = args[:i]
        result: list[str] = super().parse_args(ctx, args)
        return result


def program_args() -> tuple[str, ...] | None:
    """The arguments after ``--`` (None when there was no ``--``)."""
    value: Any = click.get_current_context().meta.get(KEY)
    return tuple(value) if value is not None else None
