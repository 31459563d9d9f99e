"""Prebuilt objects: every .a, .o and .syso the link takes that no compiler call of this
build made, read per file (an archive is one file, its members counted).

For each ELF member: machine (by name), class, byte order, float ABI (ARM: e_flags, else
Tag_ABI_VFP_args of .ARM.attributes, whose absence in an object that uses floating point
means the base, soft-float, procedure call standard, as GNU ld judges it; RISC-V: e_flags),
Tag_CPU_arch, the producer (.comment), the C library it was compiled against where that
shows (undefined symbols only one libc's headers make, the DWARF file names of a libc's
own headers), and where the file came from (the module, vendor/, a module dependency, the
sysroot, the host: :func:`cgocheck.build.record.classify_path`).

Archives can be hostile. The ar reader here is bounded: at most :data:`MAX_MEMBERS`
members, :data:`MAX_MEMBER` bytes read of one and :data:`MAX_ARCHIVE_READ` of all of them;
a member whose declared size runs past the file, a damaged header or a long-name
reference outside the name table ends the reading with one problem line, kept with the
file (:attr:`PrebuiltFile.problem`); GNU (``//``, ``/N``) and BSD (``#1/N``) long names,
the ``/`` and ``/SYM64/`` symbol tables and BSD's ``__.SYMDEF`` are understood. Members are
decoded with the bounded ELF readers (:mod:`cgocheck.elf.header`, :mod:`cgocheck.elf.layout`,
:mod:`cgocheck.elf.armattr`), never by running a tool. Judging is in
:mod:`cgocheck.checks.compiler` (pure).
"""

from __future__ import annotations

import dataclasses
import io
import os
import posixpath
import re
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from cgocheck.build.record import (
    HOST,
    SOURCE,
    CgoPackage,
    CompilerCall,
    CUnit,
    PathContext,
    PrebuiltFile,
    PrebuiltObject,
    classify_path,
    path_flags,
)
from cgocheck.core.pathnames import within
from cgocheck.elf import armattr
from cgocheck.elf.header import EM_ARM, EM_RISCV, HeaderError, machine_name, parse_header
from cgocheck.elf.layout import SHT_SYMTAB, Budget, Damaged, Layout
from cgocheck.elf.text import decode

AR_MAGIC = b"!<arch>\n"
THIN_MAGIC = b"!<thin>\n"
AR_HEADER = 60
MAX_MEMBERS = 4096  # members of one archive looked at (real ones: a few hundred)
MAX_MEMBER = 64 << 20  # bytes of one member read (more: its header only)
MAX_ARCHIVE_READ = 512 << 20  # bytes of all members of one archive read
MAX_NAMES = 16 << 20  # bytes of the GNU long-name table
MAX_BSD_NAME = 4096  # bytes of a BSD #1/N name
MAX_COMMENT = 64 << 10  # bytes of one member's .comment
MAX_SYMBOLS = 1 << 16  # symbols of one member's .symtab
MAX_SYMTAB = 16 << 20  # bytes of .symtab and of its string table
MAX_DEBUG_NAMES = 8 << 20  # bytes of .debug_line/.debug_line_str/.debug_str searched for file names
MAX_FILES = 256  # prebuilt files read for one build


# --- libc flavour hints ----------------------------------------------------------------------

# Undefined symbols that only one C library's headers produce in the code compiled against them.
_GLIBC_SYMBOLS = re.compile(
    r"^(__isoc99_\w+|__isoc23_\w+|__ctype_(b|tolower|toupper)_loc|__(f|l)?xstat(at)?(64)?|__xmknod(at)?|"
    r"gnu_get_libc_(version|release)|__libc_single_threaded|__\w+_chk|__open(64)?_2|__sched_cpucount|"
    r"__cxa_thread_atexit_impl)$"
)
_NOT_LIBC_SPECIFIC = {"__stack_chk_fail", "__stack_chk_guard", "__stack_chk_fail_local"}
# musl 1.2's 32-bit time64 redirections are __<name>_time64 (__stat_time64, __gettimeofday_time64);
# glibc's spell the 64 first (__stat64_time64, __fstatat64_time64) or have no suffix (__clock_gettime64).
_MUSL_TIME64 = re.compile(r"^__\w+_time64$")
_GLIBC_TIME64 = re.compile(r"64_time64$")
# File names only one libc's headers have, as DWARF line tables (and their string sections) name them.
# (the name a line table has, the header it is): DWARF 5 keeps the folder apart from the name.
_MUSL_FILES = {b"alltypes.h": "bits/alltypes.h"}
_GLIBC_FILES = {b"libc-header-start.h": "bits/libc-header-start.h", b"stubs.h": "gnu/stubs.h",
                b"struct_FILE.h": "bits/types/struct_FILE.h", b"__FILE.h": "bits/types/__FILE.h",
                b"__mbstate_t.h": "bits/types/__mbstate_t.h", b"__sigset_t.h": "bits/types/__sigset_t.h",
                b"__locale_t.h": "bits/types/__locale_t.h", b"struct_timespec.h": "bits/types/struct_timespec.h"}


