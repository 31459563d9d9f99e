"""`cgocheck doctor`: what in the current shell would contaminate a cgo cross build.

Looks at the environment variables the shell passes to `go build` (and to the C compiler
and pkg-config it runs), at misspelled knobs that are silently ignored, and at `go env`
as the shell sees it (variables and the `go env -w` file) against the hermetic build's.
With a package and target it also builds once as the shell would and once hermetically
and compares the two binaries' facts.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cgocheck.build import toolchains
from cgocheck.build.hermetic import BuildRequest, go_build, hermetic_env
from cgocheck.checks.build import GO_ENV_KEYS, check_shell_build, go_env_findings, shell_findings
from cgocheck.core import files, folders
from cgocheck.core.errors import CgocheckError
from cgocheck.core.targets import Target
from cgocheck.elf import read_elf
from cgocheck.elf.model import ElfFacts
from cgocheck.results import Report
from cgocheck.results.doctor import ShellEnvironment


def go_env(go: Path, env: Mapping[str, str], cwd: Path | None = None) -> dict[str, str]:
    try:
        p = subprocess.run(
            [str(go), "env", "-json", *GO_ENV_KEYS],
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        data = files.loads_json(p.stdout, "go env -json", files.SMALL_JSON) if p.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, files.FileProblem):
        data = {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def fact_summary(f: ElfFacts) -> dict[str, str]:
    top, _ = f.max_glibc()
    producers = sorted(
        {(u.producer or "?").split(" -")[0] for u in f.dwarf if u.language in ("C", "C++") and u.producer}
    )
    headers = sorted(
        {os.path.dirname(p) for u in f.dwarf if u.language in ("C", "C++") for p in u.files if not p.startswith("/_/")}
    )
    settings = {s.key: s.value for s in f.go.buildinfo.settings} if f.go and f.go.buildinfo else {}
    return {
        "machine": f"{f.header.machine} {f.header.elf_class}-bit {f.header.endian}",
        "e_flags": f"0x{f.header.flags:x}",
        "interpreter": f.interpreter or "-",
        "needed": ", ".join(f.needed) or "-",
        "highest glibc": top or "-",
        "cgo": ("linked" if f.go.cgo_linked else "not linked") if f.go else "-",
        "linking": f.go.link_mode if f.go else "-",
        "CGO_ENABLED": settings.get("CGO_ENABLED", "-"),
        "CGO_CFLAGS": settings.get("CGO_CFLAGS", "-"),
        "CGO_LDFLAGS": settings.get("CGO_LDFLAGS", "-"),
        "C producers": "; ".join(producers) or "-",
        "header folders": "; ".join(h for h in headers if not h.startswith("/tmp/go-build")) or "-",
    }


def diff_facts(shell: ElfFacts | None, hermetic: ElfFacts | None) -> list[tuple[str, str, str]]:
    a = fact_summary(shell) if shell else {}
    b = fact_summary(hermetic) if hermetic else {}
    keys = list(dict.fromkeys([*a, *b]))
    return [(k, a.get(k, "(no binary)"), b.get(k, "(no binary)")) for k in keys if a.get(k) != b.get(k)]


def doctor(
    environ: Mapping[str, str],
    *,
    go_spec: str = "newest",
    package: str | None = None,
    target: Target | None = None,
    sysroot: Path | None = None,
    compiler: str = "gcc",
    cwd: Path | None = None,
) -> Report:
    """The doctor's report: findings about the shell (its build findings, for no file is
    built unless --build), notes, and what it compared (``report.environment``)."""
    env = ShellEnvironment()
    report = Report(command="doctor", target=target.name if target else None, environment=env)
    report.build_findings += shell_findings(environ)
    try:
        go = toolchains.find(go_spec)
    except CgocheckError as err:
        report.notes.append(f"go env not compared: {err.message}")
        return report
    # the shell's go: the go on its PATH if any, else cgocheck's (with the shell's variables)
    shell_go = go.go
    env.go_env_shell = go_env(shell_go, environ, cwd)
    from cgocheck.build.packages import locate

    src, pkgs = locate([package], cwd or Path.cwd()) if package else ((cwd or Path.cwd()), (".",))
    tgt = target
    if tgt is None:
        from cgocheck.core.targets import parse_target

        tgt = parse_target("linux/amd64")
    req = BuildRequest(
        source=src,
        output=folders.work() / "doctor" / "hermetic",
        target=tgt,
        go=go,
        packages=pkgs,
        compiler=compiler,
        sysroot=sysroot,
        go_flags=("-ldflags=-linkmode=external",),
    )
    henv = hermetic_env(req)
    env.go_env_hermetic = go_env(go.go, henv, cwd)
    with tempfile.TemporaryDirectory(prefix="doctor-home-") as empty_home:
        denv = {"PATH": f"{go.goroot / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": empty_home, "GOENV": "off"}
        default = go_env(go.go, denv, cwd)
    report.build_findings += go_env_findings(env.go_env_shell, default, environ)
    if package and target is not None:
        folders.work().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="doctor-", dir=folders.work()) as tmp:
            shell_out = Path(tmp) / "shell-build"
            senv = dict(environ)
            senv.update(target.go_env())
            senv.setdefault("PATH", "/usr/bin:/bin")
            senv["PATH"] = f"{go.goroot / 'bin'}:{senv['PATH']}"
            proc = subprocess.run(
                [str(go.go), "build", "-o", str(shell_out), *pkgs],
                env=senv,
                cwd=src,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=1800,
                check=False,
            )
            env.shell_build_ok = proc.returncode == 0
            env.shell_build_log = (proc.stdout + proc.stderr)[-3000:]
            shell_facts = read_elf(str(shell_out)) if env.shell_build_ok else None
            herm_out = Path(tmp) / "hermetic-build"
            result = go_build(
                BuildRequest(
                    source=src,
                    output=herm_out,
                    target=target,
                    go=go,
                    packages=pkgs,
                    compiler=compiler,
                    sysroot=sysroot,
                )
            )
            herm_facts = read_elf(str(herm_out)) if result.ok else None
            if not result.ok:
                report.notes.append("the hermetic build failed: " + result.log.strip().splitlines()[-1][:300])
            env.diffs = diff_facts(shell_facts, herm_facts)
            report.build_findings += check_shell_build(env.diffs)
    return report
