"""Run a binary on the target's ABI, inside its sysroot, and record what the loader said.

How a file is run (``ProgramRun.mode``):

- **qemu**: ``qemu-<arch> -L SYSROOT BINARY ARGS``: qemu-user maps the guest's absolute paths
  into the sysroot, so PT_INTERP, ld.so.cache, ld.so.conf and every library come from it;
- **native** (the host's own machine, x86_64): ``SYSROOT/<loader> --inhibit-cache
  --library-path <the sysroot's folders> BINARY ARGS``: the sysroot's loader, its folders
  (ld.so.conf's and the built-in ones, as resolve found them), never the host's ld.so.cache.
  The library path is searched where LD_LIBRARY_PATH is (before DT_RUNPATH), and the host's
  built-in folders come last: --bindings shows any object loaded from outside the sysroot;
- **trace** (a shared library): the loader's trace mode (``LD_TRACE_LOADED_OBJECTS=1
  LD_WARN=1 LD_BIND_NOW=1``, what ``ldd -r`` does; musl: ``--list``) loads the library as a
  program would load it, with its dependencies, and binds every symbol, without running it.

The program gets an empty environment plus a short allowlist, recorded in the run: PATH
(/usr/local/bin:/usr/bin:/bin, the sysroot's through qemu), HOME and TMPDIR (a scratch folder
made for the run and removed after it), LANG=C, ``LD_BIND_NOW=1`` so that every symbol is
bound before main, with --bindings ``LD_DEBUG=bindings`` and ``LD_DEBUG_OUTPUT`` (a file in
the scratch folder), for a shared library ``LD_TRACE_LOADED_OBJECTS=1 LD_WARN=1``, and the
user's recorded --env (never LD_*, QEMU_*: no LD_LIBRARY_PATH, LD_PRELOAD or LD_AUDIT, whatever
the shell has). It runs with stdin closed, confined by cgocheck.core.sandbox (a timeout and
an output cap that stop it with everything it started). Variables reach the guest through
qemu's ``-E`` for the loader's (LD_*: set in
qemu's own environment they would act on the host's loader running qemu) and through qemu's
own environment, which it hands on, for the others.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cgocheck.core import files, folders, sandbox
from cgocheck.core.errors import BadInput
from cgocheck.core.targets import Arch, all_arches
from cgocheck.elf.model import ElfFacts
from cgocheck.loader import qemu
from cgocheck.loader.messages import parse_bindings, parse_messages
from cgocheck.loader.model import Resolution
from cgocheck.loader.runmodel import (
    BINARY,
    INTERPRETER_MISSING,
    MODE_NATIVE,
    MODE_QEMU,
    MODE_TRACE,
    VDSO,
    VDSO_NAMES,
    DynamicBinding,
    LoaderMessage,
    ProgramRun,
    QemuInfo,
)
from cgocheck.sysroot.fsroot import FsRoot, SymlinkLoop

GUEST_PATH = "/usr/local/bin:/usr/bin:/bin"
REFUSED_ENV = ("LD_", "QEMU_", "GCONV_PATH", "LOCPATH", "MALLOC_")
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_OUTPUT = 8 << 20  # bytes, stdout and stderr together
TAIL = 4000  # characters of each stream kept in the report
BINFMT_NOTE = ("no binfmt_misc entry for {qemu}: a program it starts for the target (os/exec, the sysroot's "
               "/bin/sh, a test re-running itself) fails with 'exec format error' (qemu-user's limit, not the "
               "binary's)")
HOST_MACHINE = {"x86_64": "EM_X86_64"}


@dataclass(frozen=True)
class RunSpec:
    """How to run a file: what every command that runs takes (run, verify --run, test)."""

    args: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    max_output: int = DEFAULT_MAX_OUTPUT
    bindings: bool = False
    env: tuple[tuple[str, str], ...] = ()  # the user's additions (recorded)
    cwd: str | None = None  # default: the scratch folder

    def check(self) -> None:
        for name, _ in self.env:
            if name.startswith(REFUSED_ENV) or not name or "=" in name:
                raise BadInput(f"--env {name}: the loader's and qemu's variables (LD_*, QEMU_*, ...) are cgocheck's to "
                               "set; the program runs with the sysroot's libraries only")
        if self.timeout <= 0 or self.max_output <= 0:
            raise BadInput("the run's timeout and output cap must be positive")
        if self.cwd is not None and not Path(self.cwd).is_dir():
            raise BadInput(f"--cwd {self.cwd}: no such folder")


def arch_of(facts: ElfFacts) -> Arch:
    """The targets.toml row that runs FACTS (machine, class and byte order; ARM rows share qemu-arm)."""
    h = facts.header
    for a in all_arches():
        if a.machine == h.machine and a.elf_class == h.elf_class and a.endian == h.endian:
            return a
    raise BadInput(f"{facts.path}: no target cgocheck knows is a {h.elf_class}-bit {h.endian}-endian {h.machine}")


def refuse_foreign(facts: ElfFacts, machine: str | None, elf_class: int | None, sysroot: str) -> None:
    """A binary for another machine than the sysroot's is refused before anything runs."""
    h = facts.header
    if machine is not None and (h.machine != machine or (elf_class is not None and h.elf_class != elf_class)):
        raise BadInput(f"{facts.path} is a {h.elf_class}-bit {h.machine} binary, the sysroot {sysroot} is for "
                       f"{elf_class}-bit {machine}: it cannot run there")


