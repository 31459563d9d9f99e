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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

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
from cgocheck.build.modules import ModuleSetup
from cgocheck.build.modules import setup as module_setup
from cgocheck.build.options import GoBuildOptions
from cgocheck.build.packages import MainPackage, is_pattern, locate, main_packages, test_packages
from cgocheck.build.record import (
    BuildRecord,
    CgoPackage,
    PathContext,
    c_units,
    collect_paths,
    diagnostic_headers,
    linker_warnings,
    read_cc_calls,
    split_flags,
    toolchain_dirs_for,
)
from cgocheck.core import files, folders
from cgocheck.core.errors import BadInput, CgocheckError
from cgocheck.core.targets import Target
from cgocheck.settings import RunSettings
from cgocheck.sysroot import require
from cgocheck.sysroot.fsroot import FsRoot

if TYPE_CHECKING:
    from cgocheck.build.pkgconfig_trace import Prefetch
    from cgocheck.elf.model import ElfFacts
    from cgocheck.results import FileReport, Report


def _analysis_imports() -> None:
    """The modules only the analysis after the build needs (ELF reading, checks, resolve,
    the report): imported by the side work while go builds, not before the build starts."""
    import cgocheck.build.headers
    import cgocheck.build.pkgconfig_trace
    import cgocheck.build.prebuilt
    import cgocheck.checks
    import cgocheck.commands.resolve
    import cgocheck.elf
    import cgocheck.report.formats
    import cgocheck.results  # noqa: F401

SEP = "\x1f"
LIST_FIELDS = ("CgoPkgConfig", "CgoCFLAGS", "CgoCPPFLAGS", "CgoLDFLAGS", "SysoFiles", "CFiles", "CXXFiles")
LIST_TEMPLATE = (
    "{{if or .CgoFiles .SysoFiles}}{{.ImportPath}}\t{{.Dir}}\t{{.Standard}}\t"
    + "\t".join(f'{{{{join .{f} "{SEP}"}}}}' for f in LIST_FIELDS)
    + "\t{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}{{end}}"
)


@dataclass(frozen=True)
class VerifyOptions:
    packages: tuple[str, ...]  # folders, import paths or patterns (./..., ./cmd/...)
    target: Target
    go: str = "newest"
    compiler: str = "gcc"
    sysroot: str | None = None
    glibc_floor: str | None = None
    glibcxx_floor: str | None = None
    cc_path: str | None = None
    output: Path | None = None  # the binary; a folder (or a path ending in /) for several
    keep: bool = False
    build: GoBuildOptions = field(default_factory=GoBuildOptions)
    extra_cflags: str = ""
    extra_ldflags: str = ""
    env: tuple[tuple[str, str], ...] = ()
    unset: tuple[str, ...] = ()
    cgo: bool = True
    resolve: bool = True
    compare_host: bool = True
    cwd: Path | None = None
    timeout: float = DEFAULT_TIMEOUT  # seconds for go build (and go list); then its process group is killed
    environ: Mapping[str, str] | None = None  # the user's shell, for module settings only (default: os.environ)
    run: RunSettings | None = None  # --run / [run]: run what was built under the target's loader (commands/run.py)
    test: bool = False  # cgocheck test: build the packages' test binaries (go test -c) instead (commands/gotest.py)

    @property
    def package(self) -> str:
        return " ".join(self.packages)


@dataclass
class VerifyResult:
    report: Report
    record: BuildRecord
    facts: ElfFacts | None
    build: BuildResult
    work_dir: Path | None
    timings: dict[str, float]


