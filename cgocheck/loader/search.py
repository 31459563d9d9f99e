"""The loader's library search, as glibc's and musl's ld.so do it, inside a sysroot: the
loader first, then DT_NEEDED breadth-first, each name through DT_RPATH (and its
inheritance), DT_RUNPATH, ld.so.conf and the loader's built-in folders, with $ORIGIN,
$LIB and $PLATFORM expanded and wrong-architecture candidates skipped as the loader skips
them (see cgocheck.loader.resolve for the whole model)."""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cgocheck.core.errors import BadInput
from cgocheck.core.lazyre import lazy
from cgocheck.core.targets import Arch, Target, all_arches
from cgocheck.elf import read_shared_object, sniff
from cgocheck.elf.decode import EF_ARM_ABI_FLOAT_HARD, EF_ARM_ABI_FLOAT_SOFT, EF_RISCV_FLOAT_ABI
from cgocheck.elf.header import (
    EHDR_SIZE,
    ELF_MAGIC,
    EM_ARM,
    EM_RISCV,
    ET_DYN,
    ET_EXEC,
    HeaderError,
    machine_name,
    parse_header,
    parse_ident,
)
from cgocheck.elf.model import DynamicSymbol, ElfHeader, SharedObjectFacts
from cgocheck.loader.index import LibraryIndex
from cgocheck.loader.ldconf import musl_path_file, read_ld_so_conf, read_musl_path
from cgocheck.loader.model import (
    VIA_DEFAULT,
    VIA_LDCONF,
    VIA_LOADER,
    VIA_PATH,
    VIA_RPATH,
    VIA_RUNPATH,
    Candidate,
    MissingLibrary,
    SearchStep,
)
from cgocheck.sysroot.fsroot import FsRoot, SymlinkLoop

MAX_LOADER_SCAN = 4 << 20  # bytes of ld.so searched for its built-in folders (ld.so: ~250 KiB, ~2 MiB unstripped)
MAX_LIBRARY_BYTES = 4 << 30  # larger than this is not a library we read
SPARSE_CHECK_BYTES = 64 << 20  # above this size a mostly unallocated file is refused
MAX_OBJECTS = 2000  # a closure larger than this is hostile
MAX_HWCAPS = 64  # glibc-hwcaps subfolders looked at per library folder

# Symbol types and bindings ld.so accepts as definitions (do_lookup_x).
OK_TYPES = {"NOTYPE", "OBJECT", "FUNC", "COMMON", "TLS", "IFUNC"}
OK_BINDS = {"GLOBAL", "WEAK", "GNU_UNIQUE"}
# Defined by the linker in every executable; a library defining one is not interposition.
LINKER_SYMBOLS = {
    "_init",
    "_fini",
    "_edata",
    "_end",
    "__bss_start",
    "__data_start",
    "data_start",
    "_IO_stdin_used",
    "__dso_handle",
    "_DYNAMIC",
    "_GLOBAL_OFFSET_TABLE_",
}
# AT_PLATFORM, where the kernel gives one value whatever the CPU.
_PLATFORM = {62: "x86_64", 183: "aarch64", 3: "i686"}
# musl's LDSO_ARCH per target triplet prefix (the name in ld-musl-<arch>.so.1).


# --- the loader's built-in folders ------------------------------------------------------

_PIECE = rb"/[\x21-\x7e]{1,200}/\x00"
# 2 to 16 whole strings, or 1 to 15 after a string ending in '/' (whose tail may be the first)
_DIR_PIECE = lazy(rb"(?<=\x00)(?:" + _PIECE + rb"){2,16}|(?<=/\x00)(?:" + _PIECE + rb"){1,15}")
_PRINTABLE = bytes(range(0x21, 0x7F))
MAX_BUILTIN_DIRS = 16


