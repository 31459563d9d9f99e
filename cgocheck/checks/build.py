"""B001-B007: the build itself (failed, static glibc with NSS, changed environment) and the
shell a build would run in (contaminating and misspelled variables, the go env file, a
shell build that differs from the hermetic one). Pure."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from cgocheck.build.record import BuildRecord, static_nss_functions
from cgocheck.core.rules import Finding, finding
from cgocheck.core.targets import Target
from cgocheck.elf.model import ElfFacts

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


def check_build(record: BuildRecord) -> list[Finding]:
    """B001 (the build failed or timed out), B008 (a module could not be fetched: the failure it
    explains is not reported twice) and B003 (the environment was changed on request)."""
    out: list[Finding] = []
    for problem in record.modules.problems:
        mod = problem.module.split("@")[0]
        out.append(
            finding(
                "B008",
                f"module {problem.module} could not be fetched: {problem.error[:300]}",
                evidence=[f"{k}={v}" for k, v in record.modules.settings] or ["no module settings in this shell"],
                fix=f"Provide {problem.module}: set GOPROXY to a proxy that has it (GOPRIVATE={mod} and a "
                    "~/.netrc for a private one), or vendor the dependencies (go mod vendor) and commit vendor/.",
            )
        )
    if not record.ok and not record.modules.problems:
        tail = [line for line in record.log_tail.splitlines() if line.strip()][-6:]
        if record.timed_out:
            what = f"go build did not finish in time: stopped after {record.seconds:.0f} s (--timeout)"
        else:
            what = f"go build exited {record.returncode}"
        out.append(finding("B001", what, evidence=tail))
    if record.extra_env or record.unset:
        ev = [f"{k}={v}" for k, v in record.extra_env] + [f"unset {k}" for k in record.unset]
        out.append(finding("B003", "the hermetic environment was changed on request", evidence=ev))
    return out


def check_static_nss(record: BuildRecord, facts: ElfFacts | None, target: Target) -> list[Finding]:
    """B002: a static glibc binary calling NSS functions."""
    nss = static_nss_functions(record.linker_warnings)
    static = facts.static if facts is not None else any("-static" in w for w in record.go_flags)
    if nss and static and target.libc == "glibc":
        return [
            finding(
                "B002",
                f"static glibc binary calls {', '.join(nss)}: needs the NSS modules of the glibc it was linked with",
                evidence=[w for w in record.linker_warnings if "statically linked" in w][:4],
            )
        ]
    return []


def _near_miss(name: str) -> str | None:
    if name in MISSPELLED:
        return MISSPELLED[name]
    if name in REAL_KNOBS:
        return None
    if name.startswith("CGO_") or name.startswith("PKG_CONFIG") or name.startswith("PKGCONFIG"):
        # a CGO_/PKG_CONFIG_ name that is no knob at all
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


def check_shell_build(diffs: Sequence[tuple[str, str, str]]) -> list[Finding]:
    """B007: facts that differ between the shell's own build and the hermetic one."""
    if not diffs:
        return []
    return [
        finding(
            "B007",
            f"{len(diffs)} fact(s) differ between the shell's build and the hermetic one",
            evidence=[f"{k}: shell {a} | hermetic {b}" for k, a, b in diffs[:8]],
        )
    ]