def _runnable(facts: ElfFacts) -> None:
    if facts.header.file_type not in ("exec", "pie", "shared"):
        raise BadInput(f"{facts.path} is a {facts.header.file_type} ELF file: neither a program nor a library to load")


def native(arch: Arch) -> bool:
    return HOST_MACHINE.get(platform.machine()) == arch.machine and arch.elf_class == 64


def _resolve(root: FsRoot, guest: str) -> Path | None:
    try:
        r = root.resolve(guest)
    except SymlinkLoop:
        return None
    return r.host if r is not None and r.host.is_file() else None


def _library_dirs(root: FsRoot, res: Resolution | None, arch: Arch, flavour: str) -> list[str]:
    """The sysroot's folders, as host paths, in the loader's order (ld.so.conf's, then built-in)."""
    if res is not None and (res.setup.ld_so_conf_dirs or res.setup.default_dirs):
        guest = [*res.setup.ld_so_conf_dirs, *res.setup.default_dirs]
    else:
        t = arch.triplets[flavour]
        guest = [f"/lib/{t}", f"/usr/lib/{t}", "/lib", "/usr/lib"]
    out: list[str] = []
    for g in dict.fromkeys(guest):
        try:
            r = root.resolve(g)
        except SymlinkLoop:
            continue
        if r is not None and r.host.is_dir() and str(r.host) not in out:
            out.append(str(r.host))
    return out


def _tail(data: bytes) -> str:
    return data.decode(errors="replace")[-TAIL:]


def _locate(printed: str, root: FsRoot, file: str, mode: str) -> str | None:
    """The object a loader line names, as a real path inside the sysroot (BINARY for the file
    that ran), or None when the loader read it from outside the sysroot."""
    if printed == file:
        return BINARY
    if printed in VDSO_NAMES:
        return VDSO
    top = str(root.top)
    if printed.startswith(top + "/"):
        guest = printed[len(top):]
    elif mode == MODE_NATIVE:
        return None  # natively, a path outside the sysroot is the host's
    else:
        guest = printed  # qemu reads SYSROOT+path when it is there, else the host's path
    try:
        r = root.resolve(guest)
    except SymlinkLoop:
        return None
    return r.guest if r is not None else None


@dataclass(frozen=True)
class Prepared:
    argv: tuple[str, ...]
    process_env: dict[str, str]
    guest_env: tuple[tuple[str, str], ...]
    mode: str
    loader: str | None
    info: QemuInfo | None
    notes: tuple[str, ...]
    debug_prefix: Path | None


