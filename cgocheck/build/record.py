"""Build provenance: what a hermetic build really used, from the build's own traces.

Sources, each recorded with where it came from:
- the CC/CXX wrapper's log (``<work>/cc/<pid>.args``): every compiler and linker call that
  ran, including the external link Go's linker runs itself (``go build -x`` never shows it);
- ``go build -x``'s output: the go tool's steps (cgo, compile, link, pack);
- ``go list``: each cgo package's ``#cgo`` flags and pkg-config modules, also for packages
  Go took from its cache (whose compiler calls did not run this time);
- the environment the build got (CGO_CFLAGS, CGO_LDFLAGS);
- the pkg-config trace (``cgocheck.build.pkgconfig_trace``);
- the DWARF of the result: the producer of each C unit and every file it read.

Prebuilt objects (.a/.o/.syso) are read in ``cgocheck.build.prebuilt``.

Every path found is classified (``classify_path``): the sysroot, the cross toolchain's own
folders, Go's work or GOROOT, the user's source, or the build host. Parsing lives here;
judging lives in ``cgocheck.checks.provenance`` (pure).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cgocheck.build.modules import ModuleSetup
from cgocheck.core import files
from cgocheck.core.hostdirs import HOME_PREFIXES, LOCAL_PREFIXES, TEMP_PREFIXES, host_triplets
from cgocheck.core.lazyre import lazy
from cgocheck.core.pathnames import within

if TYPE_CHECKING:
    from cgocheck.elf.model import DwarfUnit

# Path classes
SYSROOT = "sysroot"
TOOLCHAIN = "toolchain"
GO = "go"
WORK = "work"
SOURCE = "source"
HOST = "host"
SYSTEM = "system"  # /usr/include etc. in a native build without a sysroot
OTHER = "other"

INCLUDE_FLAGS = ("-I", "-isystem", "-iquote", "-idirafter", "-include", "-imacros")


@dataclass(frozen=True)
class CompilerCall:
    """One call of CC/CXX that the wrapper saw."""

    kind: str  # "compile" | "link" | "probe"
    cwd: str
    argv: tuple[str, ...]
    final_link: bool = False  # the link of the output binary (Go's go.o + C objects)


@dataclass(frozen=True)
class PathUse:
    """A folder or file the build used: an include or library path, a header, a library."""

    flag: str  # "-I", "-isystem", "-L", "--sysroot", "-rpath", "library", "header", ...
    path: str
    klass: str  # sysroot | toolchain | go | work | source | system | host | other
    reason: str | None
    sources: tuple[str, ...]  # where it was seen: "cc compile", "CGO_CFLAGS", "pkg-config zlib", "DWARF x.c"


@dataclass(frozen=True)
class CUnit:
    """A C/C++ compile unit of the result, from DWARF."""

    name: str
    language: str
    producer: str | None
    compiler: str  # "GNU" | "clang" | "zig" | "unknown"
    version: str | None
    flags: tuple[str, ...]
    comp_dir: str | None
    origin: str  # "user" (the built packages) | "go" (GOROOT) | "prebuilt" (an object from elsewhere)


@dataclass(frozen=True)
class CgoPackage:
    """A package of the build that carries C code (cgo, C/C++ files, .syso), from go list."""

    import_path: str
    dir: str
    pkg_config: tuple[str, ...]
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    std: bool
    module: str | None = None  # path@version of the module it belongs to (None: the main module or std)
    c_files: tuple[str, ...] = ()  # its .c, .cc/.cpp and .syso files

    @property
    def origin(self) -> str:
        return f"{self.import_path} (module {self.module})" if self.module else self.import_path


@dataclass(frozen=True)
class PkgConfigModule:
    """One module pkg-config answered for, and how it compares with the sysroot and host."""

    module: str
    version: str | None
    pc_path: str | None
    in_sysroot: bool | None
    klass: str
    cflags: str
    libs: str
    replayed: bool  # the package came from Go's cache: cgocheck asked pkg-config itself, same env
    sysroot_pc: str | None = None
    sysroot_version: str | None = None
    host_pc: str | None = None
    host_version: str | None = None
    env: tuple[tuple[str, str], ...] = ()

    @property
    def drift(self) -> str | None:
        if self.sysroot_version and self.host_version and self.sysroot_version != self.host_version:
            return f"sysroot {self.sysroot_version} vs host {self.host_version}"
        return None


@dataclass(frozen=True)
class PrebuiltObject:
    """An ELF object the build links that no compiler call of this build made (.a member, .o,
    .syso); read by cgocheck.build.prebuilt."""

    path: str
    member: str | None
    machine_code: int
    elf_class: int
    endian: str
    flags: int
    source: str  # "link" | "syso in <package>" | "#cgo LDFLAGS in <package>"
    vfp_args: str | None = None  # ARM: Tag_ABI_VFP_args of the object (.ARM.attributes)
    cpu_arch: str | None = None  # ARM: Tag_CPU_arch
    machine: str = ""  # e_machine by name: "AArch64", "x86-64", "ARM"
    float_abi: str = ""  # ARM "hard"/"soft" (e_flags, else Tag_ABI_VFP_args), RISC-V "double"...; "" unknown
    producer: tuple[str, ...] = ()  # its .comment: "GCC: (Debian 12.2.0-14) 12.2.0"
    libc: str | None = None  # "glibc" | "musl" where its symbols or DWARF file names show it
    libc_evidence: tuple[str, ...] = ()  # the symbols or header names that show it


@dataclass(frozen=True)
class PrebuiltFile:
    """One prebuilt file the link takes: an ar archive (its ELF members in BuildRecord.prebuilt)
    or an object, where it came from, and what could not be read of it."""

    path: str
    source: str  # how the build named it: "link", "#cgo LDFLAGS in <package>", "syso in <package>"
    kind: str  # "archive" | "object" | "other" (not ELF) | "unreadable"
    origin: str  # module | vendor | dependency | sysroot | host | toolchain | go | work | other
    origin_detail: str  # "module example.com/x@v1.2.0", "vendor/", a host folder's reason ...
    members: int  # ELF objects in it (1 for an object)
    other_members: int  # members that are no ELF object (LLVM bitcode, text ...)
    problem: str | None = None  # one line: what made the reading stop or skip a part


@dataclass(frozen=True)
class HeaderOrigin:
    """One folder of libc or libstdc++ headers the C code read."""

    library: str  # "glibc" | "libstdc++"
    folder: str  # the include folder (features.h's, or libstdc++'s c++/<v>)
    version: str | None  # "2.36", "12"
    klass: str  # sysroot | toolchain | host | ... (cgocheck.build.record.classify_path)
    sysroot_version: str | None  # the sysroot's own release of the same library
    headers: tuple[str, ...]  # a few of the headers read from there
    units: int  # how many C units read them


@dataclass(frozen=True)
class BuildRecord:
    """Everything cgocheck knows about one hermetic build."""

    package: str
    source_dir: str
    output: str
    go_version: str
    goroot: str
    compiler: str  # preset name
    cc: str | None  # the real compiler CC ran (not the wrapper)
    cc_machine: str | None  # `$CC $CGO_CFLAGS -dumpmachine`
    expect_producer: str | None
    sysroot: str | None
    glibc_floor: str | None
    target: str
    env: tuple[tuple[str, str], ...]  # every variable the build got, in order
    extra_env: tuple[tuple[str, str], ...]  # the explicit additions among them (--env)
    unset: tuple[str, ...]
    argv: tuple[str, ...]  # go build ... (the command after `env -i VAR=...`)
    go_flags: tuple[str, ...]
    returncode: int
    seconds: float
    log_tail: str
    link_mode: str  # "external" | "internal" | "unknown"
    calls: tuple[CompilerCall, ...]
    cgo_packages: tuple[CgoPackage, ...]
    pkgconfig: tuple[PkgConfigModule, ...]
    paths: tuple[PathUse, ...]
    c_units: tuple[CUnit, ...]
    linker_warnings: tuple[str, ...]
    prebuilt: tuple[PrebuiltObject, ...]  # every ELF object of the prebuilt files, archive members each
    work_dir: str | None  # kept (--keep) or None
    notes: tuple[str, ...] = field(default=())
    timed_out: bool = False  # stopped at the timeout (with its whole process group)
    modules: ModuleSetup = field(default_factory=lambda: ModuleSetup("none"))  # how dependencies were got
    headers: tuple[HeaderOrigin, ...] = ()  # the libc and libstdc++ include folders the C code read
    binaries: tuple[str, ...] = ()  # what the build wrote (several for a pattern)
    prebuilt_files: tuple[PrebuiltFile, ...] = ()  # the files of ``prebuilt``, one per archive or object

    @property
    def ok(self) -> bool:
        return self.returncode == 0



# --- path classification -----------------------------------------------------------------


@dataclass(frozen=True)
class PathContext:
    target_triplet: str
    sysroot: str | None = None
    goroot: str | None = None
    source_dirs: tuple[str, ...] = ()
    work_dirs: tuple[str, ...] = ()
    toolchain_dirs: tuple[str, ...] = ()

    @property
    def native(self) -> bool:
        return self.target_triplet in host_triplets()


def _under(p: str, top: str) -> bool:
    return within(p, top)


def toolchain_dirs_for(triplet: str, cc: str | None = None) -> tuple[str, ...]:
    """Folders a cross toolchain legitimately reads: its tooldir, its GCC/clang internals."""
    dirs = [
        f"/usr/{triplet}",
        f"/usr/lib/gcc-cross/{triplet}",
        f"/usr/lib/gcc/{triplet}",
        f"/usr/libexec/gcc-cross/{triplet}",
        f"/usr/libexec/gcc/{triplet}",
        "/usr/lib/llvm-",  # prefix: /usr/lib/llvm-14/lib/clang/14/include
        "/usr/lib/clang",
        "/usr/share/gcc",
    ]
    try:
        import importlib.util

        spec = importlib.util.find_spec("ziglang")
        if spec is not None and spec.submodule_search_locations:
            dirs += list(spec.submodule_search_locations)
    except (ImportError, ValueError):
        pass
    from cgocheck.core import folders

    dirs.append(str(folders.home() / "zig-cache"))
    return tuple(dirs)


def classify_path(path: str, ctx: PathContext) -> tuple[str, str | None]:
    """(class, reason) of a path the build used. Reason is set for HOST only."""
    if not path.startswith("/"):
        return OTHER, None
    p = posixpath.normpath(path)
    if ctx.sysroot and _under(p, ctx.sysroot):
        return SYSROOT, None
    if p.startswith("/tmp/go-build") or p.startswith("/tmp/go-link") or any(_under(p, w) for w in ctx.work_dirs):
        return WORK, None
    if p.startswith("/_/GOROOT") or (ctx.goroot and _under(p, ctx.goroot)):
        return GO, None
    if any(_under(p, s) for s in ctx.source_dirs):
        return SOURCE, None
    for t in ctx.toolchain_dirs:
        if (t.endswith("-") and p.startswith(t)) or _under(p, t):
            return TOOLCHAIN, None
    for trip in host_triplets():
        if trip != ctx.target_triplet and (f"/{trip}/" in p + "/"):
            return HOST, f"the build host's multiarch folder ({trip})"
    if (p + "/").startswith(LOCAL_PREFIXES):
        return HOST, "/usr/local on the build host"
    if (p + "/").startswith(HOME_PREFIXES):
        return HOST, "a home folder on the build host"
    if (p + "/").startswith(TEMP_PREFIXES):
        return HOST, "a temporary folder on the build host"
    system = ("/usr/include", "/usr/lib", "/lib", "/usr/lib64", "/lib64", "/usr/lib32", "/lib32")
    if any(_under(p, s) for s in system):
        if ctx.native and not ctx.sysroot:
            return SYSTEM, None
        if ctx.native:
            return HOST, f"the build host's system folder, outside the sysroot {ctx.sysroot}"
        return HOST, "the build host's system folder (a cross build must not read it)"
    return OTHER, None


# --- flags -----------------------------------------------------------------------------------


def split_flags(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def path_flags(argv: Iterable[str]) -> list[tuple[str, str]]:
    """(flag, path) for every include/library/sysroot/rpath path and library file in argv."""
    out: list[tuple[str, str]] = []
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        took = False
        for flag in ("-isystem", "-iquote", "-idirafter", "-I", "-L", "-B"):
            if a == flag and nxt is not None:
                out.append((flag, nxt))
                i += 1
                took = True
                break
            if a.startswith(flag) and len(a) > len(flag) and not a.startswith("-iprefix"):
                out.append((flag, a[len(flag) :]))
                took = True
                break
        if not took:
            if a.startswith("--sysroot="):
                out.append(("--sysroot", a.split("=", 1)[1]))
            elif a == "--sysroot" and nxt is not None:
                out.append(("--sysroot", nxt))
                i += 1
            elif a.startswith("-Wl,") or a.startswith("-Xlinker"):
                parts = a[4:].split(",") if a.startswith("-Wl,") else ([nxt] if nxt else [])
                j = 0
                while j < len(parts):
                    w = parts[j]
                    name, _, value = w.partition("=")
                    canon = _RPATH_WORDS.get(name)
                    if canon and value:
                        out.append((canon, value))
                    elif canon and j + 1 < len(parts):
                        out.append((canon, parts[j + 1]))
                        j += 1
                    elif w.startswith("-L"):
                        out.append(("-L", w[2:]))
                    j += 1
                if a.startswith("-Xlinker"):
                    i += 1
            elif a.startswith("/") and re.search(r"\.(a|so(\.\d+)*|o|syso)$", a):
                out.append(("library", a))
        i += 1
    return [(f, p) for f, p in out if p]


_RPATH_WORDS = {
    "-rpath": "-rpath",
    "--rpath": "-rpath",
    "-R": "-rpath",
    "-rpath-link": "-rpath-link",
    "--rpath-link": "-rpath-link",
}


def call_kind(argv: tuple[str, ...]) -> str:
    probes = ("-E", "-dM", "--version", "-v", "-###", "-dumpmachine", "-dumpversion", "-print-libgcc-file-name")
    if any(a in probes or a.startswith("-print-") for a in argv):
        return "probe"
    if "-c" in argv:
        return "compile"
    if "-o" in argv:
        return "link"
    return "probe"


def read_cc_calls(trace_dir: Path) -> list[CompilerCall]:
    """The wrapper's records, oldest first."""
    d = trace_dir / "cc"
    if not d.is_dir():
        return []
    records = sorted(d.glob("*.args"), key=lambda f: (f.stat().st_mtime_ns, f.name))
    calls = []
    for f in records:
        try:
            parts = files.read_bytes(f, files.CC_ARGS).decode("utf-8", "replace").split("\0")
        except files.FileProblem:
            continue
        if parts and parts[-1] == "":
            parts.pop()
        if not parts:
            continue
        cwd, argv = parts[0], tuple(parts[1:])
        kind = call_kind(argv)
        final = kind == "link" and any(a.endswith("/go.o") for a in argv)
        calls.append(CompilerCall(kind, cwd, argv, final))
    return calls


