"""A parser for pkg-config ``.pc`` files, as pkg-config itself reads them.

Each line is a variable (``name=value``) or a keyword (``Name: value``), whichever of
``=`` or ``:`` follows the identifier first; ``#`` starts a comment unless escaped as
``\\#``; a backslash at the end of a line continues it. ``${var}`` expands variables
defined earlier (and ``pcfiledir``, the .pc file's folder); ``$$`` is a literal ``$``.
Requires lists are split on commas and spaces into (module, operator, version).

Expansion is bounded (pkg-config's is not): a value may expand to at most MAX_VALUE bytes
and all of a file's expansions together to MAX_EXPANDED, so a few lines whose variables
double each other (``b=${a}${a}``, ``c=${b}${b}`` ...) cost kilobytes, not gigabytes. Past
a budget the value is cut (or left empty) and the file gets a warning naming the budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_IDENT = re.compile(r"^([A-Za-z0-9_.]+)\s*([:=])\s*(.*)$")
_VAR = re.compile(r"\$\{([^}]*)\}")
_OPS = ("<=", ">=", "!=", "=", "<", ">")
MAX_VALUE = 64 << 10  # bytes one expanded value may have (a real Libs line is < 1 KiB)
MAX_EXPANDED = 4 << 20  # bytes all of one file's expanded values may have together
MAX_WARNINGS = 20  # kept per file; the rest are counted


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
    """The line up to its first '#' not escaped as ``\\#``, each ``\\#`` made a '#'."""
    i = line.find("#")
    while i > 0 and line[i - 1] == "\\":
        i = line.find("#", i + 1)
    kept = line if i < 0 else line[:i]
    return kept.replace("\\#", "#")


class _Budget:
    """What expansion may still produce in one file, and the warnings once it is spent."""

    def __init__(self, total: int = MAX_EXPANDED, per_value: int = MAX_VALUE) -> None:
        self.left = total
        self.per_value = per_value
        self.spent_total = False

    def cut(self, name: str, value: str, warnings: list[str]) -> str:
        if len(value) > self.per_value:
            warnings.append(f"{name} expands to more than {self.per_value} bytes: cut there")
            value = value[: self.per_value]
        if len(value) > self.left:
            if not self.spent_total:
                warnings.append(
                    f"the file's variables expand to more than {MAX_EXPANDED} bytes in all: later values cut"
                )
                self.spent_total = True
            value = value[: self.left]
        self.left -= len(value)
        return value


def _expand(value: str, variables: dict[str, str], warnings: list[str], budget: _Budget, name: str) -> str:
    # '$$' is a literal '$': protect it first.
    marker = "\0"
    value = value.replace("$$", marker)
    out: list[str] = []
    size = 0
    pos = 0
    for m in _VAR.finditer(value):
        out.append(value[pos : m.start()])
        size += m.start() - pos
        pos = m.end()
        var = m.group(1)
        if var in variables:
            sub = variables[var]
        else:
            warnings.append(f"undefined variable ${{{var}}}")
            sub = ""
        out.append(sub)
        size += len(sub)
        if size > budget.per_value:  # stop joining: the value is cut anyway
            break
    else:
        out.append(value[pos:])
    return budget.cut(name, "".join(out), warnings).replace(marker, "$")


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
    budget = _Budget()
    for line in _logical_lines(text):
        line = _strip_comment(line).strip()
        if not line:
            continue
        m = _IDENT.match(line)
        if not m:
            warnings.append(f"unparsable line: {line[:60]!r}")
            continue
        ident, sep, value = m.groups()
        value = _expand(value.strip(), variables, warnings, budget, ident)
        if sep == "=":
            if extra_vars and ident in extra_vars:
                continue  # an override (like pkg-config --define-variable) wins
            variables[ident] = value
        else:
            if ident in keywords:
                warnings.append(f"duplicate keyword {ident}")
            keywords[ident] = value
    if len(warnings) > MAX_WARNINGS:
        warnings[MAX_WARNINGS:] = [f"and {len(warnings) - MAX_WARNINGS} more warnings"]
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