def run_file(
    facts: ElfFacts,
    root: FsRoot,
    spec: RunSpec,
    *,
    resolution: Resolution | None = None,
    flavour: str = "glibc",
    sysroot_loader: str | None = None,
    extra_args: tuple[str, ...] = (),
    merge_output: bool = False,
    cwd: str | None = None,
) -> tuple[ProgramRun, bytes]:
    """Run FACTS' file in ROOT as SPEC says; the run and everything it printed (kept up to the
    cap; stdout, with stderr too when MERGE_OUTPUT). FLAVOUR and SYSROOT_LOADER (the guest
    path of the sysroot's loader, for a shared library) come from the sysroot's facts."""
    _runnable(facts)
    spec.check()
    arch = arch_of(facts)
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=_work()))
    try:
        (scratch / "tmp").mkdir()
        prep = _prepare(facts, root, spec, arch, scratch, resolution, flavour, sysroot_loader, extra_args)
        if isinstance(prep, ProgramRun):
            return prep, b""
        workdir = cwd or spec.cwd or str(scratch)
        outcome = sandbox.run(prep.argv, env=prep.process_env, cwd=workdir, timeout=spec.timeout,
                              max_output=spec.max_output, merge_stderr=merge_output)
        return _record(facts, root, spec, prep, outcome, workdir, merge_output, scratch), outcome.stdout
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _work() -> Path:
    d = folders.work()
    d.mkdir(parents=True, exist_ok=True)
    return d


def _prepare(
    facts: ElfFacts,
    root: FsRoot,
    spec: RunSpec,
    arch: Arch,
    scratch: Path,
    res: Resolution | None,
    flavour: str,
    sysroot_loader: str | None,
    extra_args: tuple[str, ...],
) -> Prepared | ProgramRun:
    file = os.path.abspath(facts.path)
    shared = facts.header.file_type == "shared"
    mode = MODE_TRACE if shared else (MODE_NATIVE if native(arch) else MODE_QEMU)
    info = None if native(arch) else qemu.for_arch(arch)
    if info is not None:
        qemu.refuse_known_limits(info, arch, go_binary=facts.go is not None)
    notes: list[str] = []
    loader = sysroot_loader if shared else facts.interpreter
    if shared and loader is None:
        raise BadInput(f"{file}: the sysroot {root.top} has no loader to load a shared library with")
    loader_host = _resolve(root, loader) if loader else None
    guest: dict[str, str] = {"PATH": GUEST_PATH, "HOME": str(scratch), "TMPDIR": str(scratch / "tmp"), "LANG": "C"}
    if loader is not None:
        guest["LD_BIND_NOW"] = "1"
    guest.update(dict(spec.env))
    if loader is not None and loader_host is None:
        host_has = os.path.lexists(loader)
        if info is None or host_has or shared:
            why = (" (qemu would fall back to the host's file of that name)" if info is not None and host_has else "")
            text = f"{file}: cannot run: its loader {loader} is not in the sysroot: No such file or directory{why}"
            return _not_run(facts, root, spec, mode, loader, info, tuple(guest.items()),
                            LoaderMessage(INTERPRETER_MISSING, text, library=loader),
                            "not run: the loader is missing from the sysroot, so the target's kernel could not "
                            "start it")
    debug: Path | None = None
    if spec.bindings:
        if flavour == "glibc" and loader is not None:
            debug = scratch / "ld-debug"
            guest["LD_DEBUG"] = "bindings"
            guest["LD_DEBUG_OUTPUT"] = str(debug)
        elif loader is None:
            notes.append("statically linked: no loader, no bindings to compare")
        else:
            notes.append(f"{flavour}'s loader has no LD_DEBUG: the bindings were not compared")
    if shared and flavour == "glibc":
        guest.update({"LD_TRACE_LOADED_OBJECTS": "1", "LD_WARN": "1"})
    if info is not None and any("," in v for k, v in guest.items() if k.startswith("LD_")):
        raise BadInput(f"a loader variable for the run holds a comma, which qemu's -E cannot pass: {scratch}")
    program: list[str]
    if shared:
        assert loader_host is not None
        program = [str(loader_host), *(["--list"] if flavour == "musl" else []), file]
    else:
        program = [file, *extra_args, *spec.args]
    if info is not None:
        argv = [info.path, "-L", str(root.top)]
        for k, v in guest.items():
            if k.startswith("LD_"):
                argv += ["-E", f"{k}={v}"]
        process_env = {k: v for k, v in guest.items() if not k.startswith("LD_")}
        argv += program
        if not qemu.binfmt_registered(info) and not shared:
            notes.append(BINFMT_NOTE.format(qemu=info.binary))
    else:
        process_env = dict(guest)
        if loader_host is not None:
            dirs = _library_dirs(root, res, arch, flavour)
            head = [str(loader_host)] + (["--inhibit-cache", "--library-path", ":".join(dirs)]
                                         if flavour == "glibc" else [])
            argv = [*head, *program[1:]] if shared else [*head, *program]
            notes.append("natively through the sysroot's loader: its folders come where LD_LIBRARY_PATH would (before "
                         "DT_RUNPATH), the host's built-in folders last")
            if Path("/etc/ld.so.preload").is_file() and Path("/etc/ld.so.preload").stat().st_size:
                notes.append("the host's /etc/ld.so.preload is read by the loader run natively")
        else:
            argv = program
            notes.append("statically linked: run directly (it reads the host's files, /etc included)")
    return Prepared(tuple(argv), process_env, tuple(guest.items()), mode, loader, info, tuple(notes), debug)


