"""Module dependencies, hermetic and reproducible.

A module with dependencies is built in two steps:

1. **fetch** (only where a dependency is missing): ``go mod download -json`` with the module
   settings the user has (``go env`` in their shell: GOPROXY, GONOPROXY, GOPRIVATE, GONOSUMDB,
   GOSUMDB, GOINSECURE, GOFLAGS' -mod, GOAUTH, and their netrc), into a download cache of
   cgocheck's keyed by those settings. Their names are recorded; values that can carry
   credentials are not.
2. **build**, offline: GOPROXY is that cache (a ``file://`` proxy), GOSUMDB off and
   ``-mod=readonly``, so every module is verified against go.sum and no module outside the
   module graph can be used; GOMODCACHE is the graph's own (keyed by go.mod, go.sum and
   go.work and the settings), so the build sees nothing another build fetched.

A module with a ``vendor/`` folder builds with ``-mod=vendor`` and no fetch. ``go.work`` is
honoured (the workspace's modules and their go.sum files are part of the key).

The same inputs (source, go.sum, settings) give the same result whatever ran before: a
module another graph or other settings fetched is not in this graph's caches.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cgocheck.core import files, folders

# the module settings a fetch takes from the user's go env
SETTINGS = ("GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOFLAGS", "GOAUTH")
SECRET_SETTINGS = ("GOAUTH",)  # commands or tokens
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


@dataclass(frozen=True)
class ModuleProblem:
    module: str  # path@version
    error: str


@dataclass(frozen=True)
class ModuleSetup:
    """How the build gets its dependencies, and what the fetch found."""

    mode: str  # "none" (no dependency) | "vendor" | "proxy" (fetched, then offline)
    settings: tuple[tuple[str, str], ...] = ()  # the user's module settings, redacted
    workspace: str | None = None  # go.work in use
    problems: tuple[ModuleProblem, ...] = ()
    fetched: int = 0  # modules the fetch step downloaded or found in its cache
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # what the build gets

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "settings": dict(self.settings),
            "workspace": self.workspace,
            "problems": [{"module": p.module, "error": p.error} for p in self.problems],
            "fetched": self.fetched,
        }


def redact(name: str, value: str) -> str:
    """A setting's value as it may be shown and recorded: credentials in URLs and whole secret
    settings replaced."""
    if name in SECRET_SETTINGS and value:
        return "<redacted>"
    return _URL_CREDENTIALS.sub("<redacted>@", value)


def _requires(gomod: Path) -> bool:
    try:
        text = files.decode(files.read_bytes(gomod, files.GOMOD), gomod)
    except (OSError, files.FileProblem):
        return False
    return bool(re.search(r"^\s*require\b", text, re.M))


def workspace_file(root: Path, env: Mapping[str, str]) -> Path | None:
    gowork = env.get("GOWORK", "")
    if gowork == "off":
        return None
    if gowork:
        return Path(gowork)
    for d in (root, *root.parents):
        if (d / "go.work").is_file():
            return d / "go.work"
    return None


def _graph_files(root: Path, work: Path | None) -> list[Path]:
    found = [root / "go.mod", root / "go.sum"]
    if work is not None:
        found += [work, work.with_name("go.work.sum")]
        for line in files.decode(files.read_bytes(work, files.GOMOD), work).splitlines():
            m = re.match(r"^\s*(?:use\s+)?(\.{1,2}/\S*|/\S+)\s*$", line.split("//")[0])
            if m:
                mod = (work.parent / m.group(1)).resolve()
                found += [mod / "go.mod", mod / "go.sum"]
    return [f for f in found if f.is_file()]


def user_settings(go: Path, environ: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The module settings of the user's shell, as `go env` sees them there (variables and
    the go env file)."""
    env = {k: v for k, v in environ.items() if k in (*SETTINGS, "HOME", "GOENV", "XDG_CONFIG_HOME")}
    env["PATH"] = f"{go.parent}:/usr/bin:/bin"
    env["GOTOOLCHAIN"] = "local"
    try:
        proc = subprocess.run([str(go), "env", "-json", *SETTINGS], env=env, cwd=cwd, capture_output=True,
                              text=True, timeout=60, check=False)
        data = files.loads_json(proc.stdout, "go env -json", files.SMALL_JSON) if proc.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, files.FileProblem):
        data = {}
    return {k: str(data.get(k, "")) for k in SETTINGS}


