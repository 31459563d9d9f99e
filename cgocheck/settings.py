"""Settings: ``cgocheck.toml`` or ``[tool.cgocheck]`` in pyproject.toml, the CGOCHECK_*
environment variables and the command line, resolved in one place into frozen ``Settings``
that every command reads the same way (its ``policy`` is what cgocheck.policy applies).

Precedence, per key: command line > environment > file > defaults. Every value is
validated when it is read; an unknown key or a bad value is a ``ConfigError`` (exit 2)
whose one line names the file, the line and the key (``cgocheck.toml:12: suppress[1]: ...``).
tomllib gives no positions, so ``key_lines`` scans the text for the key within its table.

The file (kebab-case keys; in pyproject.toml the same keys under ``[tool.cgocheck]``)::

    go = ["1.19", "newest"]             # Go versions (toolchain specs)
    targets = ["linux/arm64", "linux/arm/v7"]
    compilers = ["gcc", "clang"]        # compiler presets
    packages = ["./cmd/..."]            # what `go build` builds
    glibc-floor = "2.31"                # oldest glibc the binaries must run on
    fail-on = "warning"                 # failing severity: info | warning | error
    baseline = "cgocheck-baseline.json" # a JSON report whose findings are accepted
    timeout = 600                       # seconds a build may take (then it is stopped)
    test = true                         # matrix: cells run their Go tests (cgocheck test), not a build

    [run]                               # verify and the matrix run what they build (or run = true)
    args = { "./cmd/app" = ["--version"], "*" = [] }   # program arguments per package ("*": any)
    timeout = 60                        # seconds a run may take (then it is stopped)
    max-output = 8388608                # bytes of output kept; more stops the program
    bindings = true                     # compare LD_DEBUG=bindings with resolve
    env = { TZ = "UTC" }                # recorded additions to the program's environment

    [sysroots]                          # target -> sysroot recipe or folder
    "linux/arm64" = "bookworm-arm64"    # (or sysroots = "name" for every target)

    [[suppress]]
    rule = "R001"                       # required: a rule id (docs/rules.md)
    path = "*/plugins/*.so"             # optional glob on the file the finding is about
    symbol = "pthread_*"                # optional glob on the finding's evidence
    reason = "vendor blob, ticket 123"  # required
    expires = 2026-06-30                # optional; once passed, the suppression is an error

Suppressions and the baseline are applied by cgocheck.policy: suppressed findings leave
the report's findings and are returned, with their reason, as ``Suppressed`` entries that
every report format shows.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cgocheck.build.options import GoBuildOptions
from cgocheck.core import files
from cgocheck.core.errors import BadInput, shown
from cgocheck.core.lazyre import lazy
from cgocheck.core.rules import SEVERITIES, rules
from cgocheck.core.schema import report_error
from cgocheck.policy import FindingKey, Policy, Suppression, keys_of_json_report

CONFIG_FILE = "cgocheck.toml"
PYPROJECT = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "cgocheck")


class ConfigError(BadInput):
    """A configuration problem: unknown key, bad value, missing reason, expired suppression."""


# --- the resolved configuration ---------------------------------------------------------

@dataclass(frozen=True)
class RunSettings:
    """``run = true`` or the ``[run]`` table: whether verify and the matrix run what they build
    under the target's loader (cgocheck.commands.run), and how."""

    enabled: bool = False
    args: tuple[tuple[str, tuple[str, ...]], ...] = ()  # package -> program arguments; "*" for any
    timeout: float | None = None  # None: the run default (cgocheck.loader.runner.DEFAULT_TIMEOUT)
    max_output: int | None = None
    bindings: bool = False
    env: tuple[tuple[str, str], ...] = ()

    def args_for(self, names: Iterable[str]) -> tuple[str, ...] | None:
        """The arguments for a binary known by NAMES (its package as written, import path,
        folder, binary name); the "*" entry when none matches; None when there is neither."""
        table = {_package_key(k): v for k, v in self.args}
        for n in names:
            if _package_key(n) in table:
                return table[_package_key(n)]
        return table.get("*")

    def as_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "args": {k: list(v) for k, v in self.args}, "timeout": self.timeout,
                "max_output": self.max_output, "bindings": self.bindings, "env": dict(self.env)}

    def __str__(self) -> str:
        if not self.enabled:
            return "off"
        parts = [f"{k}: {' '.join(v) or '(no arguments)'}" for k, v in self.args]
        parts += [f"timeout {self.timeout:g} s"] if self.timeout else []
        parts += ["bindings"] if self.bindings else []
        return "on" + (f" ({'; '.join(parts)})" if parts else "")


