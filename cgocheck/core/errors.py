"""Errors that carry their own exit code and a one-line message.

Only cli.py prints and exits; everything else raises a CgocheckError subclass.
Exit codes: 0 consistent, 1 findings at or above the failing severity,
2 bad input or usage, 3 environment problem (toolchain or sysroot missing).
"""

from __future__ import annotations

import os
import re

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3


# C0 and C1 controls, DEL and the Unicode line and paragraph separators: anything a
# terminal would take as a new line or a command rather than a character; and the lone
# surrogates that stand for a file name's bytes that are not UTF-8 (os.fsdecode).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    if 0xDC80 <= ord(c) <= 0xDCFF:  # a byte of a non-UTF-8 name
        return f"\\x{ord(c) - 0xDC00:02x}"
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def shown(path: str | os.PathLike[str]) -> str:
    """A path as a message shows it: control characters escaped (``a\\nb``), so that a name
    holding a newline or a terminal escape stays one line and says what it is."""
    return _CONTROL.sub(_escape, os.fspath(path))


def one_line(message: str) -> str:
    """A message as one line: surrounding blanks dropped, control characters escaped."""
    return _CONTROL.sub(_escape, str(message).strip())


class CgocheckError(Exception):
    """Base class: a one-line, user-facing message and an exit code."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        # One line whatever the cause carried: a path's newline is shown as \n, not obeyed.
        super().__init__(one_line(message))

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
