"""The modinfo text Go's linker records (``go version -m`` prints it), parsed as Go's
``runtime/debug.ParseBuildInfo`` does: ``path``/``mod``/``dep``/``=>``/``build`` lines,
``build`` keys and values possibly strconv-quoted."""

from __future__ import annotations

from cgocheck.core.errors import BadInput
from cgocheck.elf.model import GoModule, GoSetting


def _unquote(s: str) -> str:
    """Go's ``strconv.Unquote`` for a double-quoted or back-quoted string; ValueError if not.

    ``\\x`` and octal escapes are bytes (possibly not UTF-8); the result is decoded as UTF-8
    with invalid bytes replaced, as our model holds ``str``.
    """
    if len(s) < 2 or s[0] != s[-1] or s[0] not in '"`':
        raise ValueError("not a quoted string")
    body = s[1:-1]
    if s[0] == "`":
        if "`" in body:
            raise ValueError("backquote inside raw string")
        return body.replace("\r", "")
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == '"' or c == "\n":
            raise ValueError("unescaped quote or newline")
        if c != "\\":
            out += c.encode("utf-8", "replace")
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError("trailing backslash")
        e = body[i + 1]
        i += 2
        simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
        if e in simple:
            out.append(simple[e])
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i : i + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("bad hex escape")
            v = int(digits, 16)
            i += width
            if e == "x":
                out.append(v)
            else:
                if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    raise ValueError("invalid rune")
                out += chr(v).encode("utf-8")
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise ValueError("bad octal escape")
            v = int(digits, 8)
            if v > 255:
                raise ValueError("octal escape out of range")
            out.append(v)
            i += 2
        else:
            raise ValueError(f"unknown escape \\{e}")
    return out.decode("utf-8", "replace")


def _quoted_prefix(s: str) -> str:
    """The quoted string at the start of ``s`` (Go's ``strconv.QuotedPrefix``)."""
    q = s[0]
    if q == "`":
        end = s.find("`", 1)
        if end < 0:
            raise ValueError("unterminated raw string")
        return s[: end + 1]
    i = 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            break
        if c == q:
            cand = s[: i + 1]
            _unquote(cand)  # validates the escapes
            return cand
        i += 1
    raise ValueError("unterminated quoted string")


def _needs_quoted_key(key: str) -> bool:
    return key == "" or any(ch in key for ch in '= \t\r\n"`')


def _needs_quoted_value(value: str) -> bool:
    return any(ch in value for ch in ' \t\r\n"`')


def _module(cols: list[str], lineno: int, *, replacement: bool = False) -> GoModule:
    if replacement:
        if len(cols) != 3:
            raise BadInput(f"Go build info line {lineno}: expected 3 columns for replacement, got {len(cols)}")
    elif len(cols) not in (2, 3):
        raise BadInput(f"Go build info line {lineno}: expected 2 or 3 columns, got {len(cols)}")
    sum_ = cols[2] if len(cols) == 3 and cols[2] else None
    return GoModule(path=cols[0], version=cols[1], sum=sum_)


def parse_modinfo(
    text: str,
) -> tuple[str | None, GoModule | None, tuple[GoModule, ...], tuple[GoSetting, ...]]:
    """Parse modinfo (sentinels already stripped) into (path, main, deps, settings).

    Follows Go's ``ParseBuildInfo``: a final line without a newline is ignored, unknown
    line kinds are skipped, a malformed known line raises :class:`BadInput` naming the line.
    """
    path: str | None = None
    main: GoModule | None = None
    deps: list[GoModule] = []
    settings: list[GoSetting] = []
    # which module the next "=>" line replaces: ("main", -1) or ("dep", index)
    last: tuple[str, int] | None = None

    lines = text.split("\n")
    lines.pop()  # the text after the last newline: Go drops it (empty for well-formed input)
    for lineno, line in enumerate(lines, start=1):
        if line.startswith("path\t"):
            path = line[len("path\t") :]
        elif line.startswith("mod\t"):
            main = _module(line[len("mod\t") :].split("\t"), lineno)
            last = ("main", -1)
        elif line.startswith("dep\t"):
            deps.append(_module(line[len("dep\t") :].split("\t"), lineno))
            last = ("dep", len(deps) - 1)
        elif line.startswith("=>\t"):
            rep = _module(line[len("=>\t") :].split("\t"), lineno, replacement=True)
            if last is None:
                raise BadInput(f"Go build info line {lineno}: replacement with no module before it")
            if last[0] == "main" and main is not None:
                main = GoModule(main.path, main.version, main.sum, rep)
            else:
                d = deps[last[1]]
                deps[last[1]] = GoModule(d.path, d.version, d.sum, rep)
            last = None
        elif line.startswith("build\t"):
            settings.append(_parse_build_line(line[len("build\t") :], lineno))
    return path, main, tuple(deps), tuple(settings)


def _parse_build_line(kv: str, lineno: int) -> GoSetting:
    where = f"Go build info line {lineno}"
    if not kv:
        raise BadInput(f"{where}: build line missing '='")
    if kv[0] == "=":
        raise BadInput(f"{where}: build line with missing key")
    if kv[0] in '"`':
        try:
            raw_key = _quoted_prefix(kv)
            key = _unquote(raw_key)
        except ValueError as e:
            raise BadInput(f"{where}: invalid quoted key ({e})") from None
        if len(kv) == len(raw_key) or kv[len(raw_key)] != "=":
            raise BadInput(f"{where}: no '=' after quoted key")
        raw_value = kv[len(raw_key) + 1 :]
    else:
        key, sep, raw_value = kv.partition("=")
        if not sep:
            raise BadInput(f"{where}: build line missing '=' after key")
        if _needs_quoted_key(key):
            raise BadInput(f"{where}: unquoted key {key!r} must be quoted")
    value = raw_value
    if raw_value and raw_value[0] in '"`':
        try:
            value = _unquote(raw_value)
        except ValueError as e:
            raise BadInput(f"{where}: invalid quoted value for {key} ({e})") from None
    elif _needs_quoted_value(raw_value):
        raise BadInput(f"{where}: unquoted value {raw_value!r} must be quoted")
    return GoSetting(key=key, value=value)
