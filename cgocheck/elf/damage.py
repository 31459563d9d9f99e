"""What a damaged file can make the ELF readers raise, in one place.

Caught by base class, so that a new exception type in a new release of pyelftools or lief
cannot escape as a traceback: pyelftools' own ELFError and DWARFError, its bundled
construct's ConstructError, and whatever Python raises under both libraries (struct.error,
IndexError, UnicodeDecodeError, zlib.error, RecursionError, MemoryError, nanobind's
RuntimeError/TypeError from lief...). Their one common base is Exception. cgocheck's own
errors (CgocheckError) and OSError are caught before it, wherever it is caught.
"""

from __future__ import annotations

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct.core import ConstructError

PARSE_ERRORS: tuple[type[BaseException], ...] = (Exception,)
# The libraries' own bases, named for the tests (each must be covered by PARSE_ERRORS).
LIBRARY_BASES: tuple[type[BaseException], ...] = (ELFError, DWARFError, ConstructError)