def builtin_dirs(data: bytes) -> list[str] | None:
    """The folders ld.so searches last (glibc's SYSTEM_DIRS), read from its bytes: the first
    run of 2 to 16 NUL-terminated strings ``/.../`` (each 3 to 202 printable bytes, the first
    possibly the tail of a longer string) of which one names a ``lib`` folder.

    Linear in the data: whole strings are matched by a regex that only starts right after a
    NUL and cannot backtrack past one, and a first string's tail is read from the bytes
    before the match. (A regex over ``(?:/[!-~]{1,200}/\\0){2,16}`` said the same, but
    backtracked for minutes on a loader with 16 MiB of ``/`` appended.)
    """
    pos = 0
    consumed = -1  # where the last match ended: its bytes are no one's tail
    while (m := _DIR_PIECE().search(data, pos)) is not None:
        run = m.group(0)
        if b"lib" not in run and b"lib" not in data[max(0, m.start() - 203) : m.start()] and run.count(0) < 16:
            pos = consumed = m.end()  # no lib folder in it or its tail: the common case, quickly
            continue
        pieces = run.split(b"\x00")[:-1]
        elems, end = pieces, m.end()
        if m.start() != consumed:
            nul = m.start() - 1  # the NUL that ends the string before the match
            lo = max(data.rfind(b"\x00", max(0, nul - 203), nul) + 1, nul - 202)
            before = data[lo:nul]
            tail = before[len(before.rstrip(_PRINTABLE)) :]  # its printable end
            start = tail.find(b"/")
            if start >= 0 and len(tail) - start >= 3 and tail.endswith(b"/"):
                elems = [tail[start:], *pieces][:MAX_BUILTIN_DIRS]
                end = m.start() + sum(len(x) + 1 for x in elems[1:])
        if len(elems) >= 2 and any(b"lib" in d for d in elems):
            return [d.decode() for d in elems]
        pos = consumed = end
    return None


# --- ELF identification (the loader's open_verify) -----------------------------------


@dataclass(frozen=True)
class _Ref:
    """What the loader accepts: its own class, byte order, machine and float ABI."""

    elf_class: int
    endian: str
    machine_code: int
    flags: int

    @classmethod
    def of(cls, h: ElfHeader) -> _Ref:
        return cls(h.elf_class, h.endian, h.machine_code, h.flags)


def verify_ident(head: bytes, ref: _Ref) -> tuple[str, str]:
    """('ok'|'skip'|'fatal', reason) for a file's first bytes, in open_verify's order; the
    bytes are decoded by the shared bounded header reader (cgocheck.elf.header)."""
    if len(head) >= 4 and head[:4] != ELF_MAGIC:
        what = sniff(head) or "not an ELF file"
        return "fatal", f"invalid ELF header ({what})"
    if len(head) < 52:
        return "fatal", f"file too short ({len(head)} bytes)"
    ident = parse_ident(head)
    cls = ident.elf_class
    if cls is None:
        return "fatal", f"invalid ELF class byte {ident.ei_class}"
    if cls != ref.elf_class:
        return "skip", f"ELFCLASS{cls} (wrong ELF class; the loader is {ref.elf_class}-bit)"
    if len(head) < EHDR_SIZE[cls]:
        return "fatal", f"file too short ({len(head)} bytes)"
    if ident.endian != ref.endian:
        return "fatal", f"ELF file data encoding not {ref.endian}-endian"
    if ident.ei_version != 1:
        return "fatal", "ELF file version ident does not match current one"
    osabi = ident.ei_osabi
    if osabi not in (0, 3) and not (ref.machine_code == EM_ARM and osabi in (64, 97)):
        return "fatal", f"ELF file OS ABI invalid ({osabi})"
    try:
        h = parse_header(head)
    except HeaderError as err:  # not reached: class, data and length were checked above
        return "fatal", err.reason
    e_type, e_machine, e_flags = h.e_type, h.e_machine, h.e_flags
    if h.e_version != 1:
        return "fatal", "ELF file version does not match current one"
    if e_machine != ref.machine_code:
        return "skip", f"built for {machine_name(e_machine)}, the loader is {machine_name(ref.machine_code)}"
    if e_machine == EM_ARM and h.arm_eabi == 5:
        if ref.flags & EF_ARM_ABI_FLOAT_HARD and e_flags & EF_ARM_ABI_FLOAT_SOFT:
            return "skip", "soft-float ARM (EF_ARM_ABI_FLOAT_SOFT), the loader is hard-float"
        if ref.flags & EF_ARM_ABI_FLOAT_SOFT and e_flags & EF_ARM_ABI_FLOAT_HARD:
            return "skip", "hard-float ARM (EF_ARM_ABI_FLOAT_HARD), the loader is soft-float"
    if e_machine == EM_RISCV and (e_flags & EF_RISCV_FLOAT_ABI) != (ref.flags & EF_RISCV_FLOAT_ABI):
        names = {0: "soft", 2: "single", 4: "double", 6: "quad"}
        return "skip", (
            f"RISC-V {names[e_flags & EF_RISCV_FLOAT_ABI]}-float ABI, "
            f"the loader is {names[ref.flags & EF_RISCV_FLOAT_ABI]}-float"
        )
    if e_type == ET_EXEC:
        return "fatal", "cannot dynamically load executable (ET_EXEC)"
    if e_type != ET_DYN:
        return "fatal", f"only ET_DYN and ET_EXEC can be loaded (e_type {e_type})"
    if h.e_phentsize != h.phentsize_expected:
        return "fatal", "ELF file's phentsize not the expected size"
    return "ok", ""


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (the real loader would block reading it)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


