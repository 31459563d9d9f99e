"""``verify --provenance PATH``: an in-toto Statement (v1) whose predicate is SLSA Provenance
v1, unsigned, for the hermetic build verify just ran.

- subject: each binary the build wrote, by sha256;
- buildDefinition.buildType: cgocheck's verify build (BUILD_TYPE);
- externalParameters: what the user asked for (package, target, options);
- internalParameters: the environment allowlist: every variable the hermetic ``env -i``
  build ran with (names and values; the home folder shown as ``~``);
- resolvedDependencies: the Go toolchain (its ``go`` binary's sha256), the sysroot (its
  lock file's sha256 and content digest), the C compiler (its binary's sha256 and
  ``--version``), the source tree (a digest over its files, .git left out) and every module
  of the binary's build info (``pkg:golang`` URI, its ``h1:`` sum as the dirHash);
- runDetails: cgocheck as the builder, start and end times.

Specs: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md and
https://slsa.dev/spec/v1.0/provenance.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shlex
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

from cgocheck import __version__
from cgocheck.build.record import BuildRecord
from cgocheck.core import files
from cgocheck.elf.model import ElfFacts
from cgocheck.results import Report
from cgocheck.sysroot import meta

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://cgocheck.invalid/buildtypes/verify/v1"
BUILDER_ID = "https://cgocheck.invalid/builder/verify"
MAX_SOURCE_FILES = 200_000
SKIP_DIRS = (".git", ".hg", ".svn")


sha256_file = files.sha256_or_none  # None for a file that cannot be read


def source_digest(top: Path, skip: set[str] | None = None) -> tuple[str, int]:
    """sha256 over the tree's sorted relative paths, kinds and contents (link targets), the
    version-control folders and ``skip`` (absolute paths: the outputs) left out; (digest,
    files)."""
    skip = skip or set()
    entries: list[tuple[str, str, str]] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and os.path.join(dirpath, d) not in skip)
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if full in skip:
                continue
            rel = os.path.relpath(full, top)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                entries.append((rel, "l", os.readlink(full)))
            elif stat.S_ISREG(st.st_mode):
                entries.append((rel, "f", sha256_file(full) or ""))
            if len(entries) > MAX_SOURCE_FILES:
                return "", len(entries)
    h = hashlib.sha256()
    for rel, kind, value in sorted(entries):
        h.update(f"{rel}\0{kind}\0{value}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest(), len(entries)


def _h1_hex(s: str | None) -> str | None:
    if not s or not s.startswith("h1:"):
        return None
    try:
        raw = base64.b64decode(s[3:], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _compiler(record: BuildRecord, env: dict[str, str]) -> dict[str, Any] | None:
    if not record.cc:
        return None
    argv = shlex.split(record.cc)
    exe = shutil.which(argv[0], path=env.get("PATH")) if argv else None
    version = ""
    try:
        p = subprocess.run([*argv, "--version"], capture_output=True, text=True, errors="replace", env=env,
                           timeout=60, check=False)
        version = (p.stdout.strip().splitlines() or [""])[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    desc: dict[str, Any] = {"name": "cc", "uri": f"file://{exe or argv[0]}",
                            "annotations": {"command": record.cc, "preset": record.compiler, "version": version,
                                            "machine": record.cc_machine or ""}}
    digest = sha256_file(exe) if exe else None
    if digest:
        desc["digest"] = {"sha256": digest}
    return desc


def _sysroot(path: str) -> dict[str, Any]:

    top = Path(path)
    lock = top / ".cgocheck" / "lock.json"
    desc: dict[str, Any] = {"name": f"sysroot:{top.name}", "uri": f"file://{top}"}
    ann: dict[str, Any] = {}
    digest = sha256_file(lock) if lock.is_file() else None
    if digest:
        desc["digest"] = {"sha256": digest}
        ann["lock"] = ".cgocheck/lock.json"
    made = meta.read_meta_json(top, "meta.json")  # no link followed, {} when absent or broken
    for k in ("digest", "suite", "arch", "libc", "libc_version", "creator"):
        if made.get(k) is not None:
            ann["content_digest" if k == "digest" else k] = made[k]
    if ann:
        desc["annotations"] = ann
    return desc


def _modules(files: list[ElfFacts]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in files:
        bi = f.go.buildinfo if f.go else None
        if bi is None:
            continue
        for m in bi.deps:
            real = m.replaced_by or m
            key = f"{real.path}@{real.version}"
            desc: dict[str, Any] = {"name": real.path, "uri": f"pkg:golang/{real.path}@{real.version}"}
            hexd = _h1_hex(real.sum)
            if hexd:
                desc["digest"] = {"dirHash": hexd}
            ann = {"sum": real.sum or ""}
            if m.replaced_by:
                ann["replaces"] = f"{m.path}@{m.version}"
            desc["annotations"] = ann
            out[key] = desc
    return [out[k] for k in sorted(out)]


def _rfc3339(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def statement(report: Report, *, started: float, finished: float) -> dict[str, Any]:
    """The Statement for a verify report (its build record and files)."""
    record = report.build
    if record is None:
        raise ValueError("a provenance statement needs a verify report")
    env = dict(record.env)
    subjects = []
    for b in record.binaries or (record.output,):
        digest = sha256_file(b)
        if digest:
            subjects.append({"name": os.path.basename(b), "digest": {"sha256": digest}})
    files = [fr.facts for fr in report.files]
    go_bin = Path(record.goroot) / "bin" / "go"
    deps: list[dict[str, Any]] = [{
        "name": "go",
        "uri": f"pkg:golang/toolchain@go{record.go_version.removeprefix('go')}",
        **({"digest": {"sha256": d}} if (d := sha256_file(go_bin)) else {}),
        "annotations": {"goroot": record.goroot, "version": record.go_version},
    }]
    if record.sysroot:
        deps.append(_sysroot(record.sysroot))
    cc = _compiler(record, env)
    if cc:
        deps.append(cc)
    skip = {os.path.abspath(b) for b in (*record.binaries, record.output)}
    tree, count = source_digest(Path(record.source_dir), skip)
    src: dict[str, Any] = {"name": "source", "uri": f"file://{record.source_dir}",
                           "annotations": {"files": count}}
    if tree:
        src["digest"] = {"sha256": tree}
    deps.append(src)
    deps += _modules(files)
    options = dict(report.options)
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "package": options.get("package") or record.package,
                    "source_dir": record.source_dir,
                    "target": record.target,
                    "options": {
                        "go": options.get("go", record.go_version),
                        "compiler": record.compiler,
                        "sysroot": os.path.basename(record.sysroot) if record.sysroot else None,
                        "glibc_floor": record.glibc_floor,
                        "go_flags": list(record.go_flags),
                        "env": dict(record.extra_env),
                        "unset": list(record.unset),
                    },
                },
                "internalParameters": {
                    "environment": dict(sorted(env.items())),
                    "argv": list(record.argv),
                    "modules": record.modules.as_json() if record.modules else None,
                },
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID, "version": {"cgocheck": __version__}},
                "metadata": {"startedOn": _rfc3339(started), "finishedOn": _rfc3339(finished)},
            },
        },
    }
