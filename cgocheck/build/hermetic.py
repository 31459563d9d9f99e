"""Hermetic cgo builds: `go build` under `env -i` with an explicit, recorded environment.

The environment is built from nothing: a short allowlist (below) plus what the target,
the compiler preset, the sysroot and the user's explicit options say. Nothing from the
parent process's environment enters the build, so a stray CC, CGO_CFLAGS, GOFLAGS,
PKG_CONFIG_PATH or a secret in the user's shell cannot change or leak into it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cgocheck.build.toolchains import GoToolchain
from cgocheck.core import files, folders, hints
from cgocheck.core.errors import BadInput, EnvironmentProblem
from cgocheck.core.targets import Target

# The only variables a build gets that are not derived from the request.
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
ALLOWLIST_DOC = {
    "PATH": "fixed to /usr/local/bin:/usr/bin:/bin (plus the Go toolchain's bin)",
    "HOME, GOCACHE, GOPATH, GOMODCACHE, TMPDIR": "folders cgocheck owns",
    "GOTOOLCHAIN": "local: never download another Go",
    "GOFLAGS": "only what the user asked for (-mod=vendor etc.)",
    "GOPROXY": "off: fixtures and builds need no module download",
    "GOROOT": "the chosen Go toolchain",
    "GIT_OPTIONAL_LOCKS": "0: Go's VCS stamping runs `git status`, which must not rewrite the user's .git/index",
    "LANG, LC_ALL": "C, for stable compiler messages",
    "GOOS, GOARCH, GOARM, CGO_ENABLED": "from the target",
    "CC, CXX, CGO_CFLAGS, CGO_CXXFLAGS, CGO_LDFLAGS": "from the compiler preset and sysroot",
    "PKG_CONFIG, PKG_CONFIG_LIBDIR, PKG_CONFIG_SYSROOT_DIR, PKG_CONFIG_PATH": "the sysroot's pkg-config dirs",
    "ZIG_GLOBAL_CACHE_DIR, ZIG_LOCAL_CACHE_DIR": "zig preset only: caches in cgocheck's folder",
    "CGOCHECK_TRACE": "verify only: the work folder where the CC and pkg-config wrappers record each call",
    "CGO_CPPFLAGS -D__CGOCHECK_ENV_<tag>": "only with explicit --env/--unset of variables Go's cache key misses",
}
PRESETS = ("gcc", "clang", "zig", "custom")

# Go target -> zig's architecture name
_ZIG_ARCH = {
    "amd64": "x86_64",
    "386": "x86",
    "arm64": "aarch64",
    "arm": "arm",
    "riscv64": "riscv64",
    "ppc64le": "powerpc64le",
    "s390x": "s390x",
    "mips64le": "mips64el",
}

DEFAULT_CFLAGS = "-O2 -g -grecord-gcc-switches"
# musl targets with Debian's packages: only x86_64 has a gcc for musl (musl-tools' wrapper)
GCC_FOR_MUSL = {"x86_64-linux-musl": "musl-gcc"}
DEFAULT_TIMEOUT = 900.0  # seconds a build may take (verify --timeout, matrix timeout = ...)


@dataclass(frozen=True)
class CompilerPreset:
    name: str
    cc: str
    cxx: str
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()  # extra variables the preset needs (zig's caches)
    expect_producer: str | None = None  # "GNU", "clang": what DW_AT_producer must name
    cxxflags: tuple[str, ...] | None = None  # C++ compiles (None: the same as cflags)


# --- the sysroot wins: headers, C++ and start files ----------------------------------------


@functools.cache
def compiler_includes(cc: str, kind: str) -> tuple[str, ...]:
    """The compiler's own header folder(s) (stddef.h, stdarg.h, intrinsics): what stays on
    the include path when -nostdinc takes away everything else."""
    words = shlex.split(cc)
    try:
        if kind == "clang":
            out = subprocess.run([*words, "-print-resource-dir"], capture_output=True, text=True, timeout=60)
            base = out.stdout.strip()
            return (f"{base}/include",) if out.returncode == 0 and base else ()
        # both at once: each is a compiler start (2-3 ms) on the way to the build's start
        procs: list[subprocess.Popen[str]] = []
        try:
            for name in ("include", "include-fixed"):
                procs.append(subprocess.Popen([*words, f"-print-file-name={name}"], stdout=subprocess.PIPE,
                                              stderr=subprocess.DEVNULL, text=True))
            outs = [proc.communicate(timeout=60)[0].strip() for proc in procs]
        finally:  # a start that failed or a compiler that hangs: none is left behind
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return tuple(d for proc, d in zip(procs, outs, strict=True)
                     if proc.returncode == 0 and d.startswith("/") and Path(d).is_dir())
    except (OSError, subprocess.TimeoutExpired):
        return ()


@dataclass(frozen=True)
class SysrootCxx:
    """The sysroot's own libstdc++ (libstdc++-<v>-dev): its headers and the folder whose
    libstdc++.so a C++ link must take."""

    version: str  # "10", "12"
    includes: tuple[str, ...]
    libdir: str | None


def sysroot_cxx(sysroot: Path, triplet: str) -> SysrootCxx | None:
    """The sysroot's newest libstdc++ headers and its GCC folder, as paths inside it (links
    resolved within the sysroot: nothing here leads out of it)."""
    from cgocheck.sysroot.fsroot import FsRoot

    try:
        root = FsRoot(sysroot)
        names = root.listdir("/usr/include/c++")
    except BadInput:
        return None
    versions = sorted((n for n in names if n.split(".")[0].isdigit()),
                      key=lambda v: tuple(int(x) for x in v.split(".") if x.isdigit()))
    if not versions:
        return None
    v = versions[-1]

    def inside(guest: str) -> str | None:
        try:
            r = root.resolve(guest)
        except BadInput:
            return None
        return str(r.host) if r is not None and r.host.is_dir() else None

    dirs = [inside(g) for g in (f"/usr/include/c++/{v}", f"/usr/include/{triplet}/c++/{v}",
                                f"/usr/include/c++/{v}/backward")]
    return SysrootCxx(v, tuple(d for d in dirs if d), inside(f"/usr/lib/gcc/{triplet}/{v}"))


def sysroot_includes(cc: str, kind: str, sysroot: Path, triplet: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(C flags, C++ flags) that make the sysroot's headers the only libc (and libstdc++)
    headers: -nostdinc, then the compiler's own folder and the sysroot's. Debian's cross
    compilers put their tooldir (/usr/<triplet>/include: the host release's cross libc6-dev)
    before the sysroot, even with --sysroot, and clang does the same when the sysroot has
    no GCC installation. Without C++ headers in the sysroot the C++ flags are left alone
    (the header check then names the toolchain's)."""
    own = compiler_includes(cc, kind)
    libc = [d for d in (sysroot / "usr/include" / triplet, sysroot / "usr/include") if d.is_dir()]
    if not own or not libc:
        return (), ()
    c = ("-nostdinc", *(f"-isystem{d}" for d in own), *(f"-isystem{d}" for d in libc))
    cxx = sysroot_cxx(sysroot, triplet)
    if cxx is None or not cxx.includes:
        return c, ()
    return c, ("-nostdinc", *(f"-isystem{d}" for d in (*cxx.includes, *own, *map(str, libc))))


