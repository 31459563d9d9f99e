"""Go-specific facts of an ELF file: build info, whether runtime/cgo is linked, link mode.

Three modules, by what they read: :mod:`.modinfo` (the modinfo text), :mod:`.blob` (the
``.go.buildinfo`` blob: header, inline or pointer strings), :mod:`.facts` (the ELF file:
where the blob is, symbols, cgo, link mode; :func:`read_go_facts`).

Our own reader of what Go's linker leaves in a binary, modelled on Go's ``debug/buildinfo``
and ``runtime/debug.ParseBuildInfo`` (read, not transliterated):

* ``.go.buildinfo`` starts with a 32-byte header: the magic ``"\\xff Go buildinf:"`` (14 bytes),
  a pointer size, a flags byte, then (pre-1.18 only) two target pointers. ``flags & 2`` set
  (Go 1.18+): the header is followed by two varint-length-prefixed strings, the Go version and
  the modinfo. ``flags & 2`` clear (Go 1.13-1.17): the two pointers point at Go string headers
  ``{data *byte; len int}`` of the header's pointer size and byte order (``flags & 1`` = big
  endian), which we follow through the PT_LOAD address map, with the file's RELATIVE
  relocations applied (PIE and c-shared files; Go's own reader skips that and misreads them).
* modinfo is framed by two 16-byte sentinels, then holds ``path``/``mod``/``dep``/``=>``/
  ``build`` lines; ``build`` keys and values may be strconv-quoted.

Everything read from the file is bounded (strings at 1 MiB, searches by the segment and the
file size; the file's structure is read by :class:`cgocheck.elf.layout.Layout`) and damage
surfaces as :class:`cgocheck.core.errors.BadInput` from the parsers, or as a soft warning
from :func:`read_go_facts` (a Go binary with damaged build info still gets ``GoFacts`` with
``buildinfo=None``).

The cgo and link-mode signals were chosen by building real binaries (Go 1.15, 1.19, 1.27;
amd64, arm64, arm, riscv64, 386, s390x, mips, ppc64; gcc, clang+lld; internal and external
linking; exe, pie, c-shared, static; stripped or not); see
``tests/integration/test_gobuildinfo_oracle.py``.

cgo_linked: C symbols only runtime/cgo defines (x_cgo_init, crosscall2, _cgo_topofstack,
x_cgo_thread_start) in .symtab or .dynsym -- crosscall2/_cgo_topofstack stay exported in
.dynsym after ``-s -w`` -- else ``runtime/cgo.`` / ``runtime/cgo/`` in .gopclntab (survives
stripping and static linking), else (no section table) a pthread_create import.
``_cgo_init``/``_cgo_thread_start`` are NOT evidence: every Go binary has those runtime
variables. CGO_ENABLED=1 in the build info is reported but proves nothing (a CGO_ENABLED=1
build that imports nothing cgo has no runtime/cgo).

link_mode: "external" from C-linker artefacts (.init/.fini from crti/crtn, PT_GNU_EH_FRAME,
a GCC/clang/LLD .comment, crt symbols); "internal" from Go-linker artefacts (entry point
``_rt0_<arch>_linux``, a dynamic relocation section named ``.rela``/``.rel`` instead of
``.rela.dyn``/``.rel.dyn``, PT_PAX_FLAGS from older Go linkers) or, weaker, Go's section
layout; both kinds at once gives "unknown".
"""

from __future__ import annotations

from cgocheck.elf.gobuildinfo.blob import BUILDINFO_MAGIC, parse_buildinfo_blob
from cgocheck.elf.gobuildinfo.facts import read_go_facts
from cgocheck.elf.gobuildinfo.modinfo import parse_modinfo

__all__ = [
    "BUILDINFO_MAGIC",
    "parse_buildinfo_blob",
    "parse_modinfo",
    "read_go_facts",
]
