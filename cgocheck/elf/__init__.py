"""The ELF façade: the only package that imports pyelftools or lief.

Which library serves what (measured on this project's machine, see dynamic.py):
- lief: DT_* entries, dynamic symbols and GNU symbol versions of the libraries in a
  closure (`read_shared_object`, used by resolve): 15-25x faster than pyelftools on
  libc-sized tables (libc.so.6: 0.006 s vs 0.15 s), which pays for its one-time 0.34 s
  import when a closure of several libraries is read.
- pyelftools: everything `read_elf` reports for a single file (header, program headers and
  sections, the dynamic view of a Go binary's ~50 symbols in ~5 ms, notes, .comment,
  .ARM.attributes, DWARF, which lief has no reader for, and the raw bytes Go's buildinfo
  parser needs), and the pure-Python fallback when lief declines a damaged library.
  Tests cross-check both dynamic readers, and both against readelf, on every binary they
  build.
"""

from cgocheck.elf.model import ElfFacts, SharedObjectFacts
from cgocheck.elf.reader import read_dynamic_both, read_elf, read_shared_object, sniff

__all__ = [
    "ElfFacts",
    "SharedObjectFacts",
    "read_dynamic_both",
    "read_elf",
    "read_shared_object",
    "sniff",
]