_LINKER_WARNING = lazy(r"warning: Using '(\w+)' in statically linked applications requires at runtime")


def linker_warnings(log: str) -> tuple[str, ...]:
    """Lines where the linker warns (glibc's static NSS warning among them)."""
    out = []
    for line in log.splitlines():
        if "warning:" in line and ("ld" in line.split("warning:")[0] or _LINKER_WARNING().search(line)):
            out.append(line.strip()[:400])
    return tuple(dict.fromkeys(out))


def static_nss_functions(warnings: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(1) for w in warnings if (m := _LINKER_WARNING().search(w))))


# --- DWARF units ------------------------------------------------------------------------------

_GNU = lazy(r"^GNU (?:C|C\+\+|C\d+|C\+\+\d+|Assembler|AS)\S*\s+(\d+[\d.]*)")
_CLANG = lazy(r"clang version (\d+[\d.]*)")


def producer_identity(
    producer: str | None, zig_clang: str | None = None
) -> tuple[str, str | None, tuple[str, ...]]:
    """('GNU'|'clang'|'zig'|'unknown', version, flags) from DW_AT_producer.

    ZIG_CLANG is the first line of `zig cc --version` when the build used zig: a producer
    that starts with it is zig's clang even when it does not say "zig" (newer zig).
    """
    if not producer:
        return "unknown", None, ()
    words = producer.split()
    flags = tuple(w for w in words if w.startswith("-"))
    m = _GNU().match(producer)
    if m or producer.startswith("GNU "):
        return "GNU", m.group(1) if m else None, flags
    m = _CLANG().search(producer)
    if m:
        ours = bool(zig_clang) and producer.startswith(str(zig_clang).split(" (")[0])
        kind = "zig" if "zig" in producer.lower() or ours else "clang"
        return kind, m.group(1), flags
    return "unknown", None, flags