def zig_target(target: Target, glibc_floor: str | None = None) -> str:
    """zig's -target for a Go target: aarch64-linux-gnu.2.17, arm-linux-gnueabihf, x86_64-linux-musl ..."""
    arch = _ZIG_ARCH.get(target.goarch)
    if arch is None:
        raise BadInput(f"the zig preset has no target for {target.name}")
    if target.libc == "musl":
        abi = "musl"
        if target.goarch == "arm":
            abi = "musleabihf" if target.arch.float_abi == "hard" else "musleabi"
    else:
        abi = "gnu"
        if target.goarch == "arm":
            abi = "gnueabihf" if target.arch.float_abi == "hard" else "gnueabi"
        if glibc_floor:
            abi += "." + glibc_floor
    return f"{arch}-linux-{abi}"


def _script(name: str, body: str) -> Path:
    """A small executable script at a path that depends only on its content.

    Stable paths matter: Go puts CC into its cache key, so a wrapper at a new path each run
    would throw the warm cache away.
    """
    digest = files.sha256_hex(f"{name}\0{body}".encode())[:16]
    d = folders.home() / "shims" / digest
    path = d / name
    if not path.is_file():
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{name}.{os.getpid()}"
        files.write_text(tmp, body, "write the compiler wrapper")
        tmp.chmod(0o755)
        os.replace(tmp, path)
    return path


