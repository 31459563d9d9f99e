"""cgocheck's pkg-config tracer: set as PKG_CONFIG (through a two-line sh wrapper).

    python -I -S pkgconfig_shim.py --real /usr/bin/pkg-config -- ARGS...

Runs the real pkg-config with the same arguments and the same environment, passes its
output and exit status through unchanged, and appends one JSON line per call to
``$CGOCHECK_TRACE/pkgconfig.jsonl``: the arguments, the pkg-config variables of the
environment, for each module named the .pc file that answers (``--path``) and its version
(``--modversion``), the flags returned and the exit status. Standard library only: it runs
under ``env -i`` with ``-I -S``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

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


def ask(real: str, args: list[str]) -> tuple[str | None, str]:
    try:
        p = subprocess.run([real, *args], capture_output=True, text=True, errors="replace", timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return p.stdout.strip(), ""


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "--real":
        sys.stderr.write("pkgconfig_shim: usage: --real PKG_CONFIG -- ARGS...\n")
        return 2
    real = argv[1]
    args = argv[3:] if argv[2:3] == ["--"] else argv[2:]
    start = time.time()
    try:
        proc = subprocess.run([real, *args], capture_output=True)
    except OSError as exc:
        sys.stderr.write(f"pkg-config: cannot run {real}: {exc}\n")
        return 127
    sys.stdout.buffer.write(proc.stdout)
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(proc.stderr)
    sys.stderr.buffer.flush()
    trace = os.environ.get("CGOCHECK_TRACE")
    if trace and os.path.isdir(trace):
        mods: list[dict[str, object]] = []
        for m in modules(args):
            path, perr = ask(real, ["--path", m])
            version, verr = ask(real, ["--modversion", m])
            mods.append(
                {
                    "module": m,
                    "pc_path": path.splitlines()[0] if path else None,
                    "version": version,
                    "error": perr or verr or None,
                }
            )
        record = {
            "time": start,
            "cwd": os.getcwd(),
            "real": real,
            "argv": args,
            "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
            "modules": mods,
            "stdout": proc.stdout.decode("utf-8", "replace"),
            "stderr": proc.stderr.decode("utf-8", "replace")[-2000:],
            "returncode": proc.returncode,
        }
        line = json.dumps(record, sort_keys=True) + "\n"
        fd = os.open(os.path.join(trace, "pkgconfig.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