def default_output(opts: VerifyOptions, root: Path, args: tuple[str, ...], several: bool) -> Path:
    """Where the result goes without -o: cgocheck's work folder, named after the package."""
    first = args[0] if args else "."
    name = Path(first.replace("...", "all")).name if first not in (".", "") else root.name
    slug = opts.target.name.replace("/", "_")
    mode = opts.build.buildmode
    suffix = "" if several else (".so" if mode == "c-shared" else (".a" if mode == "c-archive" else ""))
    return folders.work() / "out" / f"{name or 'out'}-{slug}{suffix}"


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
    machine = out[0] if p.returncode == 0 and out else None
    if machine and Path(shlex.split(cc)[0]).name == "musl-gcc":
        # musl-tools' wrapper runs the host gcc with a specs file for musl: -dumpmachine names
        # the gcc (x86_64-linux-gnu), the specs make it build for musl
        machine = machine.replace("-linux-gnu", "-linux-musl")
    return machine


def start_go_list(
    env: dict[str, str], go: Path, cwd: Path, flags: tuple[str, ...], packages: tuple[str, ...], test: bool = False
) -> subprocess.Popen[str]:
    build_flags = [f for f in flags if f.startswith(("-tags", "-buildmode", "-trimpath", "-mod", "-overlay"))]
    proc = subprocess.Popen(
        [str(go), "list", "-deps", *(["-test"] if test else []), *build_flags, "-f", LIST_TEMPLATE, *packages],
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
    """The cgo packages of ``go list -deps -f LIST_TEMPLATE`` and their .syso files (path, package)."""
    pkgs: list[CgoPackage] = []
    syso: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 11:
            continue
        ip, d, std, pc, cf, cpp, lf, sy, cfiles, cxx, module = parts

        def sp(x: str) -> tuple[str, ...]:
            return tuple(v for v in x.split(SEP) if v)

        files = (*sp(cfiles), *sp(cxx), *sp(sy))
        pkg = CgoPackage(ip, d, sp(pc), sp(cf) + sp(cpp), sp(lf), std == "true", module or None, files)
        pkgs.append(pkg)
        syso += [(os.path.join(d, s), pkg.origin) for s in sp(sy)]
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
    toolchain, sysroot folder, packages, output, flags, environment), the compiler preset,
    the hermetic environment, the module setup, the main packages a pattern names, and how
    the paths the build will use are classified."""

    opts: VerifyOptions
    request: BuildRequest
    preset: CompilerPreset
    env: dict[str, str]
    paths: PathContext
    work: Path
    modules: ModuleSetup
    final_output: Path  # where the result ends up: the binary, or the folder of several
    mains: tuple[MainPackage, ...] = ()  # output_dir builds: one binary each
    list_error: str = ""

    @property
    def sysroot(self) -> Path | None:
        return self.request.sysroot

    def binaries(self) -> list[Path]:
        """The files the build wrote, where they end up: one per main package of a pattern."""
        if not self.request.output_dir:
            return [self.final_output]
        return [self.final_output / m.binary for m in self.mains]


def plan(opts: VerifyOptions, work: Path) -> Plan:
    """Look everything up (exit 3 for a missing toolchain or sysroot, 2 for bad input) and get
    the modules the build needs (cgocheck.build.modules)."""
    cwd = (opts.cwd or Path.cwd()).absolute()
    opts.build.check(opts.target, cgo=opts.cgo)
    if opts.run is not None and opts.run.enabled:
        _check_run(opts)
    go = toolchains.find(opts.go)
    sysroot = require(opts.sysroot) if opts.sysroot else None
    root, args = locate(opts.packages, cwd)
    out_dir = opts.output is not None and (opts.output.is_dir() or str(opts.output).endswith("/"))
    several = is_pattern(args) or out_dir
    if several and opts.build.buildmode in ("c-shared", "c-archive"):
        raise BadInput(f"-buildmode={opts.build.buildmode} builds one package, not {' '.join(args)}")
    output = (opts.output if opts.output else default_output(opts, root, args, several)).absolute()
    trace = work / "trace"
    trace.mkdir(exist_ok=True)
    request = BuildRequest(
        source=root,
        output=work / "bin" if several else output,  # moved to the output folder after the build
        target=opts.target,
        go=go,
        packages=args,
        compiler=opts.compiler,
        cc=opts.cc_path,
        sysroot=sysroot,
        cgo=opts.cgo,
        cflags=" ".join(x for x in (DEFAULT_CFLAGS, opts.extra_cflags) if x),
        ldflags_c=opts.extra_ldflags,
        go_flags=opts.build.flags(),
        extra_env=dict(opts.env),
        unset=opts.unset,
        glibc_floor=opts.glibc_floor,
        trace_dir=trace,
        timeout=opts.timeout,
        go_env=opts.build.env(),
        output_dir=several,
    )
    preset = compiler_preset(opts.compiler, opts.target, sysroot, cc=opts.cc_path, glibc_floor=opts.glibc_floor)
    base_env = hermetic_env(request, preset)
    mods = module_setup(go.go, go.version, root, os.environ if opts.environ is None else opts.environ, base_env,
                        timeout=min(opts.timeout, 600))
    if mods.env:
        request = dataclasses.replace(request, go_env={**request.go_env, **dict(mods.env)})
    env = hermetic_env(request, preset)
    mains: tuple[MainPackage, ...] = ()
    list_error = ""
    if opts.test:
        request, mains, output = _test_plan(opts, request, env, work)
    elif several:
        mains, list_error = main_packages(go.go, env, root, args, request.go_flags, opts.timeout)
    paths = PathContext(
        target_triplet=opts.target.triplet,
        sysroot=str(sysroot) if sysroot else None,
        goroot=str(go.goroot),
        source_dirs=(str(root),),
        work_dirs=(str(folders.home() / "tmp"), str(work)),
        toolchain_dirs=toolchain_dirs_for(opts.target.triplet),
    )
    return Plan(opts, request, preset, env, paths, work, mods, output, mains, list_error)


def _check_run(opts: VerifyOptions) -> None:
    """Before any build: running needs a sysroot and, for another machine, its qemu (exit 3)."""
    from cgocheck.loader import qemu
    from cgocheck.loader.runner import native

    if not opts.sysroot:
        raise BadInput("running what is built needs --sysroot (the target's loader and libraries come from it)")
    if not native(opts.target.arch):
        qemu.for_arch(opts.target.arch)


def _test_plan(
    opts: VerifyOptions, request: BuildRequest, env: dict[str, str], work: Path
) -> tuple[BuildRequest, tuple[MainPackage, ...], Path]:
    """cgocheck test: `go test -c` for every package with tests (one binary each, PKG.test),
    into -o DIR or the work folder. Several at once need Go 1.21's `go test -c -o DIR/`."""
    if opts.build.buildmode not in (None, "exe", "pie"):
        raise BadInput(f"-buildmode={opts.build.buildmode}: test binaries are programs (exe or pie)")
    found, error = test_packages(request.go.go, env, request.source, request.packages, request.go_flags, opts.timeout)
    if not found:
        raise BadInput(f"no package with test files in {' '.join(opts.packages)}" + (f": {error}" if error else ""))
    several = len(found) > 1
    if several and (toolchains.version_key(request.go.version) or (0,)) < (1, 21):
        raise BadInput(f"Go {request.go.version} builds the test binary of one package at a time (go test -c): "
                       "name one package, or use Go 1.21 or newer")
    folder = (opts.output if opts.output else work / "tests").absolute()
    output = folder if several else folder / found[0].binary
    request = dataclasses.replace(request, go_command=("test", "-c"), output=work / "bin" if several else output,
                                  output_dir=several)
    return request, found, output


