"""pkg-config tracing: what pkg-config answered during a build, and where from.

The build's PKG_CONFIG is a sh wrapper (:func:`wrapper_body`, written by
``cgocheck.build.hermetic.pkg_config_trace_wrapper``) that records each call in
``<work>/trace/pc/``: the real pkg-config, the folder and the arguments (``PID.args``), the
pkg-config variables of the environment (``PID.env``), the output (``PID.out``, ``PID.err``)
and, once it is done, the exit status (``PID.rc``); it passes output and status through.
Go runs pkg-config only when it compiles a package: for a package it takes from its cache,
cgocheck asks the same wrapper the same question in the same environment after the build
(``replay``), and says so in the report.

Which .pc file answered for each module and its version are asked after the call, in the
call's environment (``--modversion --path``): for the modules `go list` names, while go
builds (:func:`prefetch`), so that reading the trace after the build asks nothing more.
(The wrapper was a Python program that asked them during each call: a Python start and
two more pkg-config runs on the build's own path, per call.)

For each module: the version and the .pc file that answered, whether that file lies in
the sysroot, the sysroot's own version of the module, and the host's (the seed's
comparison: bullseye's zlib 1.2.11 against the bookworm host's 1.2.13).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cgocheck.build.record import PathContext, PkgConfigModule, classify_path
from cgocheck.core import files

HOST_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C"}
TRACE_SUBDIR = "pc"
# The variables that change what pkg-config answers: recorded with each call.
ENV_KEYS = (
    "PKG_CONFIG_PATH",
    "PKG_CONFIG_LIBDIR",
    "PKG_CONFIG_SYSROOT_DIR",
    "PKG_CONFIG_ALLOW_SYSTEM_CFLAGS",
    "PKG_CONFIG_ALLOW_SYSTEM_LIBS",
    "PKG_CONFIG_SYSTEM_INCLUDE_PATH",
    "PKG_CONFIG_SYSTEM_LIBRARY_PATH",
    "PKG_CONFIG_TOP_BUILD_DIR",
)
# Options that take the next argument as their value (so it is not a module name).
VALUE_OPTS = (
    "--define-variable",
    "--variable",
    "--atleast-version",
    "--exact-version",
    "--max-version",
    "--with-path",
    "--define-prefix",
    "--relocate",
    "--env",
    "--log-file",
    "--maximum-traverse-depth",
)
OPS = ("<", "<=", "=", "!=", ">=", ">")

# (the pkg-config variables of a call, sorted) and a module -> (.pc path, version, error)
EnvKey = tuple[tuple[str, str], ...]
Answer = tuple[str | None, str | None, str | None]


def wrapper_body(real: str) -> str:
    """The PKG_CONFIG wrapper for the real pkg-config ``real`` (see the module's text). With no
    writable trace folder it is the real pkg-config."""
    saves = "".join(f'  [ -n "${{{k}+set}}" ] && printf \'{k}=%s\\0\' "${k}"\n' for k in ENV_KEYS)
    return (
        "#!/bin/sh\n"
        "# cgocheck: record this pkg-config call, then pass its output and exit status through\n"
        f"real={shlex.quote(real)}\n"
        f'd="$CGOCHECK_TRACE/{TRACE_SUBDIR}"\n'
        'if [ -z "$CGOCHECK_TRACE" ] || [ ! -d "$d" ] || [ ! -w "$d" ]; then exec "$real" "$@"; fi\n'
        'f="$d/$$"\n'
        "printf '%s\\0' \"$real\" \"$PWD\" \"$@\" > \"$f.args\"\n"
        "{\n" + saves + '} > "$f.env"\n'
        '"$real" "$@" > "$f.out" 2> "$f.err"\n'
        "s=$?\n"
        'cat "$f.out"\n'
        'cat "$f.err" >&2\n'
        'echo "$s" > "$f.rc"\n'
        'exit "$s"\n'
    )


def wrapped_real(wrapper: str) -> str | None:
    """The real pkg-config a wrapper of :func:`wrapper_body` runs (None: not such a wrapper)."""
    try:
        text = files.read_text(wrapper, files.SMALL)
    except files.FileProblem:
        return None
    if "# cgocheck: record this pkg-config call" not in text:
        return None
    for line in text.splitlines():
        if line.startswith("real="):
            words = shlex.split(line[5:])
            return words[0] if len(words) == 1 else None
    return None


def modules(args: list[str]) -> list[str]:
    """Module names in pkg-config's arguments ('zlib >= 1.2' counts as zlib)."""
    out: list[str] = []
    skip = False
    after_ops = False
    for a in args:
        if skip:
            skip = False
            continue
        if after_ops:
            after_ops = False
            continue
        if a == "--":
            continue
        if a.startswith("-"):
            if a in VALUE_OPTS:
                skip = True
            continue
        if a in OPS:
            after_ops = True
            continue
        for word in a.replace(",", " ").split():
            if word in OPS:
                continue
            if out and out[-1] in OPS:
                continue
            if word[:1].isdigit() and out:
                continue  # a version after an operator inside one argument
            out.append(word)
    return [m for m in dict.fromkeys(out) if m not in OPS]


def env_key(env: Mapping[str, str]) -> EnvKey:
    return tuple(sorted((k, env[k]) for k in ENV_KEYS if k in env))


def ask_module(real: str, module: str, env: Mapping[str, str]) -> Answer:
    """(.pc file, version, error) pkg-config gives for one module in ``env``: one call, or two
    for a pkg-config without ``--path`` (freedesktop's: the version only)."""

    def run(*args: str) -> tuple[int, str, str]:
        try:
            p = subprocess.run([real, *args, module], env=dict(env), capture_output=True, text=True,
                               errors="replace", timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return -1, "", str(exc)
        return p.returncode, p.stdout, p.stderr.strip()

    code, out, err = run("--modversion", "--path")
    lines = out.splitlines()
    if code == 0 and len(lines) == 2:
        return lines[1].strip(), lines[0].strip(), None
    vcode, vout, verr = run("--modversion")
    version = vout.strip() if vcode == 0 and vout.strip() else None
    return None, version, err or verr or f"pkg-config --path {module}: exit {code}"


def _call_env(build_env: Mapping[str, str], recorded: EnvKey) -> dict[str, str]:
    """The build's environment with a call's own pkg-config variables."""
    env = {k: v for k, v in build_env.items() if k not in ENV_KEYS}
    env.update(recorded)
    return env


def _nul_fields(data: bytes) -> list[str]:
    return [w.decode("utf-8", "replace") for w in data.split(b"\0")[:-1]]


def read_trace(trace_dir: Path, build_env: Mapping[str, str],
               known: Mapping[tuple[EnvKey, str], Answer] | None = None) -> list[dict[str, Any]]:
    """The finished pkg-config calls recorded under ``trace_dir``, in the order they were made:
    {real, cwd, argv, env, modules: [{module, pc_path, version, error}], stdout, stderr,
    returncode}. A module's .pc file and version come from ``known`` (asked while go built)
    or are asked now, in the call's environment."""
    d = trace_dir / TRACE_SUBDIR
    try:
        names = [n[:-3] for n in os.listdir(d) if n.endswith(".rc")]
    except OSError:
        return []

    def read(name: str) -> bytes:
        try:
            return files.read_bytes(d / name, files.TRACE)
        except files.FileProblem:
            return b""

    calls = []
    for pid in names:
        try:
            when = os.stat(d / f"{pid}.args").st_mtime_ns
        except OSError:
            continue
        calls.append((when, pid))
    out = []
    asked: dict[tuple[EnvKey, str], Answer] = dict(known or {})
    for _, pid in sorted(calls):
        fields = _nul_fields(read(f"{pid}.args"))
        rc = read(f"{pid}.rc").decode("ascii", "replace").strip()
        if len(fields) < 2 or not rc.lstrip("-").isdigit():
            continue
        real, cwd, argv = fields[0], fields[1], fields[2:]
        env: EnvKey = tuple(sorted(
            (k, v) for k, _, v in (w.partition("=") for w in _nul_fields(read(f"{pid}.env"))) if k in ENV_KEYS
        ))
        mods = []
        for m in modules(argv):
            if (env, m) not in asked:
                asked[(env, m)] = ask_module(real, m, _call_env(build_env, env))
            pc_path, version, error = asked[(env, m)]
            mods.append({"module": m, "pc_path": pc_path, "version": version, "error": error})
        out.append({
            "real": real,
            "cwd": cwd,
            "argv": argv,
            "env": dict(env),
            "modules": mods,
            "stdout": read(f"{pid}.out").decode("utf-8", "replace"),
            "stderr": read(f"{pid}.err").decode("utf-8", "replace")[-2000:],
            "returncode": int(rc),
        })
    return out


def replay(env: Mapping[str, str], mods: Iterable[str], trace_dir: Path, cwd: Path,
           known: Mapping[tuple[EnvKey, str], Answer] | None = None) -> list[dict[str, Any]]:
    """Ask the build's PKG_CONFIG (the wrapper) for modules the build did not ask about
    (their packages came from Go's cache), exactly as Go would, in the build's environment."""
    mods = list(dict.fromkeys(mods))
    if not mods or not env.get("PKG_CONFIG"):
        return []
    rdir = trace_dir / "replay"
    (rdir / TRACE_SUBDIR).mkdir(parents=True, exist_ok=True)
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
    return read_trace(rdir, env, known)


def host_answer(real: str, module: str) -> tuple[str | None, str | None]:
    """(.pc path, version) the host's own pkg-config gives, default search path (one call)."""
    pc, version, _ = ask_module(real, module, HOST_ENV)
    return pc, version


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
    answers: dict[tuple[EnvKey, str], Answer] = field(default_factory=dict)  # .pc file and version, build's env
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
    key = env_key(env)
    real = wrapped_real(env.get("PKG_CONFIG", "")) or real_pkg_config
    for m in mods:
        out.answers[(key, m)] = ask_module(real, m, env)
    out.replayed = modules_from_trace(replay(env, mods, trace_dir, cwd, out.answers), replayed=True, ctx=ctx)
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
    env: Mapping[str, str],
    sysroot_libdirs: Iterable[str],
    real_pkg_config: str,
    compare_host: bool = True,
) -> tuple[PkgConfigModule, ...]:
    """Every module pkg-config answered for: the build's own answers where it asked (a
    package it compiled), the replayed ones otherwise, with the sysroot's and host's."""
    seen = modules_from_trace(read_trace(trace_dir, env, pre.answers), replayed=False, ctx=ctx)
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
