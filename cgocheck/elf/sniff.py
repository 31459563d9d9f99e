"""Name a file's format from its first bytes, for a clear error message."""

from __future__ import annotations

ELF_MAGIC = b"\x7fELF"


def sniff(head: bytes) -> str | None:
    """What a non-ELF file is (``"a PE/COFF (Windows) file"``...), or None for ELF."""
    if not head:
        return "an empty file"
    if head.startswith(b"MZ"):
        return "a PE/COFF (Windows) file"
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"):
        return "a Mach-O file"
    if head[:4] == b"\xca\xfe\xba\xbe":
        return "a Mach-O universal (fat) file or Java class"
    if head.startswith(b"!<arch>"):
        return "an ar archive (static library)"
    if head.startswith(b"#!"):
        return "a script"
    if head[:4] != ELF_MAGIC:
        return "an unknown format"
    return None
