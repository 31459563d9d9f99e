"""Errors that carry their own exit code and a one-line message.

Only cli.py prints and exits; everything else raises a CgocheckError subclass.
Exit codes: 0 consistent, 1 findings at or above the failing severity,
2 bad input or usage, 3 environment problem (toolchain or sysroot missing).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3


class CgocheckError(Exception):
    """Base class: a one-line, user-facing message and an exit code."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        # Keep it to one line whatever the cause carried.
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)


class BadInput(CgocheckError):
    """The user gave us something we cannot use: not an ELF, unknown target, bad config."""

    exit_code = EXIT_BAD_INPUT


class NotAnElf(BadInput):
    """The file is not an ELF file (or is too damaged to be read as one)."""


class EnvironmentProblem(CgocheckError):
    """Something the tool needs is missing: a Go toolchain, a compiler, a sysroot."""

    exit_code = EXIT_ENVIRONMENT
