"""`cgocheck verify`: a hermetic build with full provenance, then every check on the result.

1. resolve the Go toolchain, the sysroot and the compiler preset (missing ones: exit 3);
2. run `go build -x` under `env -i` (cgocheck.build.hermetic) with CC/CXX and PKG_CONFIG wrapped so
   each compiler, linker and pkg-config call is recorded in a work folder, while `go list`
   (same environment, in parallel) names the cgo packages, their #cgo flags and modules;
3. read the result (cgocheck.elf), collect the provenance (cgocheck.build.record,
   cgocheck.build.pkgconfig_trace) and run the inspect, resolve and provenance checks.

The work folder is removed unless ``keep``; nothing is written into the user's source tree
but the output binary (when the user puts it there).
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cgocheck.build import toolchains
from cgocheck.build.hermetic import (
    DEFAULT_CFLAGS,
    DEFAULT_TIMEOUT,
    BuildRequest,
    BuildResult,
    CompilerPreset,
    compiler_preset,
    go_build,
    hermetic_env,
    kill_group,
    pkg_config_env,
    real_compiler,
    track,
    untrack,
    zig_clang_producer,
)
from cgocheck.build.pkgconfig_trace import Prefetch, prefetch, trace_modules
from cgocheck.build.record import (
    BuildRecord,
    CgoPackage,
    PathContext,
    c_units,
    collect_paths,
    find_prebuilt,
    linker_warnings,
    module_root,
    read_cc_calls,
    split_flags,
    toolchain_dirs_for,
)
from cgocheck.checks import check_file, check_record
from cgocheck.commands.resolve import add_resolution
from cgocheck.core import files, folders
from cgocheck.core.errors import BadInput, CgocheckError
from cgocheck.core.targets import Target
from cgocheck.elf import read_elf
from cgocheck.elf.model import ElfFacts
from cgocheck.results import FileError, FileReport, Report
from cgocheck.sysroot import require
from cgocheck.sysroot.fsroot import FsRoot

SEP = "\x1f"
LIST_TEMPLATE = (
    "{{if or .CgoFiles .SysoFiles}}{{.ImportPath}}\t{{.Dir}}\t{{.Standard}}\t"
    + "\t".join(
        f'{{{{join .{f} "{SEP}"}}}}' for f in ("CgoPkgConfig", "CgoCFLAGS", "CgoCPPFLAGS", "CgoLDFLAGS", "SysoFiles")
    )
    + "{{end}}"
)


@dataclass(frozen=True)
class VerifyOptions:
    package: str
    target: Target
    go: str = "newest"
    compiler: str = "gcc"
    sysroot: str | None = None
    glibc_floor: str | None = None
    cc_path: str | None = None
    output: Path | None = None
    keep: bool = False
    tags: str | None = None
    ldflags: str | None = None
    buildmode: str | None = None
    trimpath: bool = False
    extra_cflags: str = ""
    extra_ldflags: str = ""
    env: tuple[tuple[str, str], ...] = ()
    unset: tuple[str, ...] = ()
    cgo: bool = True
    resolve: bool = True
    compare_host: bool = True
    cwd: Path | None = None
    timeout: float = DEFAULT_TIMEOUT  # seconds for go build (and go list); then its process group is killed


@dataclass
class VerifyResult:
    report: Report
    record: BuildRecord
    facts: ElfFacts | None
    build: BuildResult
    work_dir: Path | None
    timings: dict[str, float]


def go_flags(opts: VerifyOptions) -> tuple[str, ...]:
    flags: list[str] = []
    if opts.tags:
        flags.append(f"-tags={opts.tags}")
    if opts.ldflags:
        flags.append(f"-ldflags={opts.ldflags}")
    if opts.buildmode:
        flags.append(f"-buildmode={opts.buildmode}")
    if opts.trimpath:
        flags.append("-trimpath")
    return tuple(flags)


def locate_package(package: str, cwd: Path) -> tuple[Path, str]:
    """(folder to run go in, package argument) for a folder path or an import path/pattern."""
    p = (cwd / package) if not os.path.isabs(package) else Path(package)
    if p.is_dir():
        root = module_root(p)
        rel = os.path.relpath(p.absolute(), root)
        return root, "." if rel == "." else "./" + rel
    if package.startswith((".", "/")) and not package.endswith("..."):
        raise BadInput(f"package folder {package} does not exist")
    return cwd, package


def default_output(opts: VerifyOptions, pkg_dir: Path, package: str) -> Path:
    name = Path(package).name if package not in (".", "") else pkg_dir.name
    name = name.replace("...", "all") or "out"
    slug = opts.target.name.replace("/", "_")
    suffix = ".so" if opts.buildmode == "c-shared" else (".a" if opts.buildmode == "c-archive" else "")
    return folders.work() / "out" / f"{name}-{slug}{suffix}"


def cc_machine(env: dict[str, str], timeout: float = 60) -> str | None:
    """`$CC $CGO_CFLAGS -dumpmachine`: which target the C compiler really builds for."""
    cc = real_compiler(env)
    if not cc:
        return None
    argv = [*shlex.split(cc), *[f for f in split_flags(env.get("CGO_CFLAGS", "")) if f.startswith("--target")]]
    try:
        p = subprocess.run([*argv, "-dumpmachine"], env=env, capture_output=True, text=True, timeout=timeout,
                           check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = p.stdout.strip().splitlines()
    return out[0] if p.returncode == 0 and out else None


def start_go_list(env: dict[str, str], go: Path, cwd: Path, flags: tuple[str, ...], pkg: str) -> subprocess.Popen[str]:
    build_flags = [f for f in flags if f.startswith(("-tags", "-buildmode", "-trimpath", "-mod"))]
    proc = subprocess.Popen(
        [str(go), "list", "-deps", *build_flags, "-f", LIST_TEMPLATE, pkg],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,  # stopped as a group with the build (timeout, Ctrl-C)
    )
    track(proc.pid)  # a stopping matrix worker kills it with the build (kill_running_builds)
    return proc


def parse_go_list(text: str) -> tuple[list[CgoPackage], list[tuple[str, str]]]:
    pkgs: list[CgoPackage] = []
    syso: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 8:
            continue
        ip, d, std, pc, cf, cpp, lf, sy = parts

        def sp(x: str) -> tuple[str, ...]:
            return tuple(v for v in x.split(SEP) if v)

        pkgs.append(CgoPackage(ip, d, sp(pc), sp(cf) + sp(cpp), sp(lf), std == "true"))
        syso += [(os.path.join(d, s), ip) for s in sp(sy)]
    return pkgs, syso


OWNER = ".owner"  # flock()ed by the verify using the work folder, for as long as it runs


def _own(work: Path) -> int:
    """Lock the new work folder as ours. The lock file is locked before it gets its name, so a
    sweep never finds it unlocked while we live; the kernel drops the lock when we die."""
    fd = os.open(work / f"{OWNER}.new", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(work / f"{OWNER}.new", work / OWNER)
    return fd


def sweep_dead_work_dirs() -> list[Path]:
    """Remove the work folders of verify runs that were killed (their owner lock is free)."""
    removed: list[Path] = []
    for d in sorted(folders.work().glob("verify-*")):
        try:
            fd = os.open(d / OWNER, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue  # kept with --keep, being set up, or not ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live verify
        finally:
            os.close(fd)
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d)
    return removed


@dataclass(frozen=True)
class Plan:
    """Everything the build is, resolved once from the options: the one BuildRequest (Go
    toolchain, sysroot folder, output, flags, environment), the compiler preset and the
    hermetic environment it implies, and how the paths it will use are classified."""

    opts: VerifyOptions
    request: BuildRequest
    preset: CompilerPreset
    env: dict[str, str]
    paths: PathContext
    work: Path

    @property
    def sysroot(self) -> Path | None:
        return self.request.sysroot


def plan(opts: VerifyOptions, work: Path) -> Plan:
    """Look everything up (exit 3 for a missing toolchain or sysroot, 2 for a bad package)."""
    cwd = (opts.cwd or Path.cwd()).absolute()
    go = toolchains.find(opts.go)
    sysroot = require(opts.sysroot) if opts.sysroot else None
    src, package = locate_package(opts.package, cwd)
    output = (opts.output if opts.output else default_output(opts, src, package)).absolute()
    trace = work / "trace"
    trace.mkdir(exist_ok=True)
    request = BuildRequest(
        source=src,
        output=output,
        target=opts.target,
        go=go,
        package=package,
        compiler=opts.compiler,
        cc=opts.cc_path,
        sysroot=sysroot,
        cgo=opts.cgo,
        cflags=" ".join(x for x in (DEFAULT_CFLAGS, opts.extra_cflags) if x),
        ldflags_c=opts.extra_ldflags,
        go_flags=go_flags(opts),
        extra_env=dict(opts.env),
        unset=opts.unset,
        glibc_floor=opts.glibc_floor,
        trace_dir=trace,
        timeout=opts.timeout,
    )
    preset = compiler_preset(opts.compiler, opts.target, sysroot, cc=opts.cc_path, glibc_floor=opts.glibc_floor)
    paths = PathContext(
        target_triplet=opts.target.triplet,
        sysroot=str(sysroot) if sysroot else None,
        goroot=str(go.goroot),
        source_dirs=(str(src),),
        work_dirs=(str(folders.home() / "tmp"), str(work)),
        toolchain_dirs=toolchain_dirs_for(opts.target.triplet),
    )
    return Plan(opts, request, preset, hermetic_env(request), paths, work)


class SideWork:
    """What needs no binary, run while go builds: `go list` (the cgo packages, their #cgo
    flags and .syso files), then pkg-config's replay of their modules and the sysroot/host
    comparison (cgocheck.build.pkgconfig_trace)."""

    def __init__(self, p: Plan) -> None:
        self.plan = p
        pc_env = pkg_config_env(p.sysroot, p.opts.target) if p.sysroot else {}
        self.libdirs = [d for d in pc_env.get("PKG_CONFIG_LIBDIR", "").split(":") if d]
        self.real_pc = shutil.which("pkg-config", path=p.env["PATH"]) or "pkg-config"
        self.lister: subprocess.Popen[str] | None = None
        self.listed = ""
        self.prefetched = Prefetch()
        self.thread = threading.Thread(target=self._run, name="cgocheck-verify-side", daemon=True)

    def start(self) -> None:
        r = self.plan.request
        if r.cgo:
            self.lister = start_go_list(self.plan.env, r.go.go, r.source, r.go_flags, r.package)
        self.thread.start()

    def _run(self) -> None:
        if self.lister is None:
            return
        try:
            out, _ = self.lister.communicate(timeout=min(300, self.plan.request.timeout))
        except subprocess.TimeoutExpired:
            kill_group(self.lister.pid)
            out, _ = self.lister.communicate()
        finally:
            untrack(self.lister.pid)
        self.listed = out
        wanted = [m for pkg in parse_go_list(out)[0] for m in pkg.pkg_config]
        self.prefetched = prefetch(
            self.plan.work / "trace",
            env=self.plan.env,
            wanted=wanted,
            ctx=self.plan.paths,
            sysroot_libdirs=self.libdirs,
            real_pkg_config=self.real_pc,
            cwd=self.plan.request.source,
            compare_host=self.plan.opts.compare_host,
        )

    def stop(self) -> None:
        if self.lister is not None:
            kill_group(self.lister.pid)

    def join(self, timeout: float | None = None) -> tuple[list[CgoPackage], list[tuple[str, str]]]:
        self.thread.join(timeout)
        return parse_go_list(self.listed)


def verify(opts: VerifyOptions) -> VerifyResult:
    t0 = time.monotonic()
    folders.work().mkdir(parents=True, exist_ok=True)
    sweep_dead_work_dirs()
    work = Path(tempfile.mkdtemp(prefix="verify-", dir=folders.work()))
    owner = _own(work)
    if not opts.keep:
        _LIVE_WORK.add(work)
    try:
        return _verify(plan(opts, work), t0)
    finally:
        if opts.keep:
            (work / OWNER).unlink(missing_ok=True)  # kept on purpose: no sweep may take it
        else:
            shutil.rmtree(work, ignore_errors=True)
        _LIVE_WORK.discard(work)
        os.close(owner)


_LIVE_WORK: set[Path] = set()  # the work folders of the verify runs under way in this process


def abandon_work() -> None:
    """Remove the work folders of this process's running verify calls (for a signal handler
    about to end the process: no unwinding, no locks; a folder it cannot remove whole is
    swept by the next run, its owner lock gone with the process)."""
    for work in list(_LIVE_WORK):
        shutil.rmtree(work, ignore_errors=True)


def _verify(p: Plan, t0: float) -> VerifyResult:
    timings: dict[str, float] = {}
    machine = cc_machine(p.env, min(60, p.request.timeout)) if p.request.cgo and p.env.get("CC") else None
    side = SideWork(p)
    side.start()
    t = time.monotonic()
    try:
        result = go_build(p.request)
    except BaseException:  # interrupted: go list goes with the build
        side.stop()
        side.join(timeout=10)
        raise
    timings["go build"] = time.monotonic() - t
    t = time.monotonic()
    if result.timed_out:
        side.stop()
    cgo_pkgs, syso = side.join()
    timings["wait go list + pkg-config"] = time.monotonic() - t
    for name, text in (("build.log", result.log), ("env.txt", "".join(f"{k}={v}\n" for k, v in result.env.items())),
                       ("command.sh", shlex.join(result.argv) + "\n")):
        files.write_text(p.work / name, text)

    t = time.monotonic()
    report = Report(command="verify", target=p.opts.target.name, sysroot=str(p.sysroot) if p.sysroot else None)
    facts: ElfFacts | None = None
    if result.ok:
        try:
            facts = read_elf(str(p.request.output))
        except CgocheckError as err:
            report.errors.append(FileError(str(p.request.output), err.message))
    timings["read elf"] = time.monotonic() - t
    t = time.monotonic()
    record = build_record(p, result, side, cgo_pkgs, syso, facts, machine)
    timings["pkg-config"] = time.monotonic() - t

    report.build = record
    report.build_findings = check_record(record, facts, p.opts.target)
    report.options = {
        "package": p.opts.package,
        "go": p.request.go.version,
        "compiler": p.request.compiler,
        "glibc_floor": p.request.glibc_floor,
        "go_flags": list(p.request.go_flags),
    }
    if facts is not None:
        findings = check_file(facts, p.opts.target, expect_cgo=p.request.cgo, sysroot=record.sysroot)
        report.files.append(FileReport(facts=facts, findings=tuple(findings)))
        if p.sysroot is not None and p.opts.resolve:
            t = time.monotonic()
            add_resolution(report, FsRoot(p.sysroot), glibc_floor=p.request.glibc_floor, target=p.opts.target)
            timings["resolve"] = time.monotonic() - t
    timings["total"] = time.monotonic() - t0
    return VerifyResult(report, record, facts, result, p.work if p.opts.keep else None, timings)


def build_record(
    p: Plan,
    result: BuildResult,
    side: SideWork,
    cgo_pkgs: list[CgoPackage],
    syso: list[tuple[str, str]],
    facts: ElfFacts | None,
    machine: str | None,
) -> BuildRecord:
    """What the build really used, from its own traces: compiler calls, pkg-config answers,
    every path, the C units of the result, prebuilt objects."""
    r = p.request
    trace = p.work / "trace"
    paths = dataclasses.replace(
        p.paths, source_dirs=tuple(dict.fromkeys([str(r.source), *(c.dir for c in cgo_pkgs if not c.std)]))
    )
    calls = read_cc_calls(trace)
    modules = (
        trace_modules(trace, ctx=paths, pre=side.prefetched, sysroot_libdirs=side.libdirs,
                      real_pkg_config=side.real_pc, compare_host=p.opts.compare_host)
        if r.cgo
        else ()
    )
    units = facts.dwarf if facts is not None else ()
    link_mode = facts.go.link_mode if facts is not None and facts.go is not None else "unknown"
    if any(c.final_link for c in calls):
        link_mode = "external"
    notes: list[str] = []
    if r.cgo and not any(c.kind == "compile" for c in calls):
        notes.append("no C file was compiled in this build: the cgo packages came from Go's cache")
    return BuildRecord(
        package=r.package,
        source_dir=str(r.source),
        output=str(r.output),
        go_version=r.go.version,
        goroot=str(r.go.goroot),
        compiler=r.compiler,
        cc=real_compiler(p.env),
        cc_machine=machine,
        expect_producer=p.preset.expect_producer,
        sysroot=str(r.sysroot) if r.sysroot else None,
        glibc_floor=r.glibc_floor,
        target=r.target.name,
        env=tuple(result.env.items()),
        extra_env=tuple(r.extra_env.items()),
        unset=tuple(r.unset),
        argv=tuple(result.argv[2 + len(result.env) :]),
        go_flags=r.go_flags,
        returncode=result.returncode,
        seconds=round(result.seconds, 3),
        log_tail=result.log[-4000:] if not result.ok else "",
        link_mode=link_mode,
        calls=tuple(calls),
        cgo_packages=tuple(cgo_pkgs),
        pkgconfig=modules,
        paths=collect_paths(paths, env=p.env, calls=calls, cgo_packages=cgo_pkgs, pkgconfig=modules, units=units),
        c_units=tuple(c_units(units, zig_clang_producer() if r.compiler == "zig" else None)),
        linker_warnings=linker_warnings(result.log),
        prebuilt=find_prebuilt(calls, cgo_pkgs, syso),
        work_dir=str(p.work) if p.opts.keep else None,
        notes=tuple(notes),
        timed_out=result.timed_out,
    )
