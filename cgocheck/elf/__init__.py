"""The ELF façade: the only package that imports pyelftools or lief.

Every structure of a file the façade serves facts from is read by our own bounded code:
the header (:mod:`.header`), program and section headers and section bytes, compressed
or not (:mod:`.layout`), the dynamic view (:mod:`.dynamic`), DWARF unit headers, top DIEs
and line-table headers (:mod:`.dwarf`), .ARM.attributes (:mod:`.armattr`), notes and
.comment (:mod:`.reader`), Go build info (:mod:`.gobuildinfo`). Sizes, counts and offsets
are checked against the file and a budget before anything is allocated or looped over;
strings are decoded by one policy (:mod:`.text`). Measured on this project's machine, this
is also faster than what it replaced: libc.so.6's 3000 versioned symbols in ~10 ms
(pyelftools 0.15 s; lief 6 ms after a 0.34 s import), a Go binary's 70 units in ~10 ms.

pyelftools and lief are kept as second opinions: lief's dynamic view is cross-checked
against ours on every binary the tests build (:func:`read_dynamic_both`), pyelftools' DWARF
and ARM attributes in the tests. Machines, OS ABIs, file types and ARM tags are named as
pyelftools' enum tables name them, from our own copy (:mod:`.names`, compared with them by
the tests), so that no command imports pyelftools. Neither is ever handed a size the file declares: both trust them
(pyelftools loops forever on a zero-length ARM attribute sub-section or a Verneed chain
whose sh_info says 0xffffffff, and reads a DW_FORM_block byte by byte into a list; lief
reads the whole file).
"""

from cgocheck.elf.header import Ehdr, HeaderError, Ident, machine_name, parse_header, parse_ident, read_header
from cgocheck.elf.model import ElfFacts, SharedObjectFacts
from cgocheck.elf.reader import read_arm_attributes, read_dynamic_both, read_elf, read_shared_object
from cgocheck.elf.sniff import sniff

__all__ = [
    "Ehdr",
    "ElfFacts",
    "HeaderError",
    "Ident",
    "SharedObjectFacts",
    "machine_name",
    "parse_header",
    "parse_ident",
    "read_arm_attributes",
    "read_dynamic_both",
    "read_elf",
    "read_header",
    "read_shared_object",
    "sniff",
]
