"""What happened when a binary ran under the target's own loader (``cgocheck run``, ``verify
--run``, ``cgocheck test``): the model cgocheck/checks/dynamic.py judges and every report
format renders (``Report.runs``). Made by cgocheck.loader.runner."""

from __future__ import annotations

from dataclasses import dataclass

# How a file was run.
MODE_QEMU = "qemu"  # qemu-<arch> -L SYSROOT BINARY: the target's loader, emulated
MODE_NATIVE = "native"  # the host's own machine: SYSROOT's loader run directly
MODE_TRACE = "trace"  # a shared library: the loader's trace mode (ldd -r) loads and binds it

# What a loader message says (cgocheck.loader.messages parses them).
LIBRARY_NOT_FOUND = "library-not-found"  # "cannot open shared object file"
VERSION_NOT_FOUND = "version-not-found"  # "version `GLIBC_2.34' not found"
SYMBOL_LOOKUP = "symbol-lookup-error"  # "symbol lookup error: ...: undefined symbol: foo"
UNLOADABLE = "unloadable"  # "wrong ELF class", "invalid ELF header", "file too short" ...
INTERPRETER_MISSING = "interpreter-missing"  # PT_INTERP is not there: "No such file or directory"
LOADER_FAILURE = "loader-failure"  # "Inconsistency detected by ld.so": its own assertion stopped it
NO_VERSION_INFO = "no-version-information"  # a warning: the program still starts
BINARY = "<binary>"  # DynamicBinding.*_real of the file that ran
VDSO = "<vdso>"  # DynamicBinding.*_real of the kernel's vDSO (linux-vdso.so.1): no file, in no sysroot
VDSO_NAMES = ("linux-vdso.so.1", "linux-gate.so.1", "linux-vdso64.so.1", "linux-vdso32.so.1")
FATAL_KINDS = (LIBRARY_NOT_FOUND, VERSION_NOT_FOUND, SYMBOL_LOOKUP, UNLOADABLE, INTERPRETER_MISSING, LOADER_FAILURE)


@dataclass(frozen=True)
class QemuInfo:
    binary: str  # qemu-aarch64
    path: str  # /usr/bin/qemu-aarch64
    version: str  # "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"


@dataclass(frozen=True)
class LoaderMessage:
    """One line of the loader (or of qemu loading the program) about why it cannot go on."""

    kind: str  # one of the kinds above
    text: str  # the line as printed
    library: str | None = None  # the library it names (as printed)
    symbol: str | None = None
    version: str | None = None
    requester: str | None = None  # the object that needs it (as printed)

    @property
    def fatal(self) -> bool:
        return self.kind in FATAL_KINDS


@dataclass(frozen=True)
class DynamicBinding:
    """One line of ``LD_DEBUG=bindings``: REQUESTER's reference to SYMBOL bound to PROVIDER.

    ``*_real`` are the same objects as paths inside the sysroot with its links followed
    (what resolve's ``Library.real_path`` is), ``"<binary>"`` for the file that ran, ``"<vdso>"``
    for the kernel's vDSO, or None
    for a file the loader read from outside the sysroot (qemu's fallback to the host's file
    when the sysroot has none at that path; the host's default folders natively)."""

    requester: str
    provider: str
    symbol: str
    version: str | None
    requester_real: str | None
    provider_real: str | None


@dataclass(frozen=True)
class GoTestCase:
    """One Go test (or subtest) of a test binary, from Go's test events (go tool test2json)."""

    package: str
    name: str  # TestFoo, TestFoo/sub
    status: str  # pass | fail | skip
    seconds: float
    output: str  # what it printed (capped)


@dataclass(frozen=True)
class ProgramRun:
    file: str  # the binary or library that ran (host path)
    mode: str  # qemu | native | trace
    argv: tuple[str, ...]  # the whole command line as it ran
    args: tuple[str, ...]  # the program's own arguments
    env: tuple[tuple[str, str], ...]  # the program's whole environment (an allowlist, recorded)
    cwd: str
    sysroot: str
    loader: str | None  # the loader that ran it (guest path; None for a static binary)
    qemu: QemuInfo | None  # None when it ran natively
    returncode: int | None  # exit status; None when it was not run or a signal ended it
    signal: str | None  # "SIGSEGV"; "SIGKILL" when cgocheck stopped it
    timed_out: bool
    timeout: float
    output_capped: bool
    output_limit: int  # bytes
    output_bytes: int  # everything it wrote until it ended or was stopped
    seconds: float
    stdout_tail: str
    stderr_tail: str
    loader_messages: tuple[LoaderMessage, ...]
    started: bool  # the loader got as far as running the program (or, traced, binding the library)
    ran: bool = True  # False: not run at all (notes say why; the loader's verdict was certain)
    bindings: tuple[DynamicBinding, ...] | None = None  # --bindings; None: not asked or not available
    tests: tuple[GoTestCase, ...] = ()  # cgocheck test: the test binary's Go tests
    test_package: str | None = None  # cgocheck test: the package the test binary is for
    strays: int = 0  # processes it left behind that cgocheck stopped
    notes: tuple[str, ...] = ()

    @property
    def fatal_messages(self) -> tuple[LoaderMessage, ...]:
        return tuple(m for m in self.loader_messages if m.fatal)