def zig_wrappers(ztarget: str) -> tuple[Path, Path]:
    if importlib.util.find_spec("ziglang") is None:
        raise EnvironmentProblem("the zig preset needs PyPI's ziglang; run: pip install ziglang")
    py = shlex.quote(sys.executable)
    cc = _script(f"zig-cc-{ztarget}", f'#!/bin/sh\nexec {py} -m ziglang cc -target {ztarget} "$@"\n')
    cxx = _script(f"zig-cxx-{ztarget}", f'#!/bin/sh\nexec {py} -m ziglang c++ -target {ztarget} "$@"\n')
    return cc, cxx


@functools.cache
def zig_clang_producer() -> str | None:
    """The first line of `zig cc --version` ("clang version 22.1.8 ..."): zig's own clang.

    Newer zig builds write exactly this (no "zig" in it) as DW_AT_producer of the C they
    compile themselves (crt and libc start files), so it is how those units are known.
    """
    if importlib.util.find_spec("ziglang") is None:
        return None
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ziglang", "cc", "--version"],
            capture_output=True, text=True, timeout=120, env={**dict(zig_cache_env()), "PATH": SAFE_PATH},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = proc.stdout.strip().splitlines()[:1]
    return first[0].strip() if proc.returncode == 0 and first else None


def zig_cache_env() -> tuple[tuple[str, str], ...]:
    base = folders.home() / "zig-cache"
    return (("ZIG_GLOBAL_CACHE_DIR", str(base / "global")), ("ZIG_LOCAL_CACHE_DIR", str(base / "local")))


def compiler_preset(
    name: str,
    target: Target,
    sysroot: Path | None,
    *,
    cc: str | None = None,
    glibc_floor: str | None = None,
) -> CompilerPreset:
    """A consistent CC/CXX/CGO_* set for a target and sysroot."""
    sr = (f"--sysroot={sysroot}",) if sysroot else ()
    if name == "gcc":
        cc_ = cc or (GCC_FOR_MUSL.get(target.triplet) if target.libc == "musl" else None) or f"{target.triplet}-gcc"
        cxx_ = cc_.replace("-gcc", "-g++")
        gcc_link: tuple[str, ...] = sr
        cflags: tuple[str, ...] = sr
        cxxflags: tuple[str, ...] = sr
        if sysroot:
            # Debian's cross gcc searches its own tooldir (/usr/<triplet>/lib: the cross libc6
            # of the host's release) for crt1.o and libc.so before the sysroot, even with
            # --sysroot: a bullseye sysroot then links bookworm's crt1.o and needs GLIBC_2.34.
            # -B puts the sysroot's start files first, -L its libraries (and its libstdc++).
            lib = sysroot / "usr/lib" / target.triplet
            cxx_lib = sysroot_cxx(sysroot, target.triplet)
            gcc_link = (*sr, f"-B{lib}/", f"-L{lib}", f"-L{sysroot / 'lib' / target.triplet}",
                        *((f"-L{cxx_lib.libdir}",) if cxx_lib and cxx_lib.libdir else ()))
            c_inc, cxx_inc = sysroot_includes(cc_, "gcc", sysroot, target.triplet)
            cflags, cxxflags = (*sr, *c_inc), (*sr, *(cxx_inc or (c_inc and ())))
        return CompilerPreset("gcc", cc_, cxx_, cflags, gcc_link, expect_producer="GNU", cxxflags=cxxflags)
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
        clang_c: tuple[str, ...] = ()
        clang_cxx: tuple[str, ...] = ()
        sys_link: tuple[str, ...] = ()
        if sysroot:
            clang_c, clang_cxx = sysroot_includes(cc or "clang", "clang", sysroot, target.triplet)
            cxx_lib = sysroot_cxx(sysroot, target.triplet)
            if cxx_lib and cxx_lib.libdir:
                sys_link += (f"-L{cxx_lib.libdir}",)  # before the host's gcc-cross folder clang adds
            if target.libc == "musl":
                # Debian's musl-dev is multiarch (/usr/lib/<triplet>): clang's musl driver looks
                # in /usr/lib. -B and -L point it at the sysroot's start files and libc; libgcc
                # (builtins only, no libc) stays static so no glibc-built libgcc_s is needed.
                mlib = sysroot / "usr/lib" / target.triplet
                sys_link += (f"-B{mlib}/", f"-L{mlib}", f"-Wl,-dynamic-linker,{target.loader}", "-static-libgcc")
        return CompilerPreset(
            "clang", cc or "clang", "clang++", (*tgt, *sr, *extra, *clang_c), (*tgt, *sr, *extra, *sys_link, *link),
            expect_producer="clang", cxxflags=(*tgt, *sr, *extra, *clang_cxx) if sysroot else None,
        )
    if name == "zig":
        # zig brings its own libc headers and stubs for the glibc version in -target: no
        # sysroot for the C library (pkg-config still answers from the sysroot).
        if sysroot and not glibc_floor and target.libc == "glibc":
            # the sysroot wins: zig's own glibc headers and stubs of the sysroot's release
            from cgocheck.build.headers import sysroot_versions

            glibc_floor = sysroot_versions(str(sysroot), target.triplet)["glibc"]
        ztarget = zig_target(target, glibc_floor)
        zcc, zcxx = zig_wrappers(ztarget)
        return CompilerPreset("zig", cc or str(zcc), str(zcxx), (), (), env=zig_cache_env(), expect_producer="clang")
    if name == "custom":
        if not cc:
            raise BadInput("the custom compiler preset needs --cc-path (the compiler to run)")
        return CompilerPreset("custom", cc, cc, (), ())
    raise BadInput(f"unknown compiler preset {name!r} ({', '.join(PRESETS)})")


