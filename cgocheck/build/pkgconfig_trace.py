"""pkg-config tracing: what pkg-config answered during a build, and where from.

The build's PKG_CONFIG is a shim (``cgocheck/data/shims/pkgconfig_shim.py`` behind a
two-line sh wrapper, see ``cgocheck.build.hermetic.pkg_config_trace_wrapper``) that records each
call to ``<work>/pkgconfig.jsonl`` and then runs the real pkg-config with the same
environment. Go runs pkg-config only when it compiles a package: for a package it takes
from its cache, cgocheck asks the same shim the same question in the same environment
after the build (``replay``), and says so in the report.

For each module: the version and the .pc file that answered, whether that file lies in
the sysroot, the sysroot's own version of the module, and the host's (the seed's
comparison: bullseye's zlib 1.2.11 against the bookworm host's 1.2.13).
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cgocheck.build.record import PathContext, PkgConfigModule, classify_path
from cgocheck.core import files

HOST_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C"}
TRACE_FILE = "pkgconfig.jsonl"


def read_trace(trace_dir: Path) -> list[dict[str, Any]]:
    f = trace_dir / TRACE_FILE
    try:
        text = files.read_bytes(f, files.TRACE).decode("utf-8", "replace")
    except files.FileProblem:
        return []
    out = []
    for line in text.splitlines():
        try:
            rec = files.loads_json(line, f, files.TRACE)
        except files.FileProblem:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def replay(env: Mapping[str, str], modules: Iterable[str], trace_dir: Path, cwd: Path) -> list[dict[str, Any]]:
    """Ask the build's PKG_CONFIG (the shim) for modules the build did not ask about
    (their packages came from Go's cache), exactly as Go would, in the build's environment."""
    mods = list(dict.fromkeys(modules))
    if not mods or not env.get("PKG_CONFIG"):
        return []
    rdir = trace_dir / "replay"
    rdir.mkdir(parents=True, exist_ok=True)
    renv = dict(env)
    renv["CGOCHECK_TRACE"] = str(rdir)
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            [env["PKG_CONFIG"], "--cflags", "--libs", "--", *mods],
            env=renv,
            cwd=cwd,
            capture_output=True,
            timeout=120,
            check=False,
        )
    return read_trace(rdir)


def _ask(real: str, args: list[str], env: Mapping[str, str]) -> str | None:
    try:
        p = subprocess.run([real, *args], env=dict(env), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() if p.returncode == 0 else None


def host_answer(real: str, module: str) -> tuple[str | None, str | None]:
    """(.pc path, version) the host's own pkg-config gives, default search path (one call)."""
    out = _ask(real, ["--modversion", "--path", module], HOST_ENV)
    lines = out.splitlines() if out else []
    if len(lines) == 2 and lines[1].startswith("/"):
        return lines[1], lines[0]
    return None, _ask(real, ["--modversion", module], HOST_ENV)


def sysroot_answer(libdirs: Iterable[str], module: str) -> tuple[str | None, str | None]:
    """The sysroot's own .pc file for a module and its Version, read with cgocheck's parser."""
    from cgocheck.sysroot.pkgconfig import parse_pc

    for d in libdirs:
        f = Path(d) / f"{module}.pc"
        if f.is_file():
            try:
                pc = parse_pc(files.read_bytes(f, files.PC).decode("utf-8", "replace"), str(f))
            except files.FileProblem:
                return str(f), None
            return str(f), pc.version
    return None, None


def modules_from_trace(
    records: Iterable[dict[str, Any]],
    *,
    replayed: bool,
    ctx: PathContext,
) -> dict[str, PkgConfigModule]:
    out: dict[str, PkgConfigModule] = {}
    for rec in records:
        argv = [str(a) for a in rec.get("argv", [])]
        stdout = str(rec.get("stdout", "")).strip()
        env = tuple(sorted((str(k), str(v)) for k, v in dict(rec.get("env", {})).items()))
        for m in rec.get("modules", []):
            name = str(m.get("module"))
            prev = out.get(name)
            pc_path = m.get("pc_path")
            klass = classify_path(pc_path, ctx)[0] if pc_path else "missing"
            cflags, libs = (prev.cflags, prev.libs) if prev else ("", "")
            if "--cflags" in argv and "--libs" in argv:
                words = stdout.split()
                libs = " ".join(w for w in words if w.startswith(("-L", "-l", "-Wl", "-pthread")) or w.endswith(".a"))
                cflags = " ".join(w for w in words if w not in libs.split())
            elif "--cflags" in argv:
                cflags = stdout
            elif "--libs" in argv:
                libs = stdout
            out[name] = PkgConfigModule(
                module=name,
                version=m.get("version"),
                pc_path=pc_path,
                in_sysroot=(klass == "sysroot") if ctx.sysroot and pc_path else None,
                klass=klass,
                cflags=cflags,
                libs=libs,
                replayed=replayed,
                env=env,
            )
    return out


@dataclass
class Prefetch:
    """Answers cgocheck gets itself, while the build runs: the replayed queries (used for
    modules whose package Go took from its cache), the sysroot's and the host's versions."""

    replayed: dict[str, PkgConfigModule] = field(default_factory=dict)
    sysroot: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    host: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


def prefetch(
    trace_dir: Path,
    *,
    env: Mapping[str, str],
    wanted: Iterable[str],
    ctx: PathContext,
    sysroot_libdirs: Iterable[str],
    real_pkg_config: str,
    cwd: Path,
    compare_host: bool = True,
) -> Prefetch:
    mods = list(dict.fromkeys(wanted))
    out = Prefetch()
    if not mods:
        return out
    out.replayed = modules_from_trace(replay(env, mods, trace_dir, cwd), replayed=True, ctx=ctx)
    libdirs = list(sysroot_libdirs)
    for m in mods:
        out.sysroot[m] = sysroot_answer(libdirs, m) if libdirs else (None, None)
        out.host[m] = host_answer(real_pkg_config, m) if compare_host else (None, None)
    return out


def trace_modules(
    trace_dir: Path,
    *,
    ctx: PathContext,
    pre: Prefetch,
    sysroot_libdirs: Iterable[str],
    real_pkg_config: str,
    compare_host: bool = True,
) -> tuple[PkgConfigModule, ...]:
    """Every module pkg-config answered for: the build's own answers where it asked (a
    package it compiled), the replayed ones otherwise, with the sysroot's and host's."""
    seen = modules_from_trace(read_trace(trace_dir), replayed=False, ctx=ctx)
    for k, v in pre.replayed.items():
        seen.setdefault(k, v)
    libdirs = list(sysroot_libdirs)
    out = []
    for name in sorted(seen):
        m = seen[name]
        s_pc, s_ver = pre.sysroot.get(name) or (sysroot_answer(libdirs, name) if libdirs else (None, None))
        h_pc, h_ver = pre.host.get(name) or (host_answer(real_pkg_config, name) if compare_host else (None, None))
        out.append(dataclasses.replace(m, sysroot_pc=s_pc, sysroot_version=s_ver, host_pc=h_pc, host_version=h_ver))
    return tuple(out)
