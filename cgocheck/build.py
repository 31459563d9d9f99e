"""Hermetic cgo builds: `go build` under `env -i` with an explicit, recorded environment.

The environment is built from nothing: a short allowlist (below) plus what the target,
the compiler preset, the sysroot and the user's explicit options say. Nothing from the
parent process's environment enters the build, so a stray CC, CGO_CFLAGS, GOFLAGS,
PKG_CONFIG_PATH or a secret in the user's shell cannot change or leak into it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cgocheck import paths
from cgocheck.errors import BadInput, EnvironmentProblem
from cgocheck.targets import Target
from cgocheck.toolchains import GoToolchain

# The only variables a build gets that are not derived from the request.
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
ALLOWLIST_DOC = {
    "PATH": "fixed to /usr/local/bin:/usr/bin:/bin (plus the Go toolchain's bin)",
    "HOME, GOCACHE, GOPATH, GOMODCACHE, TMPDIR": "folders cgocheck owns",
    "GOTOOLCHAIN": "local: never download another Go",
    "GOFLAGS": "only what the user asked for (-mod=vendor etc.)",
    "GOPROXY": "off: fixtures and builds need no module download",
    "LANG, LC_ALL": "C, for stable compiler messages",
    "GOOS, GOARCH, GOARM, CGO_ENABLED": "from the target",
    "CC, CXX, CGO_CFLAGS, CGO_CXXFLAGS, CGO_LDFLAGS": "from the compiler preset and sysroot",
    "PKG_CONFIG, PKG_CONFIG_LIBDIR, PKG_CONFIG_SYSROOT_DIR, PKG_CONFIG_PATH": "the sysroot's pkg-config dirs",
}

DEFAULT_CFLAGS = "-O2 -g -grecord-gcc-switches"


@dataclass(frozen=True)
class CompilerPreset:
    name: str
    cc: str
    cxx: str
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]


def compiler_preset(name: str, target: Target, sysroot: Path | None, *, cc: str | None = None) -> CompilerPreset:
    """A consistent CC/CXX/CGO_* set for a target and sysroot."""
    sr = (f"--sysroot={sysroot}",) if sysroot else ()
    if name == "gcc":
        cc_ = cc or f"{target.triplet}-gcc"
        cxx_ = cc_.replace("-gcc", "-g++")
        return CompilerPreset("gcc", cc_, cxx_, sr, sr)
    if name == "clang":
        tgt = (f"--target={target.triplet}",)
        extra: tuple[str, ...] = ()
        link: tuple[str, ...] = ("-fuse-ld=lld",)
        if target.goarch == "arm" and target.goarm in ("5", "6"):
            # ARMv5/v6 have no native atomics: clang calls __atomic_* from libatomic
            # where gcc inlines kernel helpers.
            extra = (f"-march=armv{target.goarm}{'te' if target.goarm == '5' else ''}",)
            link += ("-latomic",)
        if target.goarch == "riscv64":
            # lld 14 cannot link gcc-built crt objects (R_RISCV_ALIGN needs relaxation): GNU ld.
            link = ("-fuse-ld=bfd",)
        return CompilerPreset("clang", cc or "clang", "clang++", tgt + sr + extra, tgt + sr + extra + link)
    if name == "custom":
        if not cc:
            raise BadInput("the custom compiler preset needs --cc")
        return CompilerPreset("custom", cc, cc, (), ())
    raise BadInput(f"unknown compiler preset {name!r} (gcc, clang, custom)")


@dataclass(frozen=True)
class BuildRequest:
    source: Path  # the module folder (go build runs there)
    output: Path
    target: Target
    go: GoToolchain
    package: str = "."
    compiler: str = "gcc"
    cc: str | None = None
    sysroot: Path | None = None
    cgo: bool = True
    cflags: str = DEFAULT_CFLAGS
    ldflags_c: str = ""
    go_flags: tuple[str, ...] = ()  # e.g. ("-ldflags=-linkmode=internal", "-buildmode=c-shared", "-tags=x")
    extra_env: Mapping[str, str] = field(default_factory=dict)  # explicit, recorded additions
    timeout: float = 900.0


@dataclass(frozen=True)
class BuildResult:
    request: BuildRequest
    argv: tuple[str, ...]
    env: dict[str, str]
    returncode: int
    log: str  # go build -x output (stderr)
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def go_cache_dirs(go: GoToolchain) -> dict[str, str]:
    base = paths.home() / "gocache" / go.version
    return {
        "GOCACHE": str(base / "build"),
        "GOPATH": str(base / "gopath"),
        "GOMODCACHE": str(base / "gopath" / "pkg" / "mod"),
    }


def hermetic_env(req: BuildRequest) -> dict[str, str]:
    home = paths.home() / "buildhome"
    tmp = paths.home() / "tmp"
    for d in (home, tmp):
        d.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{req.go.goroot / 'bin'}:{SAFE_PATH}",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C",
        "LC_ALL": "C",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOFLAGS": "",
        "GOROOT": str(req.go.goroot),
        "CGO_ENABLED": "1" if req.cgo else "0",
        **go_cache_dirs(req.go),
        **req.target.go_env(),
    }
    if req.cgo:
        p = compiler_preset(req.compiler, req.target, req.sysroot, cc=req.cc)
        env["CC"] = p.cc
        env["CXX"] = p.cxx
        env["CGO_CFLAGS"] = " ".join([*p.cflags, req.cflags]).strip()
        env["CGO_CXXFLAGS"] = env["CGO_CFLAGS"]
        env["CGO_LDFLAGS"] = " ".join([*p.ldflags, req.ldflags_c]).strip()
        if req.sysroot:
            env.update(pkg_config_env(req.sysroot, req.target))
    env.update(req.extra_env)
    return env


def pkg_config_env(sysroot: Path, target: Target) -> dict[str, str]:
    dirs = [
        sysroot / "usr/lib" / target.triplet / "pkgconfig",
        sysroot / "usr/lib/pkgconfig",
        sysroot / "usr/share/pkgconfig",
    ]
    return {
        "PKG_CONFIG": "pkg-config",
        "PKG_CONFIG_LIBDIR": ":".join(str(d) for d in dirs),
        "PKG_CONFIG_SYSROOT_DIR": str(sysroot),
        "PKG_CONFIG_PATH": "",
    }


def go_build(req: BuildRequest) -> BuildResult:
    if not req.go.go.is_file():
        raise EnvironmentProblem(f"no go binary at {req.go.go}; run: cgocheck toolchains install {req.go.version}")
    env = hermetic_env(req)
    if req.cgo and shutil.which(env["CC"].split()[0], path=env["PATH"]) is None:
        raise EnvironmentProblem(f"C compiler {env['CC']} not found; install it (see README: scripts/bootstrap)")
    req.output.parent.mkdir(parents=True, exist_ok=True)
    argv = (
        "env",
        "-i",
        *(f"{k}={v}" for k, v in env.items()),
        str(req.go.go),
        "build",
        "-x",
        "-o",
        str(req.output.absolute()),
        *req.go_flags,
        req.package,
    )
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=req.source,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=req.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\ncgocheck: build stopped after {req.timeout:.0f} s (timeout)"
        return BuildResult(req, argv, env, -9, out + err, time.monotonic() - start)
    return BuildResult(req, argv, env, proc.returncode, out + err, time.monotonic() - start)


def shell_line(result: BuildResult) -> str:
    """The build as one copy-pasteable shell line."""
    return shlex.join(result.argv)