@dataclass(frozen=True)
class BuildRequest:
    source: Path  # the module folder (go build runs there)
    output: Path  # the binary, or with output_dir the folder `go build -o DIR/` writes into
    target: Target
    go: GoToolchain
    packages: tuple[str, ...] = (".",)  # package arguments: folders, import paths, patterns
    compiler: str = "gcc"
    cc: str | None = None
    sysroot: Path | None = None
    cgo: bool = True
    cflags: str = DEFAULT_CFLAGS
    ldflags_c: str = ""
    go_flags: tuple[str, ...] = ()  # e.g. ("-ldflags=-linkmode=internal", "-buildmode=c-shared", "-tags=x")
    extra_env: Mapping[str, str] = field(default_factory=dict)  # explicit, recorded additions
    unset: tuple[str, ...] = ()  # explicit, recorded removals from the hermetic set
    glibc_floor: str | None = None  # zig: caps the glibc symbol versions (-target ...gnu.2.17)
    trace_dir: Path | None = None  # verify: wrap CC and pkg-config, record each call here
    timeout: float = DEFAULT_TIMEOUT  # seconds; then the build's whole process group is killed
    go_env: Mapping[str, str] = field(default_factory=dict)  # build options' and module setup's variables
    output_dir: bool = False  # several main packages (or -o DIR/): go writes one binary each
    go_command: tuple[str, ...] = ("build",)  # ("test", "-c"): the packages' test binaries instead

    @property
    def package(self) -> str:
        return " ".join(self.packages)


@dataclass(frozen=True)
class BuildResult:
    request: BuildRequest
    argv: tuple[str, ...]
    env: dict[str, str]
    returncode: int
    log: str  # go build -x output (stderr)
    seconds: float
    timed_out: bool = False  # stopped at request.timeout, with its whole process group

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def go_cache_dirs(go: GoToolchain) -> dict[str, str]:
    base = folders.home() / "gocache" / go.version
    return {
        "GOCACHE": str(base / "build"),
        "GOPATH": str(base / "gopath"),
        "GOMODCACHE": str(base / "gopath" / "pkg" / "mod"),
    }