class SideWork:
    """What needs no binary, run while go builds: the C compiler's -dumpmachine, `go list`
    (the cgo packages, their #cgo flags and .syso files), then pkg-config's replay of their
    modules and the sysroot/host comparison (cgocheck.build.pkgconfig_trace), the sysroot's
    library index filled with what the program will likely load (cgocheck.loader.index),
    and the imports of the analysis that follows the build."""

    def __init__(self, p: Plan) -> None:
        self.plan = p
        pc_env = pkg_config_env(p.sysroot, p.opts.target) if p.sysroot else {}
        self.libdirs = [d for d in pc_env.get("PKG_CONFIG_LIBDIR", "").split(":") if d]
        self.real_pc = shutil.which("pkg-config", path=p.env["PATH"]) or "pkg-config"
        self.lister: subprocess.Popen[str] | None = None
        self.listed = ""
        self.prefetched: Prefetch | None = None  # pkg-config's answers, once go list has named the modules
        self.machine: str | None = None
        self.warmed = 0
        self.timings: dict[str, float] = {}
        self.thread = threading.Thread(target=self._run, name="cgocheck-verify-side", daemon=True)

    def start(self) -> None:
        r = self.plan.request
        if r.cgo:
            self.lister = start_go_list(self.plan.env, r.go.go, r.source, r.go_flags, r.packages,
                                        test=self.plan.opts.test)
        self.thread.start()

    def _run(self) -> None:
        t = time.monotonic()
        p = self.plan
        if p.request.cgo and p.env.get("CC"):
            self.machine = cc_machine(p.env, min(60, p.request.timeout))
        self.timings["side: cc -dumpmachine"] = time.monotonic() - t
        t = time.monotonic()
        _analysis_imports()
        self.timings["side: imports"] = time.monotonic() - t
        if self.lister is not None:
            t = time.monotonic()
            self._list_and_prefetch()
            self.timings["side: go list + pkg-config"] = time.monotonic() - t
        if p.sysroot is not None and p.opts.resolve:
            t = time.monotonic()
            self._warm_index()
            self.timings["side: library index"] = time.monotonic() - t

    def _warm_index(self) -> None:
        from cgocheck.loader.resolve import warm_up

        libs: list[str] = []
        pkgs = parse_go_list(self.listed)[0]
        flags = [f for pkg in pkgs for f in pkg.ldflags]
        if self.prefetched is not None:
            flags += [f for m in self.prefetched.replayed.values() for f in split_flags(m.libs)]
        libs = [f"lib{f[2:]}.so" for f in flags if f.startswith("-l") and len(f) > 2 and "/" not in f]
        assert self.plan.sysroot is not None
        try:
            self.warmed = warm_up(FsRoot(self.plan.sysroot), self.plan.opts.target, tuple(dict.fromkeys(libs)))
        except (CgocheckError, OSError, ValueError):
            self.warmed = 0  # only a head start: resolve after the build reports any problem

    def _list_and_prefetch(self) -> None:
        from cgocheck.build.pkgconfig_trace import prefetch

        assert self.lister is not None
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
    side = SideWork(p)
    side.start()
    t = time.monotonic()
    try:
        result = go_build(p.request, p.preset)
    except BaseException:  # interrupted: go list goes with the build
        side.stop()
        side.join(timeout=10)
        raise
    timings["go build"] = time.monotonic() - t
    t = time.monotonic()
    if result.timed_out:
        side.stop()
    cgo_pkgs, syso = side.join()
    machine = side.machine
    _analysis_imports()  # done by the side work, unless it was cut short
    from cgocheck.checks import check_file, check_record
    from cgocheck.commands.resolve import add_resolution
    from cgocheck.elf import read_elf
    from cgocheck.results import FileError, FileReport, Report

    timings["wait side work"] = time.monotonic() - t
    timings.update(side.timings)
    for name, text in (("build.log", result.log), ("env.txt", "".join(f"{k}={v}\n" for k, v in result.env.items())),
                       ("command.sh", shlex.join(result.argv) + "\n")):
        files.write_text(p.work / name, text)

    t = time.monotonic()
    report = Report(command="verify", target=p.opts.target.name, sysroot=str(p.sysroot) if p.sysroot else None)
    if result.ok and p.request.output_dir:
        _move_binaries(p)
    elves: list[ElfFacts] = []
    probe_of: dict[str, str] = {}
    if result.ok:
        for path in p.binaries():
            if p.opts.build.buildmode == "c-archive":
                probe, note = link_archive_probe(p, path)
                if note:
                    report.notes.append(note)
                if probe is None:
                    continue
                probe_of[str(probe)] = str(p.final_output)
                path = probe
            try:
                elves.append(read_elf(str(path)))
            except CgocheckError as err:
                report.errors.append(FileError(str(path), err.message))
    facts = elves[0] if elves else None
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
        "glibcxx_floor": p.opts.glibcxx_floor,
        "go_flags": list(p.request.go_flags),
    }
    for f in elves:
        findings = check_file(f, p.opts.target, expect_cgo=p.request.cgo, sysroot=record.sysroot)
        report.files.append(FileReport(facts=f, findings=tuple(findings)))
        if f.path in probe_of:
            report.notes.append(f"{f.path}: a C program linked against {probe_of[f.path]} with the target's compiler "
                                "(what a program using the archive needs from the target)")
    if elves and p.sysroot is not None and p.opts.resolve:
        t = time.monotonic()
        add_resolution(report, FsRoot(p.sysroot), glibc_floor=p.request.glibc_floor, target=p.opts.target,
                       glibcxx_floor=p.opts.glibcxx_floor)
        timings["resolve"] = time.monotonic() - t
    if elves and p.opts.run is not None and p.opts.run.enabled:
        t = time.monotonic()
        _run_built(p, report, probe_of)
        timings["run"] = time.monotonic() - t
    timings["total"] = time.monotonic() - t0
    return VerifyResult(report, record, facts, result, p.work if p.opts.keep else None, timings)


