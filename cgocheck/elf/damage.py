"""What a damaged file can make the ELF readers raise, in one place.

The façade's readers are our own bounded code (cgocheck.elf.layout and the modules on it),
which reports damage as :class:`cgocheck.elf.layout.Damaged` or as warnings. This is the
net under them, caught by base class so that nothing a file can provoke escapes as a
traceback: a mistake of ours (IndexError, struct.error...), and whatever pyelftools and
lief raise where the tests and read_dynamic_both still call them (ELFError, DWARFError,
construct's ConstructError, nanobind's RuntimeError/TypeError). Their one common base is
Exception. cgocheck's own errors (CgocheckError) and OSError are caught before it,
wherever it is caught. A MemoryError or RecursionError caught here becomes a warning; the
fuzz tests fail on any such warning (a budget should have stopped the input first).
"""

from __future__ import annotations

from typing import Any

PARSE_ERRORS: tuple[type[BaseException], ...] = (Exception,)


def library_bases() -> tuple[type[BaseException], ...]:
    """The libraries' own bases, named for the tests (each must be covered by PARSE_ERRORS).
    Imported when asked for: pyelftools' exceptions pull in its construct library (~10 ms
    of every process's start)."""
    from elftools.common.exceptions import DWARFError, ELFError
    from elftools.construct.core import ConstructError

    return (ELFError, DWARFError, ConstructError)


def __getattr__(name: str) -> Any:
    # LIBRARY_BASES, as it was when it was a constant
    if name == "LIBRARY_BASES":
        return library_bases()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