# Variables Go puts into its cache key (directly or through the flags and compiler it hashes).
GO_KEYED = frozenset(
    {
        "CC", "CXX", "CGO_ENABLED", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_FFLAGS", "CGO_LDFLAGS",
        "GOOS", "GOARCH", "GOARM", "GOAMD64", "GOARM64", "GO386", "GOFLAGS", "GOEXPERIMENT", "GOROOT",
        "GOTOOLCHAIN", "GOCACHE", "GOPATH", "GOMODCACHE", "HOME", "TMPDIR", "PATH", "LANG", "LC_ALL",
    }
)  # fmt: skip


def unkeyed_tag(req: BuildRequest) -> str:
    """A tag for explicit additions Go's cache key does not see (PKG_CONFIG_*, CPATH, ...).

    Go runs pkg-config, and reads gcc's own variables, only when it compiles a package: a
    cached package built under other such variables would be reused silently. cgocheck adds
    ``-D__CGOCHECK_ENV_<tag>`` to CGO_CPPFLAGS for such builds, so only the cgo packages are
    rebuilt and never shared with the plain hermetic build."""
    extra = sorted((k, v) for k, v in req.extra_env.items() if k not in GO_KEYED)
    removed = sorted(k for k in req.unset if k not in GO_KEYED)
    if not extra and not removed:
        return ""
    return files.sha256_hex(repr((extra, removed)).encode())[:12]


def cc_trace_wrapper(real: str) -> Path:
    """A wrapper that records its argv (NUL-separated, one file per call) then runs ``real``."""
    words = shlex.split(real)
    name = Path(words[0]).name if words else "cc"
    body = (
        "#!/bin/sh\n"
        "# cgocheck: record this compiler call, then run the real compiler\n"
        'if [ -n "$CGOCHECK_TRACE" ] && [ -d "$CGOCHECK_TRACE/cc" ]; then\n'
        '  printf \'%s\\0\' "$PWD" "$@" > "$CGOCHECK_TRACE/cc/$$.args" 2>/dev/null\n'
        "fi\n"
        f'exec {shlex.join(words)} "$@"\n'
    )
    return _script(name, body)


def pkg_config_trace_wrapper(real: str) -> Path:
    from cgocheck.build.pkgconfig_trace import wrapper_body

    return _script("pkg-config", wrapper_body(real))


def hermetic_env(req: BuildRequest, preset: CompilerPreset | None = None) -> dict[str, str]:
    home = folders.home() / "buildhome"
    tmp = folders.home() / "tmp"
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
        "GIT_OPTIONAL_LOCKS": "0",
        "CGO_ENABLED": "1" if req.cgo else "0",
        **go_cache_dirs(req.go),
        **req.target.go_env(),
        **req.go_env,
    }
    if req.cgo:
        p = preset or compiler_preset(req.compiler, req.target, req.sysroot, cc=req.cc, glibc_floor=req.glibc_floor)
        env["CC"] = p.cc
        env["CXX"] = p.cxx
        env["CGO_CFLAGS"] = " ".join([*p.cflags, req.cflags]).strip()
        cxx = p.cflags if p.cxxflags is None else p.cxxflags
        env["CGO_CXXFLAGS"] = " ".join([*cxx, req.cflags]).strip()
        env["CGO_LDFLAGS"] = " ".join([*p.ldflags, req.ldflags_c]).strip()
        env.update(dict(p.env))
        if req.sysroot:
            env.update(pkg_config_env(req.sysroot, req.target))
    env.update(req.extra_env)
    for name in req.unset:
        env.pop(name, None)
    tag = unkeyed_tag(req) if req.cgo else ""
    if tag:
        env["CGO_CPPFLAGS"] = f"{env.get('CGO_CPPFLAGS', '')} -D__CGOCHECK_ENV_{tag}".strip()
    if req.cgo and req.trace_dir is not None:
        for sub in ("cc", "pc"):  # the compiler and pkg-config wrappers record their calls there
            (req.trace_dir / sub).mkdir(parents=True, exist_ok=True)
        env["CGOCHECK_TRACE"] = str(req.trace_dir)
        for var in ("CC", "CXX"):
            if env.get(var):
                env[var] = str(cc_trace_wrapper(env[var]))
        real_pc = env.get("PKG_CONFIG", "pkg-config")
        real_path = real_pc if "/" in real_pc else (shutil.which(real_pc, path=env["PATH"]) or real_pc)
        env["PKG_CONFIG"] = str(pkg_config_trace_wrapper(real_path))
    return env