def binary_packages(p: Plan) -> dict[str, MainPackage]:
    """Each file the build wrote -> the package it was built from."""
    if p.request.output_dir or p.opts.test:
        return {str(b): m for b, m in zip(p.binaries(), p.mains, strict=False)}
    arg = p.request.packages[0] if p.request.packages else "."
    folder = p.request.source / arg if arg.startswith(".") else p.request.source
    return {str(p.final_output): MainPackage(arg, str(folder), p.final_output.name)}


def _run_built(p: Plan, report: Report, probe_of: dict[str, str]) -> None:
    """verify --run, cgocheck test: run every file of the report under the target's loader in
    the sysroot (cgocheck.commands.run; test binaries through cgocheck.commands.gotest)."""
    from cgocheck.commands.run import RunOne, add_runs, run_one
    from cgocheck.loader.runner import DEFAULT_MAX_OUTPUT, DEFAULT_TIMEOUT, RunSpec

    cfg = p.opts.run
    assert cfg is not None
    assert p.sysroot is not None  # _check_run
    report.options["run"] = cfg.as_json()
    packages = binary_packages(p)
    cwd = p.opts.cwd or Path.cwd()

    def spec_for(fr: FileReport) -> RunSpec | None:
        pkg = packages.get(probe_of.get(fr.facts.path, fr.facts.path))
        names = [*p.opts.packages, *p.request.packages] if len(packages) == 1 else []
        if pkg is not None:
            rel = os.path.relpath(pkg.dir, cwd)
            names = [*names, pkg.import_path, pkg.dir, rel, "./" + rel, pkg.binary.removesuffix(".test")]
        return RunSpec(args=cfg.args_for(names) or (), timeout=cfg.timeout or DEFAULT_TIMEOUT,
                       max_output=cfg.max_output or DEFAULT_MAX_OUTPUT, bindings=cfg.bindings, env=cfg.env)

    runner: RunOne = run_one
    if p.opts.test:
        from cgocheck.commands.gotest import test_runner

        runner = test_runner(p.request.go, p.env, packages)
    add_runs(report, FsRoot(p.sysroot), spec_for, runner=runner)


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
    from cgocheck.build.headers import header_origins
    from cgocheck.build.pkgconfig_trace import Prefetch, trace_modules
    from cgocheck.build.prebuilt import find_prebuilt, mark_prebuilt_units

    r = p.request
    trace = p.work / "trace"
    paths = dataclasses.replace(
        p.paths, source_dirs=tuple(dict.fromkeys([str(r.source), *(c.dir for c in cgo_pkgs if not c.std)]))
    )
    calls = read_cc_calls(trace)
    modules = (
        trace_modules(trace, ctx=paths, pre=side.prefetched or Prefetch(), env=p.env, sysroot_libdirs=side.libdirs,
                      real_pkg_config=side.real_pc, compare_host=p.opts.compare_host)
        if r.cgo
        else ()
    )
    units = facts.dwarf if facts is not None else ()
    link_mode = facts.go.link_mode if facts is not None and facts.go is not None else "unknown"
    if any(c.final_link for c in calls):
        link_mode = "external"
    prebuilt_files, prebuilt = find_prebuilt(calls, cgo_pkgs, syso, paths, str(r.source))
    notes: list[str] = []
    if r.cgo and not any(c.kind == "compile" for c in calls):
        notes.append("no C file was compiled in this build: the cgo packages came from Go's cache")
    return BuildRecord(
        package=r.package,
        source_dir=str(r.source),
        output=str(p.final_output),
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
        paths=collect_paths(
            paths, env=p.env, calls=calls, cgo_packages=cgo_pkgs, pkgconfig=modules, units=units,
            diagnostics=diagnostic_headers(result.log) if r.cgo else (),
        ),
        c_units=mark_prebuilt_units(
            c_units(units, zig_clang_producer() if r.compiler == "zig" else None, paths.source_dirs), prebuilt, cgo_pkgs
        ),
        linker_warnings=linker_warnings(result.log),
        prebuilt=prebuilt,
        prebuilt_files=prebuilt_files,
        work_dir=str(p.work) if p.opts.keep else None,
        notes=tuple(notes),
        timed_out=result.timed_out,
        modules=p.modules,
        headers=header_origins(units, paths),
        binaries=tuple(str(b) for b in p.binaries() if b.is_file()),
    )


