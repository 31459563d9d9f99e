"""The ELF façade: the only package that imports pyelftools or lief.

Which library serves what (measured on this project's machine, see dynamic.py):
- lief: DT_* entries, dynamic symbols and GNU symbol versions (15-25x faster than
  pyelftools on libc-sized tables; resolve reads whole library closures this way).
- pyelftools: the ELF header, program headers and sections, notes, .comment,
  .ARM.attributes, DWARF (lief has no DWARF reader) and the raw bytes Go's buildinfo
  parser needs; and the pure-Python fallback for the dynamic view when lief declines a
  damaged file. Tests cross-check both dynamic readers on every binary they build.
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