# --- the loader's model ---------------------------------------------------------------


@dataclass
class LoadedObject:
    facts: SharedObjectFacts
    name: str
    path: str  # guest path as opened (exe: install dir + basename, or the host path)
    real: str
    names: set[str]
    origin: str | None
    parent: LoadedObject | None  # l_loader: the object whose DT_NEEDED loaded it
    found_via: str
    search_dir: str | None = None
    source: str | None = None
    ident: tuple[int, int] | None = None
    is_main: bool = False
    is_rtld: bool = False
    in_scope: bool = False
    skipped: list[Candidate] = field(default_factory=list)
    needed_by: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _defs: dict[str, list[DynamicSymbol]] | None = None

    @property
    def has_versym(self) -> bool:
        return bool(self.facts.verdef or self.facts.verneed)

    def defs(self) -> dict[str, list[DynamicSymbol]]:
        if self._defs is None:
            self._defs = _definitions(self.facts)
        return self._defs

    def label(self) -> str:
        return self.name


_DEFS: dict[int, tuple[SharedObjectFacts, dict[str, list[DynamicSymbol]]]] = {}
MAX_DEFS_CACHED = 512


def _definitions(facts: SharedObjectFacts) -> dict[str, list[DynamicSymbol]]:
    """The definitions ld.so would bind to, by name. Kept per facts object: a library's facts
    come from the index's memo, the same object for every file resolved in one process, so
    libc's table of 3000 names is built once, not once per file (the table is read only)."""
    hit = _DEFS.get(id(facts))
    if hit is not None and hit[0] is facts:
        return hit[1]
    table: dict[str, list[DynamicSymbol]] = {}
    for s in facts.defined:
        if s.binding in OK_BINDS and s.sym_type in OK_TYPES:
            table.setdefault(s.name, []).append(s)
    if len(_DEFS) >= MAX_DEFS_CACHED:
        _DEFS.clear()
    _DEFS[id(facts)] = (facts, table)
    return table


_UNKNOWN_ORIGIN = "$ORIGIN of the executable is unknown (it lies outside the sysroot; pass --install-dir)"


class _Drop(Exception):
    """A dynamic string token with no known value: the path element is dropped."""


_DST = lazy(r"\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))")


@dataclass
class _Probe:
    verdict: str  # absent | skip | fatal | ok
    candidate: Candidate | None = None
    real: str | None = None
    host: str | None = None
    ident: tuple[int, int] | None = None
    notes: tuple[str, ...] = ()
    stat: os.stat_result | None = None  # of the file as opened: the index entry's key