_COMMENT_CLANG = lazy(r"clang version (\d+(?:\.\d+)*)")
_COMMENT_GCC = lazy(r"^GCC: \([^)]*\) (\d+(?:\.\d+)*)")


def comment_identity(comment: Iterable[str]) -> tuple[str, str | None] | None:
    """("GNU"|"clang"|"zig", version) of an object from its .comment strings, or None when they
    name no compiler (an assembler-only object, or .comment stripped)."""
    comment = tuple(comment)
    for c in comment:
        m = _COMMENT_CLANG().search(c)
        if m:
            return ("zig" if "zig" in c.lower() else "clang"), m.group(1)
    for c in comment:
        m = _COMMENT_GCC().match(c)
        if m:
            return "GNU", m.group(1)
    return None


def c_units(
    units: Iterable[DwarfUnit], zig_clang: str | None = None, source_dirs: Iterable[str] = ()
) -> list[CUnit]:
    """The C/C++ units of the result: "user" when the build compiled them (cgo's generated
    files in Go's work folder, or .c/.cc files of a package it built), "go" for runtime/cgo,
    "prebuilt" for objects it took from elsewhere."""
    sources = tuple(source_dirs)
    out = []
    for u in units:
        if u.language not in ("C", "C++"):
            continue
        who, version, flags = producer_identity(u.producer, zig_clang)
        cd = u.comp_dir or ""
        if cd.startswith("/_/GOROOT") or "/src/runtime/cgo" in cd:
            origin = "go"
        elif cd.startswith("/tmp/go-build") or cd.startswith("$WORK") or any(_under(cd, d) for d in sources):
            origin = "user"
        else:
            origin = "prebuilt"
        out.append(CUnit(u.name, u.language, u.producer, who, version, flags, u.comp_dir, origin))
    return out


