"""The target's loader in its own words: its messages (glibc's ld.so, musl's dynamic linker,
qemu-user loading the program) and its ``LD_DEBUG=bindings`` lines, parsed. Pure text work.

glibc (elf/dl-load.c, dl-version.c, dl-lookup.c, rtld.c; PROG is the program's argv[0]):

    PROG: error while loading shared libraries: LIB: cannot open shared object file: No such file or directory
    PROG: error while loading shared libraries: LIB: wrong ELF class: ELFCLASS32
    PROG: error while loading shared libraries: LIB: file too short | invalid ELF header | ...
    PROG: LIB: version `GLIBC_2.34' not found (required by REQ)
    PROG: symbol lookup error: REQ: undefined symbol: SYM[, version V]
    PROG: LIB: no version information available (required by REQ)        (a warning)
    Inconsistency detected by ld.so: FILE: LINE: FUNC: Assertion `...' failed!
    undefined symbol: SYM, version V<TAB>(REQ)                           (trace mode, LD_WARN)
    <TAB>LIB => not found                                               (trace mode)

musl (ldso/dynlink.c):

    Error loading shared library LIB: No such file or directory (needed by REQ)
    Error relocating REQ: SYM: symbol not found

qemu-user:

    qemu-aarch64: Could not open '/lib/ld-linux-aarch64.so.1': No such file or directory
"""

from __future__ import annotations

import re

from cgocheck.loader.runmodel import (
    INTERPRETER_MISSING,
    LIBRARY_NOT_FOUND,
    LOADER_FAILURE,
    NO_VERSION_INFO,
    SYMBOL_LOOKUP,
    UNLOADABLE,
    VERSION_NOT_FOUND,
    LoaderMessage,
)

_GLIBC_LOAD = re.compile(r"error while loading shared libraries: (?P<lib>[^:]+): (?P<err>.+)$")
_GLIBC_VERSION = re.compile(
    r"(?:^|: )(?P<lib>[^\s:][^:]*): version `(?P<ver>[^']+)' not found \(required by (?P<req>[^)]+)\)")
_GLIBC_SYMBOL = re.compile(
    r"symbol lookup error: (?P<req>[^:]+): undefined symbol: (?P<sym>[^,\s]+)(?:, version (?P<ver>\S+))?")
_GLIBC_NOVERSION = re.compile(
    r"(?:^|: )(?P<lib>[^\s:][^:]*): no version information available \(required by (?P<req>[^)]+)\)")
_GLIBC_ASSERT = re.compile(r"^Inconsistency detected by ld\.so: (?P<what>.+)$")
_TRACE_UNDEF = re.compile(r"^undefined symbol: (?P<sym>[^,\s]+)(?:, version (?P<ver>\S+))?\s+\((?P<req>[^)]+)\)$")
_TRACE_MISSING = re.compile(r"^\s+(?P<lib>\S+) => not found\s*$")
_MUSL_LOAD = re.compile(
    r"^Error loading shared library (?P<lib>[^:]+): (?P<err>.+?)(?: \(needed by (?P<req>[^)]+)\))?$")
_MUSL_RELOC = re.compile(r"^Error relocating (?P<req>[^:]+): (?P<sym>[^:]+): symbol not found$")
_QEMU_OPEN = re.compile(r"^qemu-[\w-]+: Could not open '(?P<path>[^']+)': (?P<err>.+)$")

# what glibc (or musl) says after the library name, and what kind of failure it is
_NOT_FOUND = ("cannot open shared object file", "No such file or directory")


def _load_kind(err: str) -> str:
    return LIBRARY_NOT_FOUND if any(err.startswith(x) for x in _NOT_FOUND) else UNLOADABLE


def parse_messages(text: str) -> tuple[LoaderMessage, ...]:
    """The loader's messages in TEXT (its stderr, or its merged output), each once, in order."""
    out: list[LoaderMessage] = []
    seen: set[str] = set()
    for raw in text.splitlines():
        line = raw.rstrip()
        msg = _parse_line(line)
        if msg is not None and msg.text not in seen:
            seen.add(msg.text)
            out.append(msg)
    return tuple(out)


def _parse_line(line: str) -> LoaderMessage | None:
    text = line.strip()
    if m := _QEMU_OPEN.match(text):
        return LoaderMessage(INTERPRETER_MISSING, text, library=m["path"])
    if m := _GLIBC_LOAD.search(text):
        return LoaderMessage(_load_kind(m["err"]), text, library=m["lib"].strip())
    if m := _GLIBC_VERSION.search(text):
        return LoaderMessage(VERSION_NOT_FOUND, text, library=m["lib"].strip(), version=m["ver"],
                             requester=m["req"].strip())
    if m := _GLIBC_SYMBOL.search(text):
        return LoaderMessage(SYMBOL_LOOKUP, text, symbol=m["sym"], version=m["ver"], requester=m["req"].strip())
    if m := _GLIBC_NOVERSION.search(text):
        return LoaderMessage(NO_VERSION_INFO, text, library=m["lib"].strip(), requester=m["req"].strip())
    if m := _GLIBC_ASSERT.match(text):
        return LoaderMessage(LOADER_FAILURE, text)
    if m := _TRACE_UNDEF.match(text):
        return LoaderMessage(SYMBOL_LOOKUP, text, symbol=m["sym"], version=m["ver"], requester=m["req"].strip())
    if m := _TRACE_MISSING.match(line):
        return LoaderMessage(LIBRARY_NOT_FOUND, text, library=m["lib"])
    if m := _MUSL_LOAD.match(text):
        return LoaderMessage(_load_kind(m["err"]), text, library=m["lib"].strip(), requester=m["req"])
    if m := _MUSL_RELOC.match(text):
        return LoaderMessage(SYMBOL_LOOKUP, text, symbol=m["sym"], requester=m["req"])
    return None


_BIND = re.compile(
    r"binding file (?P<req>\S+) \[\d+\] to (?P<prov>\S+) \[\d+\]: \w+ symbol `(?P<sym>[^']+)'(?: \[(?P<ver>[^\]]+)\])?"
)


def parse_bindings(text: str) -> list[tuple[str, str, str, str | None]]:
    """(requester, provider, symbol, version) of each ``LD_DEBUG=bindings`` line, each once."""
    out: dict[tuple[str, str, str, str | None], None] = {}
    for line in text.splitlines():
        m = _BIND.search(line)
        if m:
            out[(m["req"], m["prov"], m["sym"], m["ver"])] = None
    return list(out)