def _arch_for(h: ElfHeader, target: Target | None) -> Arch | None:
    if target is not None and target.arch.machine_code == h.machine_code and target.arch.elf_class == h.elf_class:
        return target.arch
    rows = [
        a
        for a in all_arches()
        if a.machine_code == h.machine_code and a.elf_class == h.elf_class and a.endian == h.endian
    ]
    for a in rows:
        if not a.float_abi or not h.float_abi or a.float_abi == h.float_abi:
            return a
    return rows[0] if rows else None


class Resolver:
    def __init__(
        self,
        root: FsRoot,
        exe: SharedObjectFacts,
        *,
        interpreter: str | None,
        exe_path: str,
        install_dir: str | None,
        target: Target | None,
        index: LibraryIndex | None = None,
    ) -> None:
        self.root = root
        self.index = index
        self.exe = exe
        self.interpreter = interpreter
        self.target = target
        self.arch = _arch_for(exe.header, target)
        self.notes: list[str] = []
        self.setup_notes: list[str] = []
        self.loaded: list[LoadedObject] = []
        self.scope: list[LoadedObject] = []
        self.missing: dict[str, MissingLibrary] = {}
        self.missing_needed_by: dict[str, list[str]] = {}
        self.loader_problem: MissingLibrary | None = None
        self.rtld: LoadedObject | None = None
        self._loader_bytes: bytes | None = None  # read once (the built-in folders and $LIB look at it)
        self.ref = _Ref.of(exe.header)
        self.install_dir = install_dir
        self.flavour = "glibc"
        base = posixpath.basename(exe_path) or "a.out"
        guest_exe = posixpath.join(install_dir, base) if install_dir else exe_path
        self.main = LoadedObject(
            facts=exe,
            name=exe_path,
            path=guest_exe,
            real=guest_exe,
            names={exe.soname} if exe.soname else set(),
            origin=install_dir,
            parent=None,
            found_via="main",
            is_main=True,
        )
        self.conf_dirs: tuple[str, ...] = ()
        self.conf_files: tuple[str, ...] = ()
        self.default_dirs: tuple[str, ...] = ()
        self.default_source = ""
        self.lib_value = "lib"
        self.platform: str | None = None

    # -- files --

    def probe(self, guest: str) -> _Probe:
        """Open a candidate as open_verify does: absent, skipped, fatal or usable."""
        try:
            r = self.root.resolve(guest)
        except SymlinkLoop:
            return _Probe("fatal", Candidate(guest, "too many levels of symbolic links (a link loop)", True))
        except BadInput as err:
            return _Probe("fatal", Candidate(guest, err.message, True))
        if r is None:
            return _Probe("absent")
        try:
            st = os.lstat(r.host)
        except FileNotFoundError:
            return _Probe("absent")
        except OSError as exc:
            return _Probe("fatal", Candidate(guest, f"cannot stat: {exc.strerror}", True))
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _FILE_KINDS if test(st.st_mode)), "not a regular file")
            return _Probe("fatal", Candidate(guest, kind, True))
        try:
            _, f = self.root.open_regular(guest)
        except FileNotFoundError:
            return _Probe("absent")
        except PermissionError:
            return _Probe("skip", Candidate(guest, "permission denied", False))
        except BadInput as err:
            return _Probe("fatal", Candidate(guest, err.message, True))
        except OSError as exc:
            return _Probe("fatal", Candidate(guest, f"cannot open: {exc.strerror or exc}", True))
        with f:
            fst = os.fstat(f.fileno())
            head = f.read(64)
        verdict, reason = verify_ident(head, self.ref)
        if verdict != "ok":
            fatal = verdict == "fatal" or self.flavour == "musl"  # musl stops at any file it can open
            return _Probe("fatal" if fatal else "skip", Candidate(guest, reason, fatal))
        size = fst.st_size
        if size > MAX_LIBRARY_BYTES:
            return _Probe("fatal", Candidate(guest, f"{size} bytes: too large to be a library, not read", True))
        allocated = getattr(fst, "st_blocks", size // 512 + 1) * 512
        if size > SPARSE_CHECK_BYTES and allocated < size // 2:
            return _Probe(
                "fatal", Candidate(guest, f"a sparse file ({size} bytes, {allocated} allocated): not read", True)
            )
        return _Probe("ok", real=r.guest, host=str(r.host), ident=(fst.st_dev, fst.st_ino), notes=r.notes, stat=fst)

    def read(self, probe: _Probe, guest: str) -> SharedObjectFacts | Candidate:
        """The library's facts: from the sysroot's library index when its entry matches the
        file opened (cgocheck.loader.index), else read from the file (and indexed)."""
        assert probe.host is not None
        try:
            if self.index is not None and probe.stat is not None and probe.real is not None:
                return self.index.facts(probe.host, probe.real, probe.stat, guest, read=read_shared_object)
            return read_shared_object(probe.host, display_path=guest)
        except BadInput as err:
            msg = err.message
            if msg.startswith(guest + ": "):
                msg = msg[len(guest) + 2 :]
            return Candidate(guest, msg, True)

    # -- setup: loader, default folders, ld.so.conf --

    def setup(self) -> None:
        interp = self.interpreter
        if interp is None and self.arch is not None and self.exe.needed:
            # A shared library given on its own: the target's loader would be running.
            libc = self.target.libc if self.target else "glibc"
            interp = self.arch.loaders[libc]
            self.setup_notes.append(f"no PT_INTERP (a shared library): assumed the {libc} loader {interp}")
            self.interpreter = interp
        if interp and posixpath.basename(interp).startswith("ld-musl-"):
            self.flavour = "musl"
        if interp:
            self.load_loader(interp)
        if self.rtld is not None:
            self.ref = _Ref.of(self.rtld.facts.header)
        triplet = self.triplet()
        if self.flavour == "musl":
            arch = posixpath.basename(interp or "").removeprefix("ld-musl-").split(".so", 1)[0]
            path_file = musl_path_file(interp or "/lib/x", arch)
            conf = read_musl_path(self.root, path_file)
            self.default_dirs = conf.dirs
            self.default_source = path_file if conf.present else "musl's built-in default"
            self.setup_notes.extend(conf.notes)
            return
        conf = read_ld_so_conf(self.root)
        self.conf_dirs = conf.dirs
        self.conf_files = conf.files
        self.setup_notes.extend(conf.notes)
        if not conf.present:
            self.setup_notes.append("no /etc/ld.so.conf in the sysroot: the cache stage adds no folders")
        self.default_dirs, self.default_source = self.loader_dirs(triplet)
        self.lib_value = self.dst_lib(triplet)
        self.platform = _PLATFORM.get(self.ref.machine_code)
        if self.platform is None:
            self.setup_notes.append(
                f"$PLATFORM (AT_PLATFORM) depends on the {machine_name(self.ref.machine_code)} CPU or is not set: "
                "path elements using it are not searched"
            )
        for extra, what in (
            (
                "/etc/ld.so.cache",
                "the target's loader reads its cache; resolve uses ld.so.conf, which a stale cache may not match",
            ),
            ("/etc/ld.so.preload", "the real loader would preload the libraries it lists; not modelled"),
        ):
            try:
                if self.root.exists(extra):
                    self.notes.append(f"the sysroot has {extra}: {what}")
            except BadInput as err:
                self.notes.append(f"{extra}: {err.message}")

    def triplet(self) -> str | None:
        if self.arch is None:
            return None
        return self.arch.triplets["musl" if self.flavour == "musl" else "glibc"]

    def loader_bytes(self) -> bytes:
        if self._loader_bytes is not None:
            return self._loader_bytes
        data = b""
        if self.rtld is not None:
            try:
                _, f = self.root.open_regular(self.rtld.real)
                with f:
                    data = f.read(MAX_LOADER_SCAN)
            except (OSError, BadInput):
                data = b""
        self._loader_bytes = data
        return data

    def loader_dirs(self, triplet: str | None) -> tuple[tuple[str, ...], str]:
        dirs = builtin_dirs(self.loader_bytes())
        if dirs is not None:
            return tuple(d.rstrip("/") or "/" for d in dirs), f"built into {self.rtld.path if self.rtld else 'ld.so'}"
        try:
            multiarch = triplet is not None and any(
                self.root.is_dir(d) for d in (f"/lib/{triplet}", f"/usr/lib/{triplet}")
            )
        except BadInput:
            multiarch = False
        if multiarch and triplet:
            return (f"/lib/{triplet}", f"/usr/lib/{triplet}", "/lib", "/usr/lib"), "assumed (Debian multiarch layout)"
        if self.ref.elf_class == 64:
            return ("/lib64", "/usr/lib64"), "assumed (64-bit lib64 layout)"
        return ("/lib", "/usr/lib"), "assumed (lib layout)"

    def dst_lib(self, triplet: str | None) -> str:
        if triplet and b"\x00lib/" + triplet.encode() + b"\x00" in self.loader_bytes():
            return f"lib/{triplet}"
        if triplet and self.default_dirs[:1] == (f"/lib/{triplet}",):
            return f"lib/{triplet}"
        return "lib64" if "/lib64" in self.default_dirs else "lib"

    def load_loader(self, interp: str) -> None:
        if not interp.startswith("/"):
            self.setup_notes.append(f"PT_INTERP {interp} is relative (to the working directory): looked up from /")
        guest = posixpath.join("/", interp)
        probe = self.probe(guest)
        if probe.verdict == "ok":
            got = self.read(probe, guest)
            if isinstance(got, SharedObjectFacts):
                # The loader is checked against the executable; everything else against the loader.
                obj = LoadedObject(
                    facts=got,
                    name=interp,
                    path=interp,
                    real=probe.real or guest,
                    names={interp, guest, *([got.soname] if got.soname else [])},
                    origin=posixpath.dirname(guest),
                    parent=None,
                    found_via=VIA_LOADER,
                    ident=probe.ident,
                    is_rtld=True,
                    notes=list(probe.notes),
                )
                self.rtld = obj
                self.loaded.append(obj)
                return
            probe = _Probe("fatal", got)
        cands: tuple[Candidate, ...] = ()
        if probe.verdict == "absent":
            problem, detail = "not-found", "not in the sysroot (the kernel cannot start the program)"
        else:
            assert probe.candidate is not None
            cands = (probe.candidate,)
            problem = "wrong-architecture" if not probe.candidate.fatal else "unloadable"
            detail = probe.candidate.reason
        self.loader_problem = MissingLibrary(interp, (self.main.name,), problem, detail, cands, ())

    # -- search --

    def expand(self, text: str, obj: LoadedObject) -> str:
        def sub(m: re.Match[str]) -> str:
            token = m.group(1) or m.group(2)
            if token == "ORIGIN":
                if obj.origin is None:
                    raise _Drop(_UNKNOWN_ORIGIN)
                return obj.origin
            if token == "LIB":
                return self.lib_value
            if self.platform is None:
                raise _Drop("$PLATFORM has no certain value on this target")
            return self.platform

        if "$" not in text:
            return text
        if self.flavour == "musl":
            # musl substitutes $ORIGIN only; any other '$' disables the whole run path.
            if re.sub(r"\$(\{ORIGIN\}|ORIGIN)", "", text).count("$"):
                raise _Drop("musl only knows $ORIGIN: this run path is not used")
            if obj.origin is None:
                raise _Drop(_UNKNOWN_ORIGIN)
            return re.sub(r"\$(\{ORIGIN\}|ORIGIN)", obj.origin.replace("\\", "\\\\"), text)
        return _DST().sub(sub, text)

    def path_list(self, elements: Iterable[str], obj: LoadedObject, rule: str) -> Iterator[SearchStep]:
        for el in elements:
            try:
                d = self.expand(el, obj)
            except _Drop as why:
                note = f"{rule.upper()} {el} of {obj.label()}: {why}"
                if note not in self.notes:
                    self.notes.append(note)
                continue
            if not d.startswith("/"):
                note = f"{rule.upper()} {el} of {obj.label()} is relative to the working directory: not searched"
                if note not in self.notes:
                    self.notes.append(note)
                continue
            # ld.so keeps the folder as written ("/opt/app/bin/../lib"): '..' is resolved by
            # the kernel (FsRoot here) against the real folders, not lexically.
            yield SearchStep(d.rstrip("/") or "/", rule, obj.label())

    def search_steps(self, requester: LoadedObject) -> list[SearchStep]:
        steps: list[SearchStep] = []
        if self.flavour == "musl":
            p: LoadedObject | None = requester
            while p is not None:
                steps += self.path_list(
                    p.facts.runpath or p.facts.rpath, p, VIA_RPATH if not p.facts.runpath else VIA_RUNPATH
                )
                p = p.parent
            steps += [SearchStep(d, VIA_DEFAULT) for d in self.default_dirs]
            return steps
        if not requester.facts.runpath:
            did_main = False
            p = requester
            while p is not None:
                if not p.facts.runpath:  # an object's DT_RPATH is ignored when it has DT_RUNPATH
                    steps += self.path_list(p.facts.rpath, p, VIA_RPATH)
                did_main |= p.is_main
                p = p.parent
            if not did_main and not self.main.facts.runpath:
                steps += self.path_list(self.main.facts.rpath, self.main, VIA_RPATH)
        steps += self.path_list(requester.facts.runpath, requester, VIA_RUNPATH)
        steps += [SearchStep(d, VIA_LDCONF) for d in self.conf_dirs]
        steps += [SearchStep(d, VIA_DEFAULT) for d in self.default_dirs]
        return steps

    def match_loaded(self, name: str) -> LoadedObject | None:
        for obj in self.loaded:
            if name in obj.names:
                return obj
        return None

    def musl_builtin(self, name: str) -> bool:
        if not name.startswith("lib") or "." not in name:
            return False
        stem = name[3 : name.index(".")]
        return stem in ("c", "pthread", "rt", "m", "dl", "util", "xnet")

    def map_object(self, name: str, requester: LoadedObject) -> LoadedObject | None:
        if self.flavour == "musl" and self.rtld is not None and self.musl_builtin(name):
            self.rtld.names.add(name)
            return self.rtld
        hit = self.match_loaded(name)
        if hit is not None:
            return hit
        if name in self.missing:
            self.missing_needed_by[name].append(requester.label())
            return None
        if "/" in name:
            try:
                path = self.expand(name, requester)
            except _Drop as why:
                self.record_missing(name, requester, "unloadable", f"cannot load: {why}", [], [])
                return None
            if not path.startswith("/"):
                self.notes.append(f"DT_NEEDED {name} is relative to the working directory: looked up from /")
                path = "/" + path
            return self.try_open(
                [SearchStep(posixpath.dirname(path), VIA_PATH)], posixpath.basename(path), name, requester
            )
        steps = self.search_steps(requester)
        return self.try_open(steps, name, name, requester)

    def try_open(
        self, steps: list[SearchStep], filename: str, name: str, requester: LoadedObject
    ) -> LoadedObject | None:
        skipped: list[Candidate] = []
        tried: set[str] = set()
        for step in steps:
            guest = posixpath.join(step.dir, filename)
            if guest in tried:
                continue
            tried.add(guest)
            probe = self.probe(guest)
            if probe.verdict == "absent":
                continue
            if probe.verdict == "skip":
                assert probe.candidate is not None
                skipped.append(probe.candidate)
                continue
            if probe.verdict == "ok":
                same = next((o for o in self.loaded if o.ident is not None and o.ident == probe.ident), None)
                if same is not None:
                    same.names.add(name)
                    return same
                got = self.read(probe, guest)
                if isinstance(got, SharedObjectFacts):
                    obj = LoadedObject(
                        facts=got,
                        name=name,
                        path=guest,
                        real=probe.real or guest,
                        names={name, guest, *([got.soname] if got.soname else [])},
                        origin=posixpath.dirname(guest),
                        parent=requester,
                        found_via=step.rule,
                        search_dir=step.dir,
                        source=step.source,
                        ident=probe.ident,
                        skipped=skipped,
                        notes=list(probe.notes),
                    )
                    self.loaded.append(obj)
                    if self.flavour == "glibc":
                        self.hwcap_notes(obj, step.dir, filename)
                    return obj
                probe = _Probe("fatal", got)
            assert probe.candidate is not None
            skipped.append(probe.candidate)
            self.record_missing(name, requester, "unloadable", probe.candidate.reason, skipped, steps)
            return None
        if skipped:
            reasons = "; ".join(f"{c.path}: {c.reason}" for c in skipped[:4])
            self.record_missing(
                name, requester, "wrong-architecture", f"only unusable candidates: {reasons}", skipped, steps
            )
        else:
            self.record_missing(name, requester, "not-found", "not found in any searched folder", skipped, steps)
        return None

    def hwcap_notes(self, obj: LoadedObject, folder: str, filename: str) -> None:
        try:
            subs = [f"{folder}/tls"] + [
                # glibc knows a handful (x86-64-v2..v4, power9/10, z13..z16): more is not a hwcaps folder
                f"{folder}/glibc-hwcaps/{d}" for d in self.root.listdir(f"{folder}/glibc-hwcaps", limit=MAX_HWCAPS)
            ]
            for sub in subs:
                if self.root.exists(f"{sub}/{filename}"):
                    obj.notes.append(f"a CPU-specific variant {sub}/{filename} exists: the real loader may prefer it")
        except BadInput as err:
            obj.notes.append(f"{folder}: {err.message}")

    def record_missing(
        self,
        name: str,
        requester: LoadedObject,
        problem: str,
        detail: str,
        cands: list[Candidate],
        steps: list[SearchStep],
    ) -> None:
        uniq: list[SearchStep] = []
        for s in steps:
            if all(s.dir != u.dir for u in uniq):
                uniq.append(s)
        self.missing_needed_by[name] = [requester.label()]
        self.missing[name] = MissingLibrary(name, (), problem, detail, tuple(cands), tuple(uniq))

    # -- the walk --

    def load_all(self) -> None:
        self.loaded.insert(0, self.main)
        self.main.in_scope = True
        self.scope = [self.main]
        i = 0
        while i < len(self.scope):
            obj = self.scope[i]
            i += 1
            for name in obj.facts.needed:
                dep = self.map_object(name, obj)
                if dep is None:
                    continue
                if obj.label() not in dep.needed_by:
                    dep.needed_by.append(obj.label())
                if not dep.in_scope:
                    dep.in_scope = True
                    self.scope.append(dep)
                    if len(self.scope) > MAX_OBJECTS:
                        raise BadInput(f"more than {MAX_OBJECTS} libraries in the closure of {self.main.name}")

    # -- symbols --

    def lookup(self, sym: DynamicSymbol, skip_main: bool) -> tuple[LoadedObject, DynamicSymbol] | None:
        for obj in self.scope:
            if skip_main and obj.is_main:
                continue
            defs = obj.defs().get(sym.name)
            if not defs:
                continue
            hit = self.match_def(sym.version, defs, obj)
            if hit is not None:
                return obj, hit
        return None

    def match_def(self, version: str | None, defs: list[DynamicSymbol], obj: LoadedObject) -> DynamicSymbol | None:
        if self.flavour == "musl":
            # musl ignores version names but never binds to a non-default (hidden) version.
            return next((d for d in defs if not d.hidden), None)
        if not obj.has_versym:
            return defs[0]
        verdef = obj.facts.verdef
        if version is not None:
            for d in defs:
                if d.version == version:
                    return d
            for d in defs:
                # VER_NDX_GLOBAL in an object without version definitions has no hash: accepted.
                if d.version is None and not verdef and not d.hidden:
                    return d
            return None
        for d in defs:
            if d.version is None or (verdef and d.version == verdef[0]):
                return d
        visible = [d for d in defs if not d.hidden]
        return visible[0] if len(visible) == 1 else None