def libc_from_symbols(undefined: Iterable[str]) -> tuple[str | None, tuple[str, ...]]:
    """("glibc"|"musl"|None, what says so) from a member's undefined symbols."""
    glibc: list[str] = []
    musl: list[str] = []
    for s in undefined:
        if s in _NOT_LIBC_SPECIFIC:
            continue
        if _GLIBC_TIME64.search(s) or _GLIBC_SYMBOLS.match(s):
            glibc.append(s)
        elif _MUSL_TIME64.match(s):
            musl.append(s)
    if musl and not glibc:
        return "musl", tuple(f"undefined {s}" for s in musl[:4])
    if glibc and not musl:
        return "glibc", tuple(f"undefined {s}" for s in glibc[:4])
    return None, ()


def libc_from_debug_names(blobs: Iterable[bytes]) -> tuple[str | None, tuple[str, ...]]:
    """("glibc"|"musl"|None, the header names that say so) from DWARF string bytes."""
    musl: list[str] = []
    glibc: list[str] = []
    for b in blobs:
        musl += [h for n, h in _MUSL_FILES.items() if b"\0" + n in b or b"/" + n in b]
        glibc += [h for n, h in _GLIBC_FILES.items() if b"\0" + n in b or b"/" + n in b]
    musl, glibc = list(dict.fromkeys(musl)), list(dict.fromkeys(glibc))
    if musl and not glibc:
        return "musl", tuple(f"its DWARF names {h}" for h in musl[:3])
    if glibc and not musl:
        return "glibc", tuple(f"its DWARF names {h}" for h in glibc[:3])
    return None, ()


# --- one ELF object ---------------------------------------------------------------------------


def _comment(layout: Layout) -> tuple[str, ...]:
    sec = layout.section(".comment")
    if sec is None or not sec.has_data:
        return ()
    out: dict[str, None] = {}
    for part in bytes(layout.data(sec, limit=MAX_COMMENT)).split(b"\0"):
        text = decode(part).strip()
        if text:
            out.setdefault(text)
        if len(out) >= 8:
            break
    return tuple(out)