def _package_key(name: str) -> str:
    n = name.strip().rstrip("/")
    return n[2:] if n.startswith("./") else (n or ".")


@dataclass(frozen=True)
class Settings:
    go: tuple[str, ...] = ("newest",)
    targets: tuple[str, ...] = ()
    compilers: tuple[str, ...] = ("gcc",)
    packages: tuple[str, ...] = (".",)
    sysroots: tuple[tuple[str, str], ...] = ()  # (target, sysroot); target "*" for every target
    glibc_floor: str | None = None
    glibcxx_floor: str | None = None
    fail_on: str = "error"
    baseline: Path | None = None
    timeout: float | None = None  # seconds per build; None: the build default (DEFAULT_TIMEOUT)
    # go build options (cgocheck.build.options.GoBuildOptions; the `build` property)
    tags: str | None = None
    ldflags: str | None = None
    buildmode: str | None = None
    trimpath: bool = False
    buildvcs: str | None = None
    pgo: str | None = None
    overlay: str | None = None
    race: bool = False
    goexperiment: str | None = None
    goamd64: str | None = None
    goarm64: str | None = None
    run: RunSettings = field(default_factory=RunSettings)  # run = true / [run]
    test: bool = False  # matrix cells test (go test -c, run) instead of build
    suppressions: tuple[Suppression, ...] = ()
    baseline_keys: frozenset[FindingKey] = frozenset()
    file: Path | None = None  # the configuration file read, if any
    origins: tuple[tuple[str, str], ...] = ()  # key -> "cli" | "env CGOCHECK_X" | "file:line" | "default"

    @property
    def build(self) -> GoBuildOptions:
        return GoBuildOptions(
            tags=self.tags, ldflags=self.ldflags, buildmode=self.buildmode, trimpath=self.trimpath,
            buildvcs=self.buildvcs, pgo=self.pgo, overlay=self.overlay, race=self.race,
            goexperiment=self.goexperiment, goamd64=self.goamd64, goarm64=self.goarm64,
        )

    @property
    def policy(self) -> Policy:
        return Policy(self.fail_on, self.suppressions, self.baseline, self.baseline_keys)

    def sysroot_for(self, target: str) -> str | None:
        table = dict(self.sysroots)
        return table.get(target, table.get("*"))

    def origin(self, key: str) -> str:
        return dict(self.origins).get(key, "default")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (for `cgocheck config` and reports' options)."""
        return {
            "file": str(self.file) if self.file else None,
            "go": list(self.go),
            "targets": list(self.targets),
            "compilers": list(self.compilers),
            "packages": list(self.packages),
            "sysroots": dict(self.sysroots),
            "glibc_floor": self.glibc_floor,
            "glibcxx_floor": self.glibcxx_floor,
            "fail_on": self.fail_on,
            "baseline": str(self.baseline) if self.baseline else None,
            "timeout": self.timeout,
            "build": self.build.as_json(),
            "run": self.run.as_json(),
            "test": self.test,
            "suppress": [
                {
                    "rule": s.rule,
                    "path": s.path,
                    "symbol": s.symbol,
                    "reason": s.reason,
                    "expires": s.expires.isoformat() if s.expires else None,
                    "origin": s.origin,
                }
                for s in self.suppressions
            ],
            "origins": dict(self.origins),
        }


# --- locating keys in the file text -----------------------------------------------------

KeyPath = tuple[str | int, ...]

_KEY_PART = lazy(r"""[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'""")
_KEY_LINE = lazy(
    r"""^\s*((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*="""
)
_STRINGS = lazy(r""""(?:[^"\\]++|\\.)*+"|'[^']*+'""")
_ESCAPE = lazy(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}


def _unescape(m: re.Match[str]) -> str:
    e = m.group(1)
    if e[0] in "uU" and len(e) > 1:
        code = int(e[1:], 16)
        return chr(code) if code <= 0x10FFFF else m.group(0)
    return _ESCAPES.get(e, m.group(0))


def _key_parts(dotted: str) -> list[str]:
    out = []
    for p in _KEY_PART().findall(dotted):
        if p[:1] == '"':
            p = _ESCAPE().sub(_unescape, p[1:-1])  # TOML's escapes (\U0001F600, \e: not JSON's)
        elif p[:1] == "'":
            p = p[1:-1]
        out.append(p)
    return out


def _header(line: str) -> tuple[bool, str] | None:
    """(array of tables?, the dotted name) of a table header line, else None. Parsed by
    hand: a regex with a lazy name and optional blanks around it is quadratic in the blanks."""
    body = _strip_comment(line).strip()
    if body.startswith("[[") and body.endswith("]]"):
        return True, body[2:-2].strip()
    if body.startswith("[") and body.endswith("]"):
        return False, body[1:-1].strip()
    return None


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key and table header of a TOML text to its 1-based line.

    Paths are absolute: ("tool", "cgocheck", "fail-on"); an array of tables gets its index,
    ("suppress", 1, "reason") for the `reason` of the second [[suppress]]. The first
    occurrence of a path wins. Lines inside multi-line strings and inside multi-line
    arrays or inline tables are skipped (their keys map to the enclosing key's line).
    """
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    aot_count: dict[tuple[str, ...], int] = {}
    depth = 0
    in_ml: str | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw
        if in_ml is not None:
            if line.count(in_ml) % 2 == 1:
                in_ml = None
            continue
        if depth == 0:
            head = _header(line) if line.lstrip().startswith("[") else None
            if head is not None:
                aot, name = head
                parts = _key_parts(name)
                if aot:
                    k = tuple(parts)
                    idx = aot_count.get(k, -1) + 1
                    aot_count[k] = idx
                    table = (*parts, idx)
                else:
                    # a sub-table of an array of tables ([suppress.x] after [[suppress]]) lands in its last element
                    table = _with_aot_indices(parts, aot_count)
                lines.setdefault(table, n)
                if aot:
                    lines.setdefault(tuple(parts), n)
                continue
            km = _KEY_LINE().match(line)
            if km:
                path = (*table, *_key_parts(km.group(1)))
                lines.setdefault(path, n)
                line = line[km.end() :]
        for q in ('"""', "'''"):
            if line.count(q) % 2 == 1:
                in_ml = q
                line = line.split(q, 1)[0]
                break
        bare = _STRINGS().sub("", _strip_comment(line))
        depth = max(0, depth + bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}"))
    return lines


def _strip_comment(line: str) -> str:
    out, i = [], 0
    while i < len(line):
        m = _STRINGS().match(line, i)
        if m:
            out.append(m.group(0))
            i = m.end()
            continue
        if line[i] == "#":
            break
        out.append(line[i])
        i += 1
    return "".join(out)


def _with_aot_indices(parts: list[str], aot_count: dict[tuple[str, ...], int]) -> KeyPath:
    out: list[str | int] = []
    for i, p in enumerate(parts):
        out.append(p)
        prefix = tuple(parts[: i + 1])
        if prefix in aot_count and i < len(parts) - 1:
            out.append(aot_count[prefix])
    return tuple(out)


def locate(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of PATH, or of its nearest enclosing key or table that is in the text."""
    for i in range(len(path), 0, -1):
        if path[:i] in lines:
            return lines[path[:i]]
    return None


# --- reading and validating -------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, message: str, sub: KeyPath = ()) -> None:
        super().__init__(message)
        self.sub = sub  # a deeper path (list index, table key) the problem is at


Validator = Callable[[Any], Any]


def _list_of(item: Validator, what: str) -> Validator:
    def check(value: Any) -> tuple[Any, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise _Bad(f"must be a list of {what}, not {_tname(value)}")
        if not value:
            raise _Bad(f"must list at least one {what}")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(item(v))
            except _Bad as bad:
                raise _Bad(str(bad), (i, *bad.sub)) from None
        return tuple(out)

    return check


def _tname(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table", date: "a date"}.get(type(value), type(value).__name__)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"must be a string, not {_tname(value)}")
    if not value.strip():
        raise _Bad("must not be empty")
    return value.strip()


_GO_SPEC = lazy(r"^(newest|latest|(go)?\d+\.\d+(\.\d+)?((rc|beta)\d+)?)$")


def _go_spec(value: Any) -> str:
    s = _string(value)
    if "/" in s or _GO_SPEC().match(s):
        return s
    raise _Bad(f"{s!r} is not a Go version (e.g. \"1.19\", \"1.24.11\", \"newest\" or a GOROOT path)")


def _target(value: Any) -> str:
    from cgocheck.core.targets import parse_target

    s = _string(value)
    try:
        return parse_target(s).name
    except BadInput as err:
        raise _Bad(err.message) from None


def _compiler(value: Any) -> str:
    from cgocheck.build.hermetic import PRESETS

    s = _string(value)
    if s not in PRESETS:
        raise _Bad(f"unknown compiler preset {s!r} (one of {', '.join(PRESETS)})")
    return s


def _severity(value: Any) -> str:
    s = _string(value)
    if s not in SEVERITIES:
        raise _Bad(f"{s!r} is not a severity (one of {', '.join(SEVERITIES)})")
    return s


def _glibc(value: Any) -> str:
    from cgocheck.core.glibc import fmt, parse_floor

    if isinstance(value, float):
        raise _Bad(f"write the version as a string (\"{value}\"): as a number 2.30 reads as 2.3")
    s = _string(value)
    try:
        return fmt(parse_floor(s))
    except ValueError as exc:
        raise _Bad(str(exc)) from None


def _glibcxx(value: Any) -> str:
    from cgocheck.core.glibc import fmt, parse_floor

    if isinstance(value, float):
        raise _Bad(f"write the version as a string (\"{value}\")")
    s = _string(value)
    try:
        return fmt(parse_floor(s, "GLIBCXX_"))
    except ValueError as exc:
        raise _Bad(str(exc)) from None


def _sysroots(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, str):
        return (("*", _string(value)),)
    if not isinstance(value, dict):
        raise _Bad(f"must be a table of target = sysroot (or one sysroot for all), not {_tname(value)}")
    out = []
    for k, v in value.items():
        try:
            t = "*" if k == "*" else _target(k)
            out.append((t, _string(v)))
        except _Bad as bad:
            raise _Bad(str(bad), (k,)) from None
    return tuple(out)


# The longest a build may be given: a week. Longer is not a build, and past ~24.8 days
# (2**31 ms) the waits under a build (poll, select) overflow.
MAX_TIMEOUT = 7 * 24 * 3600.0


def _seconds(value: Any) -> float:
    """A timeout: a finite number of seconds, more than 0 and at most MAX_TIMEOUT (a string
    is read as a number: the command line and CGOCHECK_TIMEOUT give strings)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Bad(f"{value!r} is not a number of seconds") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"must be a number of seconds, not {_tname(value)}")
    if value != value or value in (float("inf"), float("-inf")):
        raise _Bad(f"must be a finite number of seconds, not {value}")
    if not value > 0:
        raise _Bad(f"must be a positive number of seconds, not {value}")
    if value > MAX_TIMEOUT:
        raise _Bad(f"must be at most {MAX_TIMEOUT:.0f} seconds (a week), not {value:g}")
    return float(value)


def _rule_id(value: Any) -> str:
    s = _string(value).upper()
    if s not in rules():
        from difflib import get_close_matches  # for a message only

        close = get_close_matches(s, list(rules()), n=1)
        raise _Bad(f"unknown rule {s!r}" + (f" (did you mean {close[0]}?)" if close else " (see docs/rules.md)"))
    return s


def _date(value: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Bad(f"must be a date like 2026-06-30, not {value!r}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "0", "false", "no"):
        return value.strip().lower() in ("1", "true", "yes")
    raise _Bad(f"must be true or false, not {_tname(value)}")


def _run(value: Any) -> RunSettings:
    """``run = true|false`` or a ``[run]`` table (enabled, args, timeout, max-output, bindings, env)."""
    if isinstance(value, bool):
        return RunSettings(enabled=value)
    if not isinstance(value, dict):
        raise _Bad(f"must be true, false or a table ([run] with args, timeout, bindings ...), not {_tname(value)}")
    known = ("enabled", "args", "timeout", "max-output", "bindings", "env")
    got: dict[str, Any] = {"enabled": True}
    for k, v in value.items():
        try:
            if k == "enabled" or k == "bindings":
                got[k] = _bool(v)
            elif k == "timeout":
                got[k] = _seconds(v)
            elif k == "max-output":
                if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                    raise _Bad(f"must be a positive number of bytes, not {v!r}")
                got["max_output"] = v
            elif k == "args":
                got[k] = _run_args(v)
            elif k == "env":
                got[k] = _run_env(v)
            else:
                from difflib import get_close_matches  # for a message only

                close = get_close_matches(k, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
                raise _Bad("unknown key" + hint)
        except _Bad as bad:
            raise _Bad(str(bad), (k, *bad.sub)) from None
    return RunSettings(**got)


def _run_args(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if isinstance(value, list):
        value = {"*": value}
    if not isinstance(value, dict):
        raise _Bad(f"must be a table of package = [arguments] (or one list for every package), not {_tname(value)}")
    out = []
    for pkg, args in value.items():
        if isinstance(args, str):
            args = shlex.split(args)
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise _Bad(f"must be a list of strings (the program's arguments), not {_tname(args)}", (pkg,))
        out.append((pkg, tuple(args)))
    return tuple(out)


def _run_env(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise _Bad(f"must be a table of NAME = \"value\", not {_tname(value)}")
    out = []
    for k, v in value.items():
        if not isinstance(v, str):
            raise _Bad(f"must be a string, not {_tname(v)}", (k,))
        if k.startswith(("LD_", "QEMU_")) or not k.replace("_", "").isalnum():
            raise _Bad("the loader's and qemu's variables are cgocheck's to set", (k,))
        out.append((k, v))
    return tuple(out)


def _choice(*allowed: str) -> Validator:
    def check(value: Any) -> str:
        s = _string(value)
        if s not in allowed:
            raise _Bad(f"{s!r} is not one of {', '.join(allowed)}")
        return s

    return check


@dataclass(frozen=True)
class _Key:
    name: str  # in the file (kebab-case)
    attr: str  # in Settings
    check: Validator
    env: str | None = None
    env_list: bool = False
    help: str = ""


KEYS: tuple[_Key, ...] = (
    _Key("go", "go", _list_of(_go_spec, "Go versions"), "CGOCHECK_GO", True, "Go versions to build with"),
    _Key("targets", "targets", _list_of(_target, "targets"), "CGOCHECK_TARGETS", True, "targets (linux/arm64 ...)"),
    _Key("compilers", "compilers", _list_of(_compiler, "compiler presets"), "CGOCHECK_COMPILERS", True,
         "C compiler presets"),
    _Key("packages", "packages", _list_of(_string, "packages"), "CGOCHECK_PACKAGES", True,
         "Go packages to build (./cmd/...)"),
    _Key("sysroots", "sysroots", _sysroots, "CGOCHECK_SYSROOTS", False,
         "target = sysroot recipe or folder (env: T=S,T=S or one S for all)"),
    _Key("glibc-floor", "glibc_floor", _glibc, "CGOCHECK_GLIBC_FLOOR", False, "oldest glibc to run on"),
    _Key("glibcxx-floor", "glibcxx_floor", _glibcxx, "CGOCHECK_GLIBCXX_FLOOR", False,
         "oldest libstdc++ to run on (a GLIBCXX version)"),
    _Key("fail-on", "fail_on", _severity, "CGOCHECK_FAIL_ON", False, "failing severity"),
    _Key("baseline", "baseline", _string, "CGOCHECK_BASELINE", False, "JSON report of accepted findings"),
    _Key("timeout", "timeout", _seconds, "CGOCHECK_TIMEOUT", False,
         "seconds a build may take; then it is stopped with its process group"),
    _Key("tags", "tags", _string, "CGOCHECK_TAGS", False, "go build -tags"),
    _Key("ldflags", "ldflags", _string, "CGOCHECK_LDFLAGS", False, "go build -ldflags"),
    _Key("buildmode", "buildmode", _choice("exe", "pie", "c-shared", "c-archive"), None, False, "go build -buildmode"),
    _Key("trimpath", "trimpath", _bool, None, False, "go build -trimpath"),
    _Key("buildvcs", "buildvcs", _choice("true", "false", "auto"), None, False, "go build -buildvcs"),
    _Key("pgo", "pgo", _string, None, False, "go build -pgo (auto, off or a profile)"),
    _Key("overlay", "overlay", _string, None, False, "go build -overlay FILE"),
    _Key("race", "race", _bool, None, False, "go build -race"),
    _Key("goexperiment", "goexperiment", _string, "CGOCHECK_GOEXPERIMENT", False, "GOEXPERIMENT"),
    _Key("goamd64", "goamd64", _string, None, False, "GOAMD64 level (amd64 targets)"),
    _Key("goarm64", "goarm64", _string, None, False, "GOARM64 level (arm64 targets)"),
    _Key("run", "run", _run, None, False, "run what verify and the matrix build, under the target's loader"),
    _Key("test", "test", _bool, None, False, "matrix cells run their packages' Go tests instead of building"),
)
_BY_NAME = {k.name: k for k in KEYS}
_SUPPRESS_KEYS = ("rule", "path", "symbol", "reason", "expires")
ENV_CONFIG = "CGOCHECK_CONFIG"


def env_variables() -> dict[str, str]:
    """The environment variables cgocheck's configuration reads, and what each sets."""
    out = {ENV_CONFIG: "configuration file to read instead of looking for one"}
    for k in KEYS:
        if k.env:
            out[k.env] = k.help
    return out


def _may_name_cgocheck(text: str) -> bool:
    """Whether TOML text can hold a key ``cgocheck``: it is spelled out, or written with
    escapes in a quoted key (``"\\u0063gocheck"``). A pyproject.toml with neither is not
    parsed (tomllib: ~5 ms with its import)."""
    return "cgocheck" in text or "\\u" in text or "\\U" in text


def find_config_file(start: Path) -> Path | None:
    """cgocheck.toml, or a pyproject.toml with [tool.cgocheck], in START or the nearest parent."""
    for folder in (start, *start.parents):
        own = folder / CONFIG_FILE
        if files.exists_entry(own):  # whatever it is: reading it says what is wrong with it
            return own
        py = folder / PYPROJECT
        if files.exists_entry(py):
            try:
                text = files.read_text(py, files.CONFIG)
                data = files.loads_toml(text, py, files.CONFIG) if _may_name_cgocheck(text) else {}
            except files.FileProblem:
                return py  # let _read_file report the problem (with its line)
            if isinstance(data.get("tool"), dict) and "cgocheck" in data["tool"]:
                return py
        if (folder / ".git").exists():
            return None
    return None


@dataclass
class _Layer:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    suppressions: tuple[Suppression, ...] = ()


def _read_file(path: Path, today: date, cwd: Path) -> _Layer:
    label = _label(path, cwd)
    try:
        text = files.read_text(path, files.CONFIG)
        data = files.loads_toml(text, label, files.CONFIG)
    except files.FileProblem as exc:
        why = "configuration file not found" if exc.missing else exc.problem
        raise ConfigError(f"{shown(label)}: {why}") from None
    lines = key_lines(text)
    root: KeyPath = ()
    if path.name == PYPROJECT:
        root = PYPROJECT_TABLE
        tool = data.get("tool", {})
        table = tool.get("cgocheck", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{label}:{locate(lines, root) or 1}: tool.cgocheck must be a table")
        data = table

    def where(sub: KeyPath) -> str:
        line = locate(lines, (*root, *sub))
        return f"{label}:{line}" if line else label

    def dotted(sub: KeyPath) -> str:
        out = ""
        for p in sub:
            if isinstance(p, int):
                out += f"[{p}]"
            else:
                out += ("." if out else "") + (p if re.fullmatch(r"[\w-]+", p) else json.dumps(p))
        return out

    def bad(sub: KeyPath, message: str) -> ConfigError:
        return ConfigError(f"{where(sub)}: {dotted(sub)}: {message}")

    layer = _Layer()
    for name, value in data.items():
        if name == "suppress":
            layer.suppressions = _read_suppressions(value, bad, where, today)
            continue
        key = _BY_NAME.get(name)
        if key is None:
            known = [*(_BY_NAME), "suppress"]
            from difflib import get_close_matches  # for a message only

            close = get_close_matches(name.replace("_", "-"), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
            raise bad((name,), "unknown key" + hint)
        try:
            v = key.check(value)
        except _Bad as err:
            sub: KeyPath = (name, *err.sub)
            line = _refine_line(text, lines, (*root, *sub), value, err.sub)
            loc = f"{label}:{line}" if line else where(sub)
            raise ConfigError(f"{loc}: {dotted(sub)}: {err}") from None
        if key.attr == "baseline":
            v = str((path.parent / v).resolve()) if not Path(v).is_absolute() else v
        layer.values[key.attr] = v
        layer.origins[key.attr] = where((name,))
    return layer


def _refine_line(text: str, lines: Mapping[KeyPath, int], path: KeyPath, value: Any, sub: KeyPath) -> int | None:
    """For a bad element of a multi-line array, the line that holds the element."""
    line = locate(lines, path)
    if line is None or not sub or not isinstance(sub[0], int) or not isinstance(value, list):
        return line
    item = value[sub[0]]
    if not isinstance(item, str):
        return line
    later = sorted(v for v in lines.values() if v > line)
    stop = later[0] if later else len(text.splitlines()) + 1
    body = text.splitlines()
    for n in range(line, stop):
        if json.dumps(item) in body[n - 1] or f"'{item}'" in body[n - 1]:
            return n
    return line


def _read_suppressions(
    value: Any,
    bad: Callable[[KeyPath, str], ConfigError],
    where: Callable[[KeyPath], str],
    today: date,
) -> tuple[Suppression, ...]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad(("suppress",), f"must be an array of tables ([[suppress]]), not {_tname(value)}")
    out = []
    for i, entry in enumerate(value):
        at: KeyPath = ("suppress", i)
        if not isinstance(entry, dict):
            raise bad(at, f"must be a table with rule and reason, not {_tname(entry)}")
        for k in entry:
            if k not in _SUPPRESS_KEYS:
                from difflib import get_close_matches  # for a message only

                close = get_close_matches(k, _SUPPRESS_KEYS, n=1)
                raise bad((*at, k), "unknown key" + (f" (did you mean {close[0]!r}?)" if close else
                                                     f" (known: {', '.join(_SUPPRESS_KEYS)})"))
        for required in ("rule", "reason"):
            if required not in entry:
                why = " (say why the finding is accepted)" if required == "reason" else ""
                raise bad(at, f"{required} is required{why}")
        checks: dict[str, Validator] = {"rule": _rule_id, "reason": _string, "path": _string, "symbol": _string,
                                        "expires": _date}
        got: dict[str, Any] = {}
        for k, v in entry.items():
            try:
                got[k] = checks[k](v)
            except _Bad as err:
                raise bad((*at, k), str(err)) from None
        expires: date | None = got.get("expires")
        if expires is not None and expires < today:
            raise bad(
                (*at, "expires"),
                f"the suppression of {got['rule']} expired on {expires.isoformat()} "
                f"(reason given: {got['reason']}): fix the finding, or extend the date if it still holds",
            )
        out.append(
            Suppression(
                rule=got["rule"],
                reason=got["reason"],
                path=got.get("path"),
                symbol=got.get("symbol"),
                expires=expires,
                origin=where(at),
            )
        )
    return tuple(out)


def _read_env(env: Mapping[str, str], cwd: Path) -> _Layer:
    layer = _Layer()
    for key in KEYS:
        if not key.env:
            continue
        raw = env.get(key.env, "").strip()
        if not raw:
            continue
        value: Any = raw
        if key.env_list:
            value = [p for p in re.split(r"[,\s]+", raw) if p]
        elif key.attr == "sysroots" and "=" in raw:
            value = {}
            for part in re.split(r"[,\s]+", raw):
                if part:
                    t, sep, s = part.partition("=")
                    if not sep:
                        raise ConfigError(f"environment variable {key.env}: {part!r} is not TARGET=SYSROOT")
                    value[t] = s
        try:
            v = key.check(value)
        except _Bad as err:
            raise ConfigError(f"environment variable {key.env}={raw}: {err}") from None
        if key.attr == "baseline":
            v = str((cwd / v).resolve())
        layer.values[key.attr] = v
        layer.origins[key.attr] = f"env {key.env}"
    return layer


def _read_cli(cli: Mapping[str, Any], cwd: Path) -> _Layer:
    layer = _Layer()
    by_attr = {k.attr: k for k in KEYS}
    for attr, value in cli.items():
        if value is None or value == () or attr == "config":
            continue
        key = by_attr.get(attr)
        if key is None:
            raise ValueError(f"not a configuration setting: {attr}")  # a programming error, not the user's
        try:
            v = key.check(list(value) if isinstance(value, tuple) else value)
        except _Bad as err:
            raise ConfigError(f"--{key.name}: {err}") from None
        if attr == "baseline":
            v = str((cwd / v).resolve())
        layer.values[attr] = v
        layer.origins[attr] = "cli"
    return layer


def _label(path: Path, cwd: Path) -> str:
    """The file as the user names it: relative to the folder cgocheck runs in when inside it."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def load_settings(
    *,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    today: date | None = None,
    use_file: bool = True,
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve the configuration: CLI > environment > file > defaults.

    CLI values are keyed by Settings attribute (``fail_on``, ``glibc_floor`` ...), None meaning
    "not given"; ``cli["config"]`` (or CGOCHECK_CONFIG) names the file, otherwise
    cgocheck.toml or pyproject.toml's [tool.cgocheck] is looked for from CWD upwards (up to
    the repository root). ``defaults`` are a command's own defaults (doctor fails on
    warnings), below every other layer.
    """
    cli = dict(cli or {})
    env = os.environ if env is None else env
    today = today or date.today()
    cwd = cwd or Path.cwd()
    path: Path | None = None
    if cli.get("config"):
        path = Path(str(cli["config"]))
    elif env.get(ENV_CONFIG, "").strip():
        path = Path(env[ENV_CONFIG].strip())
    elif use_file:
        path = find_config_file(cwd)
    if path is not None and not path.is_absolute():
        path = cwd / path
    file_layer = _read_file(path, today, cwd) if path is not None else _Layer()
    base = _Layer(values=dict(defaults or {}), origins={k: "default" for k in defaults or {}})
    layers = [base, file_layer, _read_env(env, cwd), _read_cli(cli, cwd)]
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:  # later layers win
        values.update(layer.values)
        origins.update(layer.origins)
    baseline = Path(values.pop("baseline")) if "baseline" in values else None
    keys: frozenset[FindingKey] = frozenset()
    if baseline is not None:
        keys = _read_baseline(baseline, origins.get("baseline", ""))
    return Settings(
        **values,
        baseline=baseline,
        baseline_keys=keys,
        suppressions=file_layer.suppressions,
        file=path,
        origins=tuple(sorted(origins.items())),
    )


def _read_baseline(path: Path, origin: str) -> frozenset[FindingKey]:
    where = origin if ":" in origin or origin.startswith("env") else "--baseline"
    try:
        data = files.read_json(path, files.REPORT)
    except files.FileProblem as exc:
        if exc.missing:
            raise ConfigError(
                f"{where}: baseline: {shown(path)} does not exist (write one with --format json)"
            ) from None
        raise ConfigError(f"{where}: baseline: {shown(path)} is not a JSON report ({exc.problem})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list) or "schema_version" not in data:
        raise ConfigError(f"{where}: baseline: {shown(path)} is not a cgocheck JSON report")
    wrong = report_error(data, required=False)
    if wrong:
        raise ConfigError(f"{where}: baseline: {shown(path)} is not a cgocheck JSON report ({wrong})")
    try:
        return keys_of_json_report(data)
    except (KeyError, TypeError, AttributeError):
        raise ConfigError(f"{where}: baseline: {shown(path)} is not a cgocheck JSON report (bad findings)") from None


def describe(config: Settings) -> list[tuple[str, str, str]]:
    """(key, value, where it came from) rows for people."""
    rows = []
    for k in KEYS:
        v = getattr(config, k.attr)
        if k.attr == "sysroots":
            shown = ", ".join(f"{t}={s}" for t, s in v) or "-"
        elif isinstance(v, tuple):
            shown = ", ".join(v) or "-"
        else:
            shown = "-" if v is None else str(v)
        rows.append((k.name, shown, config.origin(k.attr)))
    for s in config.suppressions:
        scope = " ".join(x for x in (f"path={s.path}" if s.path else "", f"symbol={s.symbol}" if s.symbol else "") if x)
        until = f" until {s.expires.isoformat()}" if s.expires else ""
        rows.append(("suppress", f"{s.rule} {scope} ({s.reason}){until}".replace("  ", " "), s.origin))
    return rows

