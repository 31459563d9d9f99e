"""How the façade turns the bytes of an ELF string into ``str``: one policy for every string.

ELF strings (symbol and library names, the interpreter, .comment, DWARF names and paths,
ARM attribute values) are bytes with no declared encoding. Every one the façade returns
is ``str``, decoded by :func:`decode`:

* valid UTF-8 is kept as it is (``"libc.so.6"``, ``"/home/été/src"``);
* every byte that is not part of valid UTF-8 becomes the four characters ``\\xNN``
  (``b"lib\\xff.so"`` -> ``"lib\\\\xff.so"``), as Python's ``backslashreplace`` does;
* every ASCII control byte (0x00-0x1f and 0x7f, newline and tab included) becomes
  ``\\xNN`` too, so no string the façade returns can break a line of a report, a
  one-line error message or a terminal.

A backslash already in the bytes is kept as it is: a real name is never changed by the
policy, at the price that ``"\\\\xff"`` may also have been those four characters.
Strings are cut at :data:`MAX_TEXT` bytes before decoding (no ELF string is that long).
"""

from __future__ import annotations

import re

MAX_TEXT = 1 << 16  # bytes of one string decoded; a longer one is cut (and says so)

_CONTROLS = re.compile("[\x00-\x1f\x7f]")


def _escape(m: re.Match[str]) -> str:
    return f"\\x{ord(m.group(0)):02x}"


def decode(raw: bytes | bytearray | memoryview, limit: int = MAX_TEXT) -> str:
    """``raw`` as ``str`` under the policy above (at most ``limit`` bytes of it)."""
    data = bytes(raw[:limit])
    text = data.decode("utf-8", "backslashreplace")
    if _CONTROLS.search(text):
        text = _CONTROLS.sub(_escape, text)
    if len(raw) > limit:
        text += "...(cut)"
    return text


def cstring(data: bytes | bytearray, offset: int, limit: int = MAX_TEXT) -> str | None:
    """The NUL-terminated string at ``offset`` of a string table, or None when ``offset``
    lies outside it. A string the table does not terminate ends with the table."""
    if offset < 0 or offset >= len(data):
        return None
    end = data.find(b"\0", offset, offset + limit + 1)
    if end < 0:
        end = min(len(data), offset + limit + 1)  # one byte more than the limit: "(cut)"
    return decode(data[offset:end], limit)
