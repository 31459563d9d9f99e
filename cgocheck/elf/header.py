"""One bounded reader of the ELF identification and header, for everyone.

Reads at most :data:`EHDR_MAX` (64) bytes, from bytes or from a path, and decodes the
fields without judging them: a caller that needs a verdict (the loader model's
open_verify, the prebuilt-object scan, the façade's own reader) applies its own rules to
:class:`Ident` and :class:`Ehdr`. The only errors are the ones that make decoding
impossible (no magic, too few bytes, an EI_CLASS or EI_DATA byte that names no layout),
raised as :class:`HeaderError` with a one-line reason.

Names of machines, OS ABIs and file types come from one place each: :mod:`cgocheck.elf.names`
for the ``EM_*``/``ELFOSABI_*``/``ET_*`` spellings the facts use (pyelftools' spellings, kept
as our own tables so that reading a header imports no pyelftools), the table below
for the human machine names messages use, and :mod:`cgocheck.elf.decode` for e_flags
(the float ABI it encodes).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Literal

from cgocheck.core.errors import BadInput, NotAnElf
from cgocheck.elf.decode import arm_eabi_version, decode_flags
from cgocheck.elf.names import E_MACHINE as _EM
from cgocheck.elf.names import E_TYPE as _ET
from cgocheck.elf.names import EI_OSABI as _OSABI

ELF_MAGIC = b"\x7fELF"
EI_NIDENT = 16
EHDR_SIZE = {32: 52, 64: 64}
EHDR_MAX = 64
PHENT_SIZE = {32: 32, 64: 56}
SHENT_SIZE = {32: 40, 64: 64}

ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4
EM_386, EM_MIPS, EM_ARM, EM_X86_64, EM_AARCH64, EM_RISCV = 3, 8, 40, 62, 183, 243

# The names a person reads in a message (glibc's and binutils' spellings), by e_machine.
MACHINE_NAMES: dict[int, str] = {
    2: "SPARC",
    3: "i386",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    22: "S/390",
    40: "ARM",
    43: "SPARC v9",
    62: "x86-64",
    183: "AArch64",
    243: "RISC-V",
    258: "LoongArch",
}


def machine_name(code: int) -> str:
    """A person's name for an e_machine value: ``"AArch64"``, or ``"e_machine 1234"``."""
    return MACHINE_NAMES.get(code, f"e_machine {code}")


def machine_enum_name(code: int) -> str:
    """The ``EM_*`` spelling of an e_machine value (``"EM_AARCH64"``; ``"EM_1234"`` if unknown)."""
    return _EM.get(code, f"EM_{code}")


def osabi_name(code: int) -> str:
    """The ``ELFOSABI_*`` spelling of EI_OSABI (the number, as text, if unknown)."""
    return _OSABI.get(code, str(code))


def type_name(code: int) -> str:
    """The ``ET_*`` spelling of e_type (the number, as text, if unknown)."""
    return _ET.get(code, str(code))