def real_compiler(env: Mapping[str, str]) -> str | None:
    """The compiler a (possibly wrapped) CC runs."""
    cc = env.get("CC")
    if not cc:
        return None
    p = Path(cc)
    if p.is_file() and p.parent.parent == folders.home() / "shims":
        for line in files.read_text(p, files.SMALL).splitlines():
            if line.startswith("exec ") and "-m ziglang" not in line:
                return " ".join(shlex.split(line[5:])[:-1])
    return cc


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


def go_build(req: BuildRequest, preset: CompilerPreset | None = None) -> BuildResult:
    if not req.go.go.is_file():
        raise EnvironmentProblem(f"no go binary at {req.go.go}; run: cgocheck toolchains install {req.go.version}")
    env = hermetic_env(req, preset)
    cc = real_compiler(env) if req.cgo else None
    if cc and shutil.which(shlex.split(cc)[0], path=env["PATH"]) is None:
        raise EnvironmentProblem(f"C compiler {cc} not found; {hints.compiler(cc)}")
    req.output.parent.mkdir(parents=True, exist_ok=True)
    argv = (
        "env",
        "-i",
        *(f"{k}={v}" for k, v in env.items()),
        str(req.go.go),
        *req.go_command,
        "-x",
        "-o",
        str(req.output.absolute()) + ("/" if req.output_dir else ""),
        *req.go_flags,
        *req.packages,
    )
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=req.source,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,  # go, cgo, the C compiler and linker: one process group to stop
    )
    _RUNNING.add(proc.pid)
    try:
        out, err = proc.communicate(timeout=req.timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        out, err = _drain(proc)
        err += f"\n{TIMEOUT_NOTE} {req.timeout:g} s: it was stopped with every process it started"
        return BuildResult(req, argv, env, -signal.SIGKILL, out + err, time.monotonic() - start, timed_out=True)
    except BaseException:  # Ctrl-C, SIGTERM turned into an exception: the build must not outlive us
        kill_group(proc.pid)
        _drain(proc)
        raise
    finally:
        # a child the build left behind in its group (a daemonised wrapper) goes too; the
        # group's id cannot have been reused while any member is alive
        kill_group(proc.pid)
        _RUNNING.discard(proc.pid)
    if proc.returncode != 0 and cc:
        _missing_cxx(env, out + err)
    return BuildResult(req, argv, env, proc.returncode, out + err, time.monotonic() - start)


def _missing_cxx(env: Mapping[str, str], log: str) -> None:
    """A build that failed because the C++ compiler is not installed is an environment
    problem (exit 3, with the package to install), not a build finding. Go looks CXX up only
    when a package has C++ files, so this is judged after the build, from its log."""
    cxx = real_compiler({"CC": env.get("CXX", "")})
    if not cxx:
        return
    name = shlex.split(cxx)[0]
    if shutil.which(name, path=env["PATH"]) is not None:
        return
    if f'"{name}": executable file not found' in log or f"{name}: not found" in log:
        raise EnvironmentProblem(f"C++ compiler {cxx} not found; {hints.compiler(cxx)}")


TIMEOUT_NOTE = "cgocheck: the build did not finish within"
_RUNNING: set[int] = set()  # process groups of the builds this process is running


def kill_group(pgid: int) -> None:
    """SIGKILL a build's process group (go, cgo, cc, ld, wrappers); gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def track(pgid: int) -> None:
    """Count a process group this process started (``go list``) among the running builds, so
    that :func:`kill_running_builds` stops it too; :func:`untrack` once it has ended."""
    _RUNNING.add(pgid)


def untrack(pgid: int) -> None:
    _RUNNING.discard(pgid)


def kill_running_builds() -> None:
    """Stop every build this process started (for a signal handler: no locks, no waiting)."""
    for pgid in list(_RUNNING):
        kill_group(pgid)


def _drain(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """What a killed build wrote. A process that left the group (setsid) and still holds the
    pipes must not make us wait: after a few seconds the pipes are simply closed."""
    try:
        out, err = proc.communicate(timeout=10)
        return out or "", err or ""
    except subprocess.TimeoutExpired:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return "", ""