# --- putting it together --------------------------------------------------------------------


class PathCollector:
    def __init__(self, ctx: PathContext) -> None:
        self.ctx = ctx
        self.items: dict[tuple[str, str], list[str]] = {}

    def add(self, flag: str, path: str, source: str) -> None:
        if not path:
            return
        key = (flag, posixpath.normpath(path) if path.startswith("/") else path)
        srcs = self.items.setdefault(key, [])
        if source not in srcs and len(srcs) < 8:
            srcs.append(source)

    def add_flags(self, argv: Iterable[str], source: str, cwd: str | None = None) -> None:
        for flag, p in path_flags(argv):
            if cwd and not p.startswith("/") and flag != "library":
                p = posixpath.join(cwd, p)
            self.add(flag, p, source)

    def result(self) -> tuple[PathUse, ...]:
        out = []
        for (flag, p), srcs in self.items.items():
            klass, reason = classify_path(p, self.ctx)
            if klass == WORK and flag == "library":
                continue  # the build's own objects: noise
            out.append(PathUse(flag, p, klass, reason, tuple(srcs)))
        return tuple(out)


def collect_paths(
    ctx: PathContext,
    *,
    env: Mapping[str, str],
    calls: Iterable[CompilerCall],
    cgo_packages: Iterable[CgoPackage],
    pkgconfig: Iterable[PkgConfigModule],
    units: Iterable[DwarfUnit],
    diagnostics: Iterable[str] = (),
) -> tuple[PathUse, ...]:
    col = PathCollector(ctx)
    for var in ("CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS"):
        if env.get(var):
            col.add_flags(split_flags(env[var]), var)
    for call in calls:
        if call.kind == "probe":
            continue
        col.add_flags(call.argv, "final link" if call.final_link else f"cc {call.kind}", call.cwd)
    for pkg in cgo_packages:
        if pkg.std:
            continue
        col.add_flags(pkg.cflags, f"#cgo CFLAGS in {pkg.import_path}", pkg.dir)
        col.add_flags(pkg.ldflags, f"#cgo LDFLAGS in {pkg.import_path}", pkg.dir)
    for m in pkgconfig:
        col.add_flags(split_flags(m.cflags), f"pkg-config {m.module}")
        col.add_flags(split_flags(m.libs), f"pkg-config {m.module}")
    for u in units:
        if u.language not in ("C", "C++"):
            continue
        for f in u.files:
            if f.endswith("<built-in>") or not f.startswith("/"):
                continue
            col.add("header" if f != posixpath.join(u.comp_dir or "", u.name) else "source", f, f"DWARF {u.name}")
    for f in diagnostics:
        col.add("header", f, "the compiler's messages")
    return col.result()


_DIAG_HEADER = lazy(r"(?:^|\s)(/[^\s:,'\"]+\.(?:h|hh|hpp|hxx|inc|tcc|def))(?::\d+)", re.M)
MAX_DIAG_HEADERS = 200


def diagnostic_headers(log: str) -> tuple[str, ...]:
    """Headers the compiler names in its messages ("In file included from /usr/include/zlib.h:34",
    "/usr/include/unistd.h:371:16: error"): what a failed build read, when no DWARF says it."""
    out: dict[str, None] = {}
    for m in _DIAG_HEADER().finditer(log):
        out[posixpath.normpath(m.group(1))] = None
        if len(out) >= MAX_DIAG_HEADERS:
            break
    return tuple(out)
