"""The user's home folder, redacted from everything cgocheck prints or writes as a report.

Reports name files: the binaries, the sysroot, the build's folders, the compile folders
that DWARF records. Under a home folder those paths carry the user's name (/home/alice/...),
and reports travel: CI artifacts, code scanning, pull request comments. So the output layer
(the CLI's stdout and stderr, and every report file it writes) replaces the home folder,
``$HOME`` and its real path when that differs, with ``~``, in every format: the plain path,
and its JSON-, HTML/XML- and URL-escaped spellings. SARIF, whose locations are URIs, gets
them relative to a ``HOME`` base id instead (``file://~/x`` would not be a URI).

``--show-paths`` (every command) or ``CGOCHECK_SHOW_PATHS=1`` prints paths as they are.
Nothing upstream of the output changes: the result cache, the build's work folder and the
values the checks compare keep the real paths.
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import re
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

TILDE = "~"
HOME_BASE_ID = "HOME"  # SARIF originalUriBaseIds key for locations under the home folder
_PATH_CHAR = r"A-Za-z0-9._~-"
# Where a path starts: not inside a longer name, or glued to a compiler flag (-I/home/...,
# -L, -B, -isystem/home/...). Checked at each hit of the prefix (see Redactor), not as a
# lookbehind in front of it: a pattern that opens with six lookbehinds is tried at every
# character of the text (9 ms for a 126 kB report), one that opens with the prefix is found
# by re's literal scan.
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_PATH_CHARS = _LETTERS | frozenset("0123456789._~-")  # the class _PATH_CHAR spells for re
_FLAGS = ("-isystem", "-iquote", "-idirafter", "-isysroot")


def _starts_path(text: str, i: int) -> bool:
    """Whether a path may start at text[i]: what the lookbehind
    ``(?<![A-Za-z0-9._~-])|(?<=-[A-Za-z])|(?<=-isystem)|...`` accepts there."""
    if i == 0 or text[i - 1] not in _PATH_CHARS:
        return True
    if i >= 2 and text[i - 2] == "-" and text[i - 1] in _LETTERS:
        return True
    return text.endswith(_FLAGS, 0, i)


_show_paths = False


def show_paths(value: bool = True) -> None:
    """--show-paths: print the home folder as it is."""
    global _show_paths
    _show_paths = value


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return not _show_paths and env.get("CGOCHECK_SHOW_PATHS", "").strip().lower() not in ("1", "true", "yes")


def home_prefixes(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The home folder as $HOME spells it and as its real path, longest first; never '/'."""
    env = os.environ if environ is None else environ
    return _prefixes(env.get("HOME", "").strip())


@functools.cache
def _prefixes(home: str) -> tuple[str, ...]:
    if not home:
        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:
            return ()
    out = {os.path.normpath(home), os.path.realpath(home)}
    return tuple(sorted((h for h in out if h.startswith("/") and h != "/"), key=len, reverse=True))


# Every command builds its redactor, so the spellings below are computed on every start: they
# are html.escape's and urllib.parse.quote's, written out here (tests/unit/test_redact_spellings.py
# compares them), because importing html and urllib.parse costs each process ~3 ms.
_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def html_escape(s: str, quote: bool = True) -> str:
    """html.escape(s, quote)."""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        s = s.replace('"', "&quot;").replace("'", "&#x27;")
    return s


def uri_quote(s: str) -> str:
    """urllib.parse.quote(s): UTF-8, '/' kept (a string that is not UTF-8 raises as it does)."""
    if not s:
        return s
    return "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in s.encode("utf-8", "strict"))


def _spellings(prefix: str) -> list[str]:
    """The prefix as each format writes it."""
    forms = [
        prefix,
        json.dumps(prefix)[1:-1],  # non-ASCII as \\uXXXX, quotes and backslashes escaped
        json.dumps(prefix, ensure_ascii=False)[1:-1],
        html_escape(prefix, quote=True),  # HTML and XML text and attributes
        html_escape(prefix, quote=False),
        uri_quote(prefix),  # URIs
    ]
    return list(dict.fromkeys(forms))


class Redactor:
    """Replaces each home prefix, where it starts a path (not inside a longer name), by ~."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        forms = sorted({f for p in prefixes for f in _spellings(p)}, key=len, reverse=True)
        self.prefixes = tuple(prefixes)
        self._re = (
            re.compile(f"(?:{'|'.join(re.escape(f) for f in forms)})(?![{_PATH_CHAR}])") if forms else None
        )

    def __call__(self, text: str) -> str:
        if self._re is None or not text:
            return text
        search = self._re.search
        out: list[str] = []
        last = pos = 0
        while (m := search(text, pos)) is not None:
            start = m.start()
            if _starts_path(text, start):
                out += (text[last:start], TILDE)
                last = pos = m.end()
            else:  # inside a longer name: no prefix starts here, try from the next character
                pos = start + 1
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)


def redactor(environ: Mapping[str, str] | None = None) -> Redactor:
    """The redaction in force: the home prefixes, or none with --show-paths."""
    return Redactor(home_prefixes(environ) if enabled(environ) else ())


def text(value: str) -> str:
    return redactor()(value)


def write_report(path: str | os.PathLike[str], content: str) -> None:
    """A report file (--report FORMAT=PATH, -o): redacted like stdout. A failed write (a full
    disk, a folder that is not there) is one line naming the file."""
    from cgocheck.core.files import os_problem

    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text(content))
    except OSError as exc:
        raise os_problem(exc, "write the report", path) from None


def under_home(path: str) -> tuple[str, str] | None:
    """(home prefix, the rest) when redaction is on and PATH lies in the home folder."""
    if not enabled():
        return None
    for home in home_prefixes():
        if path == home or path.startswith(home.rstrip("/") + "/"):
            return home, path[len(home) :].lstrip("/")
    return None


def sarif_location(path: str) -> dict[str, Any] | None:
    """A SARIF artifactLocation relative to the HOME base id, for a path under the home folder."""
    hit = under_home(os.path.abspath(path))
    if hit is None:
        return None
    return {"uri": uri_quote(hit[1]) + ("/" if path.endswith("/") and hit[1] else ""), "uriBaseId": HOME_BASE_ID}


def sarif_home_base() -> dict[str, Any]:
    why = "the user's home folder (not shown; cgocheck --show-paths shows paths as they are)"
    return {"description": {"text": why}}


class RedactingStream:
    """A text stream that redacts every write. It has no ``buffer``: click then writes text
    through it rather than around it."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError("text stream")
        self._stream.write(self._redact(s) if enabled() else s)
        return len(s)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return str(getattr(self._stream, "encoding", "utf-8") or "utf-8")

    @property
    def errors(self) -> str | None:
        return getattr(self._stream, "errors", None)

    @property
    def closed(self) -> bool:
        return bool(getattr(self._stream, "closed", False))

    @property
    def name(self) -> str:
        return str(getattr(self._stream, "name", "<redacted stream>"))