def setup(
    go: Path,
    go_version: str,
    root: Path,
    environ: Mapping[str, str],
    build_env: Mapping[str, str],
    *,
    timeout: float,
) -> ModuleSetup:
    """Decide how the build gets its modules and, for a module with dependencies, fetch what
    its graph names (see the module's docstring). ``build_env`` is the hermetic environment
    the fetch runs in (its HOME, caches and PATH); ``environ`` the user's."""
    work = workspace_file(root, build_env)
    if (root / "vendor" / "modules.txt").is_file() and work is None:
        return ModuleSetup("vendor", env=(("GOFLAGS", "-mod=vendor"),))
    if not _requires(root / "go.mod") and work is None:
        return ModuleSetup("none")
    settings = user_settings(go, environ, root)
    shown = tuple((k, redact(k, v)) for k, v in settings.items() if v)
    key = files.sha256_hex(json.dumps(sorted(settings.items())).encode())[:16]
    download = folders.downloads() / "gomod" / key  # a GOMODCACHE: its cache/download is a file proxy
    graph_bytes = b"".join(files.read_bytes(g, files.GOMOD) for g in _graph_files(root, work))
    graph = files.sha256_hex(graph_bytes)[:16]
    modcache = folders.home() / "gomodcache" / go_version / f"{key}-{graph}"
    fetch_env = {
        "PATH": build_env["PATH"],
        "HOME": build_env["HOME"],
        "GOCACHE": build_env["GOCACHE"],
        "GOTOOLCHAIN": "local",
        "GOMODCACHE": str(download),
        "GOFLAGS": " ".join(f for f in settings["GOFLAGS"].split() if f.startswith("-mod=") and f != "-mod=vendor")
        + " -modcacherw",
        **{k: v for k, v in settings.items() if v and k != "GOFLAGS"},
    }
    netrc = Path(environ.get("NETRC") or Path(environ.get("HOME", "/nonexistent")) / ".netrc")
    if netrc.is_file():
        fetch_env["NETRC"] = str(netrc)
    if work is not None:
        fetch_env["GOWORK"] = str(work)
    problems, fetched = _download(go, root, fetch_env, timeout)
    proxy = "file://" + str(download / "cache" / "download")
    env = (
        ("GOPROXY", proxy),
        ("GOSUMDB", "off"),
        ("GONOSUMDB", ""),
        ("GOFLAGS", "-mod=readonly -modcacherw"),
        ("GOMODCACHE", str(modcache)),
        *((("GOWORK", str(work)),) if work is not None else ()),
    )
    return ModuleSetup("proxy", shown, str(work) if work else None, tuple(problems), fetched, env)


def _download(go: Path, root: Path, env: Mapping[str, str], timeout: float) -> tuple[list[ModuleProblem], int]:
    try:
        proc = subprocess.run([str(go), "mod", "download", "-json"], env=dict(env), cwd=root, capture_output=True,
                              text=True, errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return [ModuleProblem("(all)", f"go mod download did not finish in {timeout:g} s")], 0
    problems: list[ModuleProblem] = []
    count = 0
    dec = json.JSONDecoder()
    text, i = proc.stdout, 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        try:
            obj, i = dec.raw_decode(text, i)
        except ValueError:
            break
        if not isinstance(obj, dict):
            continue
        name = f"{obj.get('Path', '?')}@{obj.get('Version', '?')}"
        if obj.get("Error"):
            problems.append(ModuleProblem(name, str(obj["Error"])))
        else:
            count += 1
    if proc.returncode != 0 and not problems:
        tail = [ln for ln in proc.stderr.splitlines() if ln.strip()][-3:]
        problems.append(ModuleProblem("(module graph)", " ".join(tail) or f"go mod download exited {proc.returncode}"))
    return problems, count