class HeaderError(ValueError):
    """The first bytes cannot be decoded as an ELF header; ``reason`` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Ident:
    """The 16 identification bytes, undecoded where they may be anything."""

    ei_class: int  # 1 (32-bit), 2 (64-bit), anything else names no layout
    ei_data: int  # 1 (little-endian), 2 (big-endian)
    ei_version: int  # 1 (EV_CURRENT)
    ei_osabi: int
    ei_abiversion: int

    @property
    def elf_class(self) -> int | None:
        return {1: 32, 2: 64}.get(self.ei_class)

    @property
    def endian(self) -> Literal["little", "big"] | None:
        return "little" if self.ei_data == 1 else "big" if self.ei_data == 2 else None

    @property
    def osabi(self) -> str:
        return osabi_name(self.ei_osabi)


@dataclass(frozen=True)
class Ehdr:
    """The ELF header, every field as the file has it, and what the fields mean."""

    ident: Ident
    elf_class: int  # 32 | 64
    endian: Literal["little", "big"]
    e_type: int
    e_machine: int
    e_version: int
    e_entry: int
    e_phoff: int
    e_shoff: int
    e_flags: int
    e_ehsize: int
    e_phentsize: int
    e_phnum: int
    e_shentsize: int
    e_shnum: int
    e_shstrndx: int

    @property
    def size(self) -> int:
        """Bytes of the header for this class (52 or 64)."""
        return EHDR_SIZE[self.elf_class]

    @property
    def machine(self) -> str:
        return machine_enum_name(self.e_machine)

    @property
    def machine_name(self) -> str:
        return machine_name(self.e_machine)

    @property
    def type_name(self) -> str:
        return type_name(self.e_type)

    @property
    def osabi(self) -> str:
        return self.ident.osabi

    @property
    def flags_decoded(self) -> tuple[str, ...]:
        return decode_flags(self.machine, self.e_flags)[0]

    @property
    def float_abi(self) -> str:
        """What e_flags says of the float ABI: "hard"/"soft" (ARM), "soft"/"single"/
        "double"/"quad" (RISC-V), "" where the machine does not encode it there."""
        return decode_flags(self.machine, self.e_flags)[1]

    @property
    def arm_eabi(self) -> int:
        """The ARM EABI version in e_flags (5 for every current toolchain); 0 elsewhere."""
        return arm_eabi_version(self.e_flags) if self.e_machine == EM_ARM else 0

    @property
    def phentsize_expected(self) -> int:
        return PHENT_SIZE[self.elf_class]

    @property
    def shentsize_expected(self) -> int:
        return SHENT_SIZE[self.elf_class]


def parse_ident(head: bytes) -> Ident:
    """The identification bytes of ``head``. HeaderError without the magic or 16 bytes."""
    if not head.startswith(ELF_MAGIC) and not (len(head) < 4 and ELF_MAGIC.startswith(head)):
        raise HeaderError("not an ELF file (no \\x7fELF magic)")
    if len(head) < EI_NIDENT:
        raise HeaderError(f"file too short ({len(head)} bytes)")
    return Ident(head[4], head[5], head[6], head[7], head[8])


def parse_header(head: bytes) -> Ehdr:
    """The ELF header at the start of ``head`` (64 bytes are always enough).

    HeaderError when ``head`` has no magic, an EI_CLASS or EI_DATA byte that names no
    layout, or fewer bytes than the header of its class (52 or 64).
    """
    ident = parse_ident(head)
    cls, endian = ident.elf_class, ident.endian
    if cls is None:
        raise HeaderError(f"invalid ELF class byte {ident.ei_class}")
    if endian is None:
        raise HeaderError(f"invalid ELF data encoding byte {ident.ei_data}")
    if len(head) < EHDR_SIZE[cls]:
        raise HeaderError(f"file too short ({len(head)} bytes) for a {cls}-bit ELF header")
    fmt = ("<" if endian == "little" else ">") + ("HHIQQQIHHHHHH" if cls == 64 else "HHIIIIIHHHHHH")
    (e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum,
     e_shentsize, e_shnum, e_shstrndx) = struct.unpack_from(fmt, head, EI_NIDENT)
    return Ehdr(ident, cls, endian, e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags, e_ehsize,
                e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx)


def read_header(path: str | os.PathLike[str]) -> Ehdr:
    """The ELF header of the file at ``path``, reading at most 64 bytes of it.

    Raises :class:`NotAnElf` for a file that is not ELF (or too short for its header) and
    :class:`BadInput` for one that cannot be opened; the message is one line.
    """
    from cgocheck.elf.sniff import sniff

    p = os.fspath(path)
    try:
        with open(p, "rb") as f:
            head = f.read(EHDR_MAX)
    except OSError as exc:
        raise BadInput(f"{p}: cannot read: {exc.strerror or exc}") from None
    what = sniff(head)
    if what is not None:
        raise NotAnElf(f"{p}: {what}, not an ELF file")
    try:
        return parse_header(head)
    except HeaderError as err:
        raise NotAnElf(f"{p}: {err.reason}") from None