def _not_run(facts: ElfFacts, root: FsRoot, spec: RunSpec, mode: str, loader: str | None, info: QemuInfo | None,
             env: tuple[tuple[str, str], ...], msg: LoaderMessage, note: str) -> ProgramRun:
    return ProgramRun(
        file=facts.path, mode=mode, argv=(), args=spec.args, env=env, cwd="", sysroot=str(root.top), loader=loader,
        qemu=info, returncode=None, signal=None, timed_out=False, timeout=spec.timeout, output_capped=False,
        output_limit=spec.max_output, output_bytes=0, seconds=0.0, stdout_tail="", stderr_tail=msg.text,
        loader_messages=(msg,), started=False, ran=False, notes=(note,),
    )


def _record(
    facts: ElfFacts,
    root: FsRoot,
    spec: RunSpec,
    prep: Prepared,
    out: sandbox.Outcome,
    cwd: str,
    merged: bool,
    scratch: Path,
) -> ProgramRun:
    stderr = out.stderr.decode(errors="replace")
    stdout = out.stdout.decode(errors="replace")
    # the loader writes to stderr; traced, it lists (and misses) libraries on stdout
    said = stdout if merged else (stdout + "\n" + stderr if prep.mode == MODE_TRACE else stderr)
    messages = parse_messages(said)
    # the binfmt note only where it explains something
    notes = [n for n in prep.notes if n != BINFMT_NOTE.format(qemu=prep.info.binary if prep.info else "")
             or "exec format error" in (stdout + stderr).lower()]
    bindings: tuple[DynamicBinding, ...] | None = None
    if prep.debug_prefix is not None:
        own = Path(f"{prep.debug_prefix}.{out.pid}")
        text = ""
        with contextlib.suppress(OSError):
            text = files.read_bytes(own, files.TRACE, prefix=True).decode(errors="replace")
        others = [p for p in scratch.glob(f"{prep.debug_prefix.name}.*") if p != own]
        if others:
            notes.append(f"{len(others)} more process(es) of the program wrote loader bindings; only its own are "
                         "compared")
        file = os.path.abspath(facts.path)
        mode = prep.mode
        bindings = tuple(
            DynamicBinding(req, prov, sym, ver, _locate(req, root, file, mode), _locate(prov, root, file, mode))
            for req, prov, sym, ver in parse_bindings(text)
        )
        if not bindings:
            notes.append("the loader printed no bindings")
    if out.strays:
        notes.append(f"{out.strays} process(es) it left running were stopped")
    if out.timed_out:
        notes.append(f"stopped after {spec.timeout:g} s with every process it started")
    if out.capped:
        notes.append(f"stopped when its output passed {spec.max_output} bytes")
    started = not any(m.fatal for m in messages)
    return ProgramRun(
        file=facts.path,
        mode=prep.mode,
        argv=prep.argv,
        args=spec.args,
        env=prep.guest_env,
        cwd=cwd,
        sysroot=str(root.top),
        loader=prep.loader,
        qemu=prep.info,
        returncode=out.returncode,
        signal=sandbox.signal_name(out.signal),
        timed_out=out.timed_out,
        timeout=spec.timeout,
        output_capped=out.capped,
        output_limit=spec.max_output,
        output_bytes=out.total_bytes,
        seconds=round(out.seconds, 3),
        stdout_tail=_tail(out.stdout),
        stderr_tail=_tail(out.stderr),
        loader_messages=messages,
        started=started,
        bindings=bindings,
        strays=out.strays,
        notes=tuple(notes),
    )
