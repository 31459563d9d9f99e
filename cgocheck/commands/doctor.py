"""`cgocheck doctor`: what in the current shell would contaminate a cgo cross build.

Looks at the environment variables the shell passes to `go build` (and to the C compiler
and pkg-config it runs), at misspelled knobs that are silently ignored, and at `go env`
as the shell sees it (variables and the `go env -w` file) against the hermetic build's.
With a package and target it also builds once as the shell would and once hermetically
and compares the two binaries' facts.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cgocheck.build import toolchains
from cgocheck.build.hermetic import BuildRequest, go_build, hermetic_env
from cgocheck.core import folders
from cgocheck.core.errors import CgocheckError
from cgocheck.core.rules import Finding, finding
from cgocheck.core.targets import Target
from cgocheck.elf import read_elf
from cgocheck.elf.model import ElfFacts
from cgocheck.results import Report
from cgocheck.results.doctor import ShellEnvironment

# Variables that change a cgo build when set in the shell, and why.
CONTAMINATING = {
    "CC": "the C compiler cgo runs (a host compiler builds host code)",
    "CXX": "the C++ compiler cgo runs",
    "AR": "the archiver for -buildmode=c-archive",
    "CGO_ENABLED": "turns cgo on or off",
    "CGO_CFLAGS": "C compiler flags (replaces Go's default -O2 -g)",
    "CGO_CPPFLAGS": "C preprocessor flags",
    "CGO_CXXFLAGS": "C++ compiler flags",
    "CGO_FFLAGS": "Fortran flags",
    "CGO_LDFLAGS": "linker flags",
    "CGO_CFLAGS_ALLOW": "lets #cgo directives pass more flags",
    "CGO_LDFLAGS_ALLOW": "lets #cgo directives pass more flags",
    "PKG_CONFIG": "which pkg-config Go runs",
    "PKG_CONFIG_PATH": "prepends folders to pkg-config's search path",
    "PKG_CONFIG_LIBDIR": "replaces pkg-config's search path",
    "PKG_CONFIG_SYSROOT_DIR": "prefixes -I/-L from .pc files",
    "GOFLAGS": "flags added to every go command",
    "GOTOOLCHAIN": "may switch to (or download) another Go",
    "GOOS": "the target OS",
    "GOARCH": "the target architecture",
    "GOARM": "the ARM level (5, 6, 7)",
    "GOAMD64": "the amd64 level",
    "GOROOT": "which Go installation runs",
    "GOEXPERIMENT": "experimental compiler/runtime changes",
    "LD_LIBRARY_PATH": "libraries the build tools (and qemu tests) load",
    "LD_PRELOAD": "libraries preloaded into every tool",
    "LIBRARY_PATH": "folders gcc searches for -l libraries",
    "CPATH": "folders gcc searches for headers",
    "C_INCLUDE_PATH": "folders gcc searches for C headers",
    "CPLUS_INCLUDE_PATH": "folders g++ searches for headers",
    "GCC_EXEC_PREFIX": "where gcc finds its own programs",
    "COMPILER_PATH": "where gcc finds its subprograms",
    "SOURCE_DATE_EPOCH": "timestamps in archives",
}
REAL_KNOBS = set(CONTAMINATING) | {"CGO_FFLAGS_ALLOW", "CGO_CPPFLAGS_ALLOW", "CGO_CXXFLAGS_ALLOW"}
# Common misspellings and near misses: silently ignored by go, gcc and pkg-config.
MISSPELLED = {
    "CGO_FLAGS": "CGO_CFLAGS",
    "CGO_CFLAG": "CGO_CFLAGS",
    "CGO_LDFLAG": "CGO_LDFLAGS",
    "CGO_LD_FLAGS": "CGO_LDFLAGS",
    "CGO_C_FLAGS": "CGO_CFLAGS",
    "CGO_CPPFLAG": "CGO_CPPFLAGS",
    "CGO_CXXFLAG": "CGO_CXXFLAGS",
    "CGO_ENABLE": "CGO_ENABLED",
    "CGOENABLED": "CGO_ENABLED",
    "CGO_ENABLES": "CGO_ENABLED",
    "CGO_CC": "CC",
    "CGO_CXX": "CXX",
    "PKG_CONFIG_DIR": "PKG_CONFIG_LIBDIR",
    "PKG_CONFIG_LIB_DIR": "PKG_CONFIG_LIBDIR",
    "PKG_CONFIG_LIBPATH": "PKG_CONFIG_LIBDIR",
    "PKGCONFIG_PATH": "PKG_CONFIG_PATH",
    "PKG_CONFIG_SYSROOT": "PKG_CONFIG_SYSROOT_DIR",
    "PKG_CONFIG_SYSROOTDIR": "PKG_CONFIG_SYSROOT_DIR",
    "GO_FLAGS": "GOFLAGS",
    "GO_ARCH": "GOARCH",
    "GO_OS": "GOOS",
    "GO_ARM": "GOARM",
    "GOARCHITECTURE": "GOARCH",
    "CROSS_COMPILE_CC": "CC",
}
# go env keys compared between the shell and the hermetic build
GO_ENV_KEYS = (
    "CC",
    "CXX",
    "CGO_ENABLED",
    "CGO_CFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "CGO_LDFLAGS",
    "PKG_CONFIG",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOOS",
    "GOARCH",
    "GOARM",
    "GOROOT",
    "GOEXPERIMENT",
    "AR",
)


def _near_miss(name: str) -> str | None:
    if name in MISSPELLED:
        return MISSPELLED[name]
    if name in REAL_KNOBS:
        return None
    if name.startswith("CGO_") or name.startswith("PKG_CONFIG") or name.startswith("PKGCONFIG"):
        # a CGO_/PKG_CONFIG_ name that is no knob at all
        import difflib

        close = difflib.get_close_matches(name, sorted(REAL_KNOBS), n=1, cutoff=0.75)
        return close[0] if close else "no such variable"
    return None


def shell_findings(environ: Mapping[str, str]) -> list[Finding]:
    """Pure: findings about the variables of a shell environment."""
    out: list[Finding] = []
    for name in sorted(environ):
        value = environ[name]
        if name in CONTAMINATING:
            out.append(
                finding(
                    "B004",
                    f"{name} is set: {CONTAMINATING[name]}",
                    evidence=[f"{name}={_redact(name, value)}"],
                )
            )
            continue
        real = _near_miss(name)
        if real:
            out.append(
                finding(
                    "B005",
                    f"{name} is not a variable go, gcc or pkg-config reads"
                    + (f" (did you mean {real}?)" if real != "no such variable" else ""),
                    evidence=[f"{name}={_redact(name, value)}"],
                )
            )
    return out


def _redact(name: str, value: str) -> str:
    return value if len(value) <= 200 else value[:200] + "..."


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
        data = json.loads(p.stdout) if p.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        data = {}
    return {str(k): str(v) for k, v in data.items()}


def go_env_findings(shell: Mapping[str, str], default: Mapping[str, str], environ: Mapping[str, str]) -> list[Finding]:
    """Settings `go env` gives in this shell that are Go's defaults neither by variable (B004
    reports those) nor by default: they come from the go env file (`go env -w`)."""
    out = []
    for k in GO_ENV_KEYS:
        if k in environ or k in ("GOROOT",):
            continue
        a, b = shell.get(k, ""), default.get(k, "")
        if a != b:
            out.append(
                finding(
                    "B006",
                    f"go env {k}={a!r} comes from the go env file (go env -w), Go's default is {b!r}",
                    evidence=[f"shell {k}={a}", f"default {k}={b}"],
                )
            )
    return out


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
    from cgocheck.commands.verify import locate_package

    src, pkg = locate_package(package, cwd or Path.cwd()) if package else ((cwd or Path.cwd()), ".")
    tgt = target
    if tgt is None:
        from cgocheck.core.targets import parse_target

        tgt = parse_target("linux/amd64")
    req = BuildRequest(
        source=src,
        output=folders.work() / "doctor" / "hermetic",
        target=tgt,
        go=go,
        package=pkg,
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
                [str(go.go), "build", "-o", str(shell_out), pkg],
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
                    package=pkg,
                    compiler=compiler,
                    sysroot=sysroot,
                )
            )
            herm_facts = read_elf(str(herm_out)) if result.ok else None
            if not result.ok:
                report.notes.append("the hermetic build failed: " + result.log.strip().splitlines()[-1][:300])
            env.diffs = diff_facts(shell_facts, herm_facts)
            if env.diffs:
                report.build_findings.append(
                    finding(
                        "B007",
                        f"{len(env.diffs)} fact(s) differ between the shell's build and the hermetic one",
                        evidence=[f"{k}: shell {a} | hermetic {b}" for k, a, b in env.diffs[:8]],
                    )
                )
    return report
