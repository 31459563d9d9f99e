"""pkg-config tracing: what pkg-config answered during a build, and where from.

The build's PKG_CONFIG is a shim (``cgocheck/data/shims/pkgconfig_shim.py`` behind a
two-line sh wrapper, see ``cgocheck.build.pkg_config_trace_wrapper``) that records each
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
import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cgocheck.provenance import PathContext, PkgConfigModule, classify_path

HOST_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C"}
TRACE_FILE = "pkgconfig.jsonl"


def read_trace(trace_dir: Path) -> list[dict[str, Any]]:
    f = trace_dir / TRACE_FILE
    if not f.is_file():
        return []
    out = []
    for line in f.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
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
    for what in ("--cflags", "--libs"):
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                [env["PKG_CONFIG"], what, "--", *mods], env=renv, cwd=cwd, capture_output=True, timeout=120, check=False
            )
    return read_trace(rdir)


def _ask(real: str, args: list[str], env: Mapping[str, str]) -> str | None:
    try:
        p = subprocess.run([real, *args], env=dict(env), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() if p.returncode == 0 else None


def host_answer(real: str, module: str) -> tuple[str | None, str | None]:
    """(.pc path, version) the host's own pkg-config gives, default search path."""
    path = _ask(real, ["--path", module], HOST_ENV)
    version = _ask(real, ["--modversion", module], HOST_ENV)
    return (path.splitlines()[0] if path else None), version


def sysroot_answer(libdirs: Iterable[str], module: str) -> tuple[str | None, str | None]:
    """The sysroot's own .pc file for a module and its Version, read with cgocheck's parser."""
    from cgocheck.sysroot.pkgconfig import parse_pc

    for d in libdirs:
        f = Path(d) / f"{module}.pc"
        if f.is_file():
            try:
                pc = parse_pc(f.read_text(errors="replace"), str(f))
            except (OSError, ValueError):
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
            cflags = stdout if "--cflags" in argv else (prev.cflags if prev else "")
            libs = stdout if "--libs" in argv else (prev.libs if prev else "")
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


def trace_modules(
    trace_dir: Path,
    *,
    env: Mapping[str, str],
    wanted: Iterable[str],
    ctx: PathContext,
    sysroot_libdirs: Iterable[str],
    real_pkg_config: str,
    cwd: Path,
    compare_host: bool = True,
) -> tuple[PkgConfigModule, ...]:
    """Every module the build asked pkg-config about, with the sysroot's and host's answers."""
    seen = modules_from_trace(read_trace(trace_dir), replayed=False, ctx=ctx)
    missing = [m for m in wanted if m not in seen]
    if missing:
        more = modules_from_trace(replay(env, missing, trace_dir, cwd), replayed=True, ctx=ctx)
        for k, v in more.items():
            seen.setdefault(k, v)
    libdirs = list(sysroot_libdirs)
    out = []
    for name in sorted(seen):
        m = seen[name]
        s_pc, s_ver = sysroot_answer(libdirs, name) if libdirs else (None, None)
        h_pc, h_ver = host_answer(real_pkg_config, name) if compare_host else (None, None)
        out.append(
            PkgConfigModule(
                module=m.module,
                version=m.version,
                pc_path=m.pc_path,
                in_sysroot=m.in_sysroot,
                klass=m.klass,
                cflags=m.cflags,
                libs=m.libs,
                replayed=m.replayed,
                sysroot_pc=s_pc,
                sysroot_version=s_ver,
                host_pc=h_pc,
                host_version=h_ver,
                env=m.env,
            )
        )
    return tuple(out)
