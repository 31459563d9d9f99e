"""A parser for pkg-config ``.pc`` files, as pkg-config itself reads them.

Each line is a variable (``name=value``) or a keyword (``Name: value``), whichever of
``=`` or ``:`` follows the identifier first; ``#`` starts a comment unless escaped as
``\\#``; a backslash at the end of a line continues it. ``${var}`` expands variables
defined earlier (and ``pcfiledir``, the .pc file's folder); ``$$`` is a literal ``$``.
Requires lists are split on commas and spaces into (module, operator, version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_IDENT = re.compile(r"^([A-Za-z0-9_.]+)\s*([:=])\s*(.*)$")
_VAR = re.compile(r"\$\{([^}]*)\}")
_OPS = ("<=", ">=", "!=", "=", "<", ">")


@dataclass(frozen=True)
class Requirement:
    module: str
    op: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.module} {self.op} {self.version}" if self.op else self.module


@dataclass(frozen=True)
class PcFile:
    module: str  # the file's stem: what `pkg-config --modversion <module>` takes
    path: str  # where it was read (a guest path inside a sysroot)
    name: str | None
    description: str | None
    version: str | None
    requires: tuple[Requirement, ...]
    requires_private: tuple[Requirement, ...]
    conflicts: tuple[Requirement, ...]
    libs: str
    libs_private: str
    cflags: str
    variables: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "module": self.module,
            "path": self.path,
            "version": self.version,
            "requires": [str(r) for r in self.requires],
            "requires_private": [str(r) for r in self.requires_private],
            "libs": self.libs,
            "cflags": self.cflags,
        }


def _logical_lines(text: str) -> list[str]:
    out: list[str] = []
    buf = ""
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            buf += raw[:-1]
            continue
        out.append(buf + raw)
        buf = ""
    if buf:
        out.append(buf)
    return out


def _strip_comment(line: str) -> str:
    res = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == "#":
            res.append("#")
            i += 2
            continue
        if c == "#":
            break
        res.append(c)
        i += 1
    return "".join(res)


def _expand(value: str, variables: dict[str, str], warnings: list[str]) -> str:
    # '$$' is a literal '$': protect it first.
    marker = "\0"
    value = value.replace("$$", marker)

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in variables:
            return variables[name]
        warnings.append(f"undefined variable ${{{name}}}")
        return ""

    return _VAR.sub(sub, value).replace(marker, "$")


def parse_requires(value: str) -> tuple[Requirement, ...]:
    """``"glib-2.0 >= 2.50, zlib libffi"`` -> requirements, as pkg-config splits them."""
    tokens = [t for t in re.split(r"[\s,]+", value.strip()) if t]
    # an operator glued to its neighbours ("zlib>=1.2") is split apart
    split: list[str] = []
    for t in tokens:
        m = re.match(r"^([^<>=!]+)(<=|>=|!=|=|<|>)(.*)$", t)
        if m and m.group(1):
            split += [m.group(1), m.group(2)] + ([m.group(3)] if m.group(3) else [])
        else:
            split.append(t)
    out: list[Requirement] = []
    i = 0
    while i < len(split):
        mod = split[i]
        if i + 1 < len(split) and split[i + 1] in _OPS:
            ver = split[i + 2] if i + 2 < len(split) else None
            out.append(Requirement(mod, split[i + 1], ver))
            i += 3
        else:
            out.append(Requirement(mod))
            i += 1
    return tuple(out)


def parse_pc(
    text: str,
    path: str,
    *,
    extra_vars: dict[str, str] | None = None,
) -> PcFile:
    """Parse the text of a .pc file read from ``path`` (used for the module name and pcfiledir)."""
    p = PurePosixPath(path)
    variables: dict[str, str] = {"pcfiledir": str(p.parent)}
    if extra_vars:
        variables.update(extra_vars)
    keywords: dict[str, str] = {}
    warnings: list[str] = []
    for line in _logical_lines(text):
        line = _strip_comment(line).strip()
        if not line:
            continue
        m = _IDENT.match(line)
        if not m:
            warnings.append(f"unparsable line: {line[:60]!r}")
            continue
        ident, sep, value = m.groups()
        value = _expand(value.strip(), variables, warnings)
        if sep == "=":
            if extra_vars and ident in extra_vars:
                continue  # an override (like pkg-config --define-variable) wins
            variables[ident] = value
        else:
            if ident in keywords:
                warnings.append(f"duplicate keyword {ident}")
            keywords[ident] = value
    module = p.name[:-3] if p.name.endswith(".pc") else p.name
    return PcFile(
        module=module,
        path=path,
        name=keywords.get("Name"),
        description=keywords.get("Description"),
        version=keywords.get("Version"),
        requires=parse_requires(keywords.get("Requires", "")),
        requires_private=parse_requires(keywords.get("Requires.private", "")),
        conflicts=parse_requires(keywords.get("Conflicts", "")),
        libs=keywords.get("Libs", ""),
        libs_private=keywords.get("Libs.private", ""),
        cflags=keywords.get("Cflags", keywords.get("CFlags", "")),
        variables=variables,
        warnings=tuple(warnings),
    )