def _undefined(layout: Layout) -> list[str]:
    """Names of the undefined global symbols of .symtab (bounded)."""
    sec = layout.of_type(SHT_SYMTAB)
    if sec is None or not sec.has_data:
        return []
    strtab = layout.linked(sec)
    if strtab is None or not strtab.has_data:
        return []
    names = bytes(layout.data(strtab, limit=MAX_SYMTAB))
    size = 24 if layout.is64 else 16
    data = bytes(layout.data(sec, limit=min(MAX_SYMTAB, MAX_SYMBOLS * size)))
    fmt = struct.Struct(layout.order + ("IBBHQQ" if layout.is64 else "IIIBBH"))
    out: list[str] = []
    for i in range(len(data) // size):
        if layout.is64:
            name, info, _other, shndx, _v, _s = fmt.unpack_from(data, i * size)
        else:
            name, _v, _s, info, _other, shndx = fmt.unpack_from(data, i * size)
        if shndx != 0 or name == 0 or (info >> 4) not in (1, 2):  # SHN_UNDEF, STB_GLOBAL/STB_WEAK
            continue
        end = names.find(b"\0", name, name + 512)
        if end > name:
            out.append(decode(names[name:end]))
    return out


def _debug_names(layout: Layout) -> list[bytes]:
    budget = Budget(MAX_DEBUG_NAMES * 3, "the debug sections searched")
    out = []
    for name in (".debug_line_str", ".debug_line", ".debug_str"):
        sec = layout.section(name) or layout.section(".zdebug" + name[6:])
        if sec is not None and sec.has_data:
            try:
                out.append(bytes(layout.data(sec, limit=MAX_DEBUG_NAMES, budget=budget)))
            except Damaged:
                continue
    return out


def _arm_float(layout: Layout, flags_abi: str) -> tuple[str, str | None, str | None]:
    """(float ABI, Tag_ABI_VFP_args, Tag_CPU_arch) of an ARM object."""
    notes: list[str] = []
    attrs = armattr.read(layout, notes)
    if attrs is None:
        return flags_abi, None, None
    fa = flags_abi
    if not fa:
        raw = dict(attrs.raw)
        uses_fp = raw.get("Tag_ABI_FP_NUMBER_MODEL", "0") != "0"
        if attrs.vfp_args == "VFP registers":
            fa = "hard"
        elif attrs.vfp_args == "AAPCS (base)" or (attrs.vfp_args is None and uses_fp):
            fa = "soft"  # the attribute's default is the base standard: what GNU ld takes it for
    return fa, attrs.vfp_args, attrs.cpu_arch


def object_facts(data: bytes, path: str, member: str | None, source: str) -> tuple[PrebuiltObject | None, str | None]:
    """The facts of one ELF object held in memory (its first bytes at least), and a problem
    line when only part of it could be read. (None, None) when it is not ELF."""
    try:
        ehdr = parse_header(data[:64])
    except HeaderError:
        return None, None
    base = PrebuiltObject(
        path=path, member=member, machine_code=ehdr.e_machine, elf_class=ehdr.elf_class, endian=ehdr.endian,
        flags=ehdr.e_flags, source=source, machine=machine_name(ehdr.e_machine),
        float_abi=ehdr.float_abi if ehdr.e_machine in (EM_ARM, EM_RISCV) else "",
    )
    try:
        layout = Layout(io.BytesIO(data), len(data))
        if layout.problems:
            return base, f"{member or path}: {layout.problems[0]}"
        vfp = cpu = None
        fa = base.float_abi
        if ehdr.e_machine == EM_ARM:
            fa, vfp, cpu = _arm_float(layout, fa)
        comment = _comment(layout)
        libc, evidence = libc_from_symbols(_undefined(layout))
        if libc is None:
            libc, evidence = libc_from_debug_names(_debug_names(layout))
    except (HeaderError, Damaged, ValueError, struct.error, IndexError) as err:
        return base, f"{member or path}: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
    obj = PrebuiltObject(
        path=path, member=member, machine_code=ehdr.e_machine, elf_class=ehdr.elf_class, endian=ehdr.endian,
        flags=ehdr.e_flags, source=source, vfp_args=vfp, cpu_arch=cpu, machine=base.machine, float_abi=fa,
        producer=comment, libc=libc, libc_evidence=evidence,
    )
    return obj, None


# --- ar archives ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArMember:
    name: str
    offset: int  # of its data
    size: int


@dataclass
class ArIndex:
    members: list[ArMember]
    problem: str | None = None
    symbol_tables: int = 0


def _size_field(raw: bytes) -> int | None:
    text = raw.decode("latin-1").strip()
    return int(text) if text.isdigit() and len(text) <= 10 else None


def ar_members(f: BinaryIO, file_size: int) -> ArIndex:
    """The members of an ar archive open at ``f`` (after nothing: the magic is read here)."""
    f.seek(0)
    if f.read(8) != AR_MAGIC:
        return ArIndex([], "not an ar archive (no !<arch> magic)")
    out = ArIndex([])
    names = b""
    pos = 8
    while pos < file_size:
        if pos + AR_HEADER > file_size:
            if file_size - pos == 1 and pos % 2:  # the last member's padding byte
                break
            out.problem = f"truncated: the member header at offset {pos} is cut off by the end of the archive"
            break
        f.seek(pos)
        hdr = f.read(AR_HEADER)
        if hdr[58:60] != b"`\n":
            out.problem = f"damaged: no member header at offset {pos}"
            break
        size = _size_field(hdr[48:58])
        if size is None:
            out.problem = f"damaged: the member header at offset {pos} has no decimal size"
            break
        start = pos + AR_HEADER
        if start + size > file_size:
            out.problem = (f"truncated: a member at offset {pos} declares {size} bytes, "
                           f"the archive holds {file_size - start} after its header")
            break
        raw = hdr[:16].decode("latin-1").rstrip(" ")
        name: str | None
        if raw in ("/", "/SYM64/", "__.SYMDEF", "__.SYMDEF SORTED", "__.SYMDEF_64", "__.SYMDEF_64 SORTED"):
            out.symbol_tables += 1
            name = None
        elif raw == "//":
            if size > MAX_NAMES:
                out.problem = f"refused: a long-name table of {size} bytes (more than {MAX_NAMES})"
                break
            names = f.read(size)
            name = None
        elif raw.startswith("/") and raw[1:].isdigit():
            o = int(raw[1:])
            if o >= len(names):
                out.problem = f"damaged: member name /{o} lies outside the long-name table ({len(names)} bytes)"
                break
            end = names.find(b"/\n", o)
            name = decode(names[o : end if end >= 0 else min(len(names), o + 4096)][:4096])
        elif raw.startswith("#1/") and raw[3:].isdigit():
            n = int(raw[3:])
            if n > MAX_BSD_NAME or n > size:
                out.problem = f"damaged: a BSD member name of {n} bytes at offset {pos}"
                break
            name = decode(f.read(n).rstrip(b"\0"))
            start, size = start + n, size - n
        else:
            name = raw[:-1] if raw.endswith("/") else raw
        if name is not None:
            if len(out.members) >= MAX_MEMBERS:
                out.problem = f"more than {MAX_MEMBERS} members; the first {MAX_MEMBERS} were read"
                break
            out.members.append(ArMember(name, start, size))
        pos = start + size
        pos += pos & 1
    return out


def _open_regular(path: str) -> tuple[BinaryIO | None, int, str | None]:
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, 0, f"cannot read: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        return None, 0, "not a regular file"
    try:
        return open(path, "rb"), st.st_size, None  # closed by the caller
    except OSError as exc:
        return None, 0, f"cannot read: {exc.strerror or exc}"


def read_prebuilt(path: str, source: str, origin: str = "other", origin_detail: str = "") -> tuple[
        PrebuiltFile, list[PrebuiltObject]]:
    """One prebuilt file (an object or an ar archive) and the facts of each ELF object in it.
    Whatever the file holds, this returns; damage is one line in ``PrebuiltFile.problem``."""
    objs: list[PrebuiltObject] = []
    problem: str | None = None
    other = 0
    kind = "object"
    f, size, why = _open_regular(path)
    if f is None:
        return PrebuiltFile(path, source, "unreadable", origin, origin_detail, 0, 0, why), objs
    with f:
        try:
            magic = f.read(8)
            if magic == THIN_MAGIC:
                kind, problem = "archive", "a thin archive: its members are other files, not read"
            elif magic == AR_MAGIC:
                kind = "archive"
                index = ar_members(f, size)
                problem = index.problem
                read = 0
                for m in index.members:
                    want = min(m.size, MAX_MEMBER)
                    if read + want > MAX_ARCHIVE_READ:
                        want = min(m.size, 64)
                    f.seek(m.offset)
                    data = f.read(want)
                    read += len(data)
                    obj, p = object_facts(data, path, m.name, source)
                    if want < m.size and obj is not None:
                        p = p or f"{m.name}: {m.size} bytes, only its ELF header was read"
                    if obj is None:
                        other += 1
                    else:
                        objs.append(obj)
                    problem = problem or p
            else:
                f.seek(0)
                data = f.read(MAX_MEMBER)
                obj, problem = object_facts(data, path, None, source)
                if obj is None:
                    kind, other = "other", 1
                else:
                    objs.append(obj)
                    if size > MAX_MEMBER:
                        problem = problem or f"{size} bytes, only the first {MAX_MEMBER} were read"
        except OSError as exc:
            problem = f"cannot read: {exc.strerror or exc}"
    return PrebuiltFile(path, source, kind, origin, origin_detail, len(objs), other, problem), objs


def mark_prebuilt_units(units: Iterable[CUnit], objs: Iterable[PrebuiltObject],
                        cgo_packages: Iterable[CgoPackage]) -> tuple[CUnit, ...]:
    """The C units, those of prebuilt members marked "prebuilt": a unit the build did not
    compile (its source is no file of a cgo package, and not cgo's own in Go's work folder)
    whose source's stem is a member's (parse.c in libx.a(parse.o)). A member compiled in the
    module's folder has a comp_dir there, which alone makes its unit look like the build's."""
    stems = {posixpath.splitext(o.member)[0] for o in objs if o.member}
    own = {posixpath.basename(f) for p in cgo_packages for f in p.c_files}
    out = []
    for u in units:
        name = posixpath.basename(u.name)
        if (u.origin == "user" and posixpath.splitext(name)[0] in stems and name not in own
                and not u.name.startswith(("/tmp/go-build", "$WORK"))):
            u = dataclasses.replace(u, origin="prebuilt")
        out.append(u)
    return tuple(out)


# --- which files, and where they came from ---------------------------------------------------


def origin_of(path: str, ctx: PathContext, main_dir: str, cgo_packages: Iterable[CgoPackage]) -> tuple[str, str]:
    """(origin, detail) of a prebuilt file: module | vendor | dependency | sysroot | host |
    toolchain | go | work | other, and what names it (the module, the host folder's reason)."""
    klass, reason = classify_path(path, ctx)
    if klass == SOURCE:
        pkgs = [p for p in cgo_packages if not p.std and within(path, p.dir)]
        best = max(pkgs, key=lambda p: len(p.dir), default=None)
        if main_dir and within(path, posixpath.join(main_dir, "vendor")):
            return "vendor", f"vendor/ ({best.module})" if best and best.module else "vendor/"
        if best is not None and best.module:
            return "dependency", f"module {best.module}"
        return "module", f"the module ({best.import_path})" if best else "the module"
    if klass == HOST:
        return "host", reason or "the build host"
    return klass, klass


def find_prebuilt(
    calls: Iterable[CompilerCall],
    cgo_packages: Iterable[CgoPackage],
    syso: Iterable[tuple[str, str]],
    ctx: PathContext | None = None,
    main_dir: str = "",
) -> tuple[tuple[PrebuiltFile, ...], tuple[PrebuiltObject, ...]]:
    """Files the link takes from outside this build: archives and objects named in link
    commands or #cgo LDFLAGS that no compiler call produced, and .syso files; each read."""
    calls = list(calls)
    pkgs = list(cgo_packages)
    produced = set()
    for c in calls:
        if "-o" in c.argv:
            i = c.argv.index("-o")
            if i + 1 < len(c.argv):
                produced.add(posixpath.normpath(posixpath.join(c.cwd, c.argv[i + 1])))
    wanted: dict[str, str] = {}
    for pkg in pkgs:  # first: the package that names a file is the better answer to "via what"
        if pkg.std:
            continue
        for flag, p in path_flags(pkg.ldflags):
            if flag == "library":
                wanted.setdefault(posixpath.normpath(p), f"#cgo LDFLAGS in {pkg.origin}")
    for c in calls:
        if c.kind != "link":
            continue
        for flag, p in path_flags(c.argv):
            if flag == "library" and not p.startswith(("/tmp/go-", "/_/")) and "/go-build" not in p:
                wanted.setdefault(posixpath.normpath(p), "link")
    for p, pkgname in syso:
        wanted.setdefault(posixpath.normpath(p), f"syso in {pkgname}")
    files: list[PrebuiltFile] = []
    objs: list[PrebuiltObject] = []
    for p, src in wanted.items():
        if p in produced or "/go-link-" in p:
            continue
        if p.endswith(".so") or re.search(r"\.so\.\d", p):
            continue
        if len(files) >= MAX_FILES:
            break
        origin, detail = origin_of(p, ctx, main_dir, pkgs) if ctx is not None else ("other", "")
        f, o = read_prebuilt(p, src, origin, detail)
        if f.kind == "unreadable" and f.problem and f.problem.startswith("cannot read"):
            continue  # named but absent (the linker says so): nothing the link took
        files.append(f)
        objs.extend(o)
    return tuple(files), tuple(objs)