def _move_binaries(p: Plan) -> None:
    """Several binaries were written into the work folder: move each into the output folder."""
    p.final_output.mkdir(parents=True, exist_ok=True)
    for m in p.mains:
        built = p.request.output / m.binary
        if built.is_file():
            os.replace(built, p.final_output / m.binary)


def link_archive_probe(p: Plan, archive: Path) -> tuple[Path | None, str]:
    """A c-archive is no program: link a tiny C main against it with the target's compiler (the
    preset's flags and sysroot), so what a C program using it needs from the target's libc can
    be checked and resolved. Returns the probe and a note, or None and why not."""
    header = archive.with_suffix(".h")
    src = p.work / "probe.c"
    src.write_text("int main(void) { return 0; }\n")
    out = p.work / f"{archive.stem}-probe"
    cc = shlex.split(real_compiler(p.env) or "cc")  # the compiler itself: the probe is not part of the build's trace
    flags = [*split_flags(p.env.get("CGO_LDFLAGS", "")), *split_flags(p.env.get("CGO_CFLAGS", ""))]
    argv = [*cc, str(src), "-Wl,--whole-archive", str(archive), "-Wl,--no-whole-archive", "-lpthread", "-lm",
            *flags, "-o", str(out)]
    try:
        env = {k: v for k, v in p.env.items() if k != "CGOCHECK_TRACE"}
        proc = subprocess.run(argv, env=env, cwd=p.work, capture_output=True, text=True, errors="replace",
                              timeout=min(300, p.request.timeout), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"the c-archive probe could not be linked: {exc}"
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-2:])[:400]
        return None, f"the c-archive probe could not be linked with the target's compiler: {tail}"
    note = f"exported header: {header}" if header.is_file() else "no exported header next to the archive"
    return out, note
