"""``cgocheck sysroot check``: is a folder fit to build and run against, before it counts?

The same check ends ``sysroot create`` (a failing sysroot is never marked complete) and runs
on any folder. What it proves, each for every instance in the tree:

- **links**: every symbolic link resolves inside the sysroot, to something that exists,
  without help: no absolute target and no ``..`` above the top anywhere on the way. A host
  compiler or linker follows links physically; a link that only works re-rooted leads it
  onto the host.
- **loaders**: for each target the sysroot claims (its recipe's, or what its libc's ELF
  header matches), the target's dynamic loader exists and is an ELF shared object for
  that machine, class, byte order and float ABI.
- **linker scripts**: the files ``libc.so``, ``libm.so``, ... name in ``GROUP``/``INPUT``/
  ``AS_NEEDED`` exist inside the sysroot (absolute names are taken inside it, as ld does for
  a script inside ``--sysroot``).
- **start files**: where a C library can be linked (``libc.a`` or a ``libc.so`` script),
  ``crt1.o``, ``crti.o``, ``crtn.o`` and ``Scrt1.o`` lie beside it.
- **pkg-config**: every ``.pc`` file parses, defines the variables it uses and has the
  ``Name``, ``Description`` and ``Version`` that pkg-config insists on.

Nothing outside the sysroot is read: every path goes through :class:`FsRoot`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cgocheck.core import files
from cgocheck.core.errors import BadInput, CgocheckError
from cgocheck.core.targets import Arch, all_arches
from cgocheck.elf import read_shared_object
from cgocheck.sysroot.fsroot import FsRoot, SymlinkLoop
from cgocheck.sysroot.meta import read_meta_json
from cgocheck.sysroot.pkgconfig import parse_pc

META_DIR = ".cgocheck"
MAX_ENTRIES = 200_000  # a Debian sysroot of 200 packages has ~60,000; more is refused, not walked
MAX_SCRIPT = 64 << 10  # a linker script is a few hundred bytes; libc.so is 300
MAX_PROBLEMS = 1000  # kept (and shown by --format json); the rest are counted
MAX_PC_FILES = 5000  # checked per sysroot (as cgocheck.sysroot.info reads at most)
CRT_FILES = ("crt1.o", "crti.o", "crtn.o", "Scrt1.o")
_SCRIPT_WORDS = re.compile(r"\b(GROUP|INPUT|AS_NEEDED)\s*\(")
_SCRIPT_TOKEN = re.compile(r"\b(?:GROUP|INPUT|AS_NEEDED)\s*\(|[()]|[^\s,()]+")
# possessive, and an unterminated comment ends at the end: one pass, whatever the text
_COMMENT = re.compile(r"/\*(?:[^*]++|\*(?!/))*+(?:\*/|\Z)")


@dataclass(frozen=True)
class Problem:
    kind: str  # link | loader | libc | ldscript | crt | pkgconfig | tree
    path: str  # guest path ("/usr/lib64/ld-linux-x86-64.so.2")
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "message": self.message}


@dataclass(frozen=True)
class CheckResult:
    path: str
    targets: tuple[str, ...]  # what the loaders were checked for
    counts: dict[str, int] = field(default_factory=dict)  # what was looked at, per kind
    problems: tuple[Problem, ...] = ()  # the first MAX_PROBLEMS
    left_out: int = 0  # problems past MAX_PROBLEMS, counted only

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total(self) -> int:
        return len(self.problems) + self.left_out

    def first(self) -> str:
        return str(self.problems[0]) if self.problems else ""

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "ok": self.ok,
            "targets": list(self.targets),
            "counts": dict(self.counts),
            "problems": [p.as_json() for p in self.problems],
            "problems_left_out": self.left_out,
        }


class _Problems(list[Problem]):
    """The problems found, the first MAX_PROBLEMS kept and the rest counted: a tree of a
    million dangling links is one verdict, not a million rows in memory and output."""

    def __init__(self) -> None:
        super().__init__()
        self.left_out = 0

    def append(self, p: Problem) -> None:
        if len(self) < MAX_PROBLEMS:
            super().append(p)
        else:
            self.left_out += 1

    def __iadd__(self, more: Iterable[Problem]) -> _Problems:  # type: ignore[override,misc]
        for p in more:
            self.append(p)
        return self


def _walk(root: FsRoot, problems: list[Problem]) -> Iterator[tuple[str, str]]:
    """(guest path, kind) of every entry under the top, links not followed, .cgocheck/ left
    out; kind is "link", "dir", "file" or "other" (from the folder listing: no stat per entry).
    At most MAX_ENTRIES entries: past them the tree is a problem, not walked further."""
    seen = 0
    top = str(root.top)
    stack = ["/"]
    while stack:
        guest_dir = stack.pop()
        host_dir = top + guest_dir.rstrip("/")
        entries: list[tuple[str, str]] = []
        try:
            with os.scandir(host_dir or "/") as it:  # bounded: a folder of millions is not listed whole
                for entry in it:
                    if entry.is_symlink():
                        kind = "link"
                    elif entry.is_dir(follow_symlinks=False):
                        kind = "dir"
                    elif entry.is_file(follow_symlinks=False):
                        kind = "file"
                    else:
                        kind = "other"
                    entries.append((entry.name, kind))
                    if seen + len(entries) > MAX_ENTRIES + 1:
                        break
        except OSError as exc:
            problems.append(Problem("tree", guest_dir, f"cannot list: {exc.strerror}"))
            continue
        entries.sort()
        for name, kind in entries:
            if guest_dir == "/" and name == META_DIR:
                continue
            seen += 1
            if seen > MAX_ENTRIES:
                problems.append(Problem("tree", "/", f"more than {MAX_ENTRIES} entries: not a sysroot"))
                return
            guest = f"{guest_dir.rstrip('/')}/{name}"
            yield guest, kind
            if kind == "dir":
                stack.append(guest)


RUNTIME_TOPS = frozenset({"proc", "sys", "dev", "run"})  # file systems mounted at run time, empty in an image


def _runtime_target(parent: str, target: str) -> bool:
    """Whether a link leads into a folder the running system mounts (/proc, /sys, /dev, /run),
    judged on the link's text alone: nothing is followed."""
    where = posixpath.normpath(target if target.startswith("/") else posixpath.join(parent, target))
    top = where.lstrip("/").split("/", 1)[0]
    return top in RUNTIME_TOPS


def _check_link(root: FsRoot, guest: str) -> Problem | None:
    target = os.readlink(str(root.top) + guest)
    # resolve where the link leads, from its folder (real: the walk came through it without
    # following links), as resolve(guest) would after reading the link: one readlink, not two
    parent = guest.rsplit("/", 1)[0] or "/"
    absolute = target.startswith("/")
    try:
        r = root.resolve(target if absolute else f"{parent.rstrip('/')}/{target}",
                         real_dir=None if absolute else parent)
    except SymlinkLoop:
        return Problem("link", guest, f"-> {target}: a symlink loop")
    if r is None:
        if _runtime_target(parent, target):
            return None  # /etc/mtab -> ../proc/self/mounts: filled by the kernel on the device
        return Problem("link", guest, f"-> {target}: dangles (nothing there inside the sysroot)")
    notes = [f"{guest} -> {target} (absolute, re-rooted)"] if absolute else list(r.notes)
    if notes:
        return Problem("link", guest, f"-> {target}: leads out of the sysroot when followed on the host ({notes[0]})")
    return None


def claimed_rows(root: FsRoot, libc: str | None, arch: str | None) -> list[tuple[Arch, str]]:
    """(target row, libc flavour) the sysroot claims to serve: from its recipe (Debian arch and
    libc) when given, else from the ELF header of the libc it holds."""
    if arch and libc:
        return [(a, libc) for a in all_arches() if a.debian_arch == arch]
    from cgocheck.sysroot.info import inspect_sysroot

    info = inspect_sysroot(root.top, allow_incomplete=True)
    if info.libc is None:
        return []
    return [(a, info.libc) for a in all_arches() if a.name in {t.removesuffix("/musl") for t in info.targets}]


def _check_loader(root: FsRoot, row: Arch, flavour: str) -> Problem | None:
    guest = row.loaders[flavour]
    name = row.name + ("/musl" if flavour == "musl" else "")
    try:
        r = root.resolve(guest)
    except SymlinkLoop:
        return Problem("loader", guest, f"the {name} loader is a symlink loop")
    if r is None or not r.host.is_file():
        return Problem("loader", guest, f"the {name} loader is missing")
    try:
        facts = read_shared_object(str(r.host), display_path=r.guest)
    except CgocheckError as exc:
        return Problem("loader", guest, f"the {name} loader is not a readable ELF file: {exc.message}")
    h = facts.header
    got = (h.machine_code, h.elf_class, h.endian)
    want = (row.machine_code, row.elf_class, row.endian)
    if got != want:
        return Problem(
            "loader", guest, f"the {name} loader is for {h.machine} {h.elf_class}-bit {h.endian}-endian, not {row.name}"
        )
    if row.float_abi and h.float_abi and row.float_abi != h.float_abi:
        return Problem(
            "loader", guest, f"the {name} loader is {h.float_abi}-float, {row.name} is {row.float_abi}-float"
        )
    if h.file_type not in ("shared", "pie"):
        return Problem("loader", guest, f"the {name} loader is an ELF {h.file_type}, not a shared object")
    return None


def _lib_dirs(rows: list[tuple[Arch, str]]) -> list[str]:
    dirs: list[str] = []
    for a, flavour in rows:
        t = a.triplets[flavour]
        dirs += [f"/usr/lib/{t}", f"/lib/{t}"]
    dirs += ["/usr/lib64", "/lib64", "/usr/lib", "/lib"]
    return list(dict.fromkeys(dirs))


def script_inputs(text: str) -> list[str] | None:
    """The file names a GNU ld script's GROUP/INPUT/AS_NEEDED lists name; None if not a script."""
    body = _COMMENT.sub(" ", text)
    if not _SCRIPT_WORDS.search(body):
        return None
    names: list[str] = []
    depth = 0  # inside GROUP( INPUT( AS_NEEDED( lists (and parentheses within them)
    for m in _SCRIPT_TOKEN.finditer(body):  # one pass: nesting is counted, never re-scanned
        t = m.group(0)
        if len(t) > 1 and t.endswith("("):
            depth += 1
        elif t == "(":
            depth += 1 if depth else 0
        elif t == ")":
            depth -= 1 if depth else 0
        elif depth:
            names.append(t)
    return list(dict.fromkeys(names))


def _read_small(root: FsRoot, guest: str, cap: int) -> bytes | None:
    try:
        _, f = root.open_regular(guest)
    except (OSError, BadInput):
        return None
    with f:
        return f.read(cap + 1)


def _check_script(root: FsRoot, guest: str, names: list[str], lib_dirs: list[str]) -> list[Problem]:
    out: list[Problem] = []
    here = str(PurePosixPath(guest).parent)
    for n in names:
        if n.startswith("-l"):
            lib = n[2:]
            cands = [f"{d}/lib{lib}{ext}" for d in [here, *lib_dirs] for ext in (".so", ".a")]
        elif n.startswith("/"):
            cands = [n]
        else:
            cands = [f"{d}/{n}" for d in [here, *lib_dirs]]
        try:
            if not any(root.is_file(c) for c in cands):
                out.append(Problem("ldscript", guest, f"names {n}, which is not in the sysroot"))
        except SymlinkLoop:
            out.append(Problem("ldscript", guest, f"names {n}, which is a symlink loop"))
    return out


def recorded_target(root: FsRoot) -> tuple[str | None, str | None]:
    """(Debian arch, libc) that cgocheck's creation recorded in ``.cgocheck/meta.json``, if any
    (read with no link followed: a ``.cgocheck`` link cannot lead anywhere)."""
    data = read_meta_json(root.top, "meta.json")
    arch, libc = data.get("arch"), data.get("libc")
    return (arch if isinstance(arch, str) else None), (libc if isinstance(libc, str) else None)


def check_sysroot(path: str | Path, *, arch: str | None = None, libc: str | None = None) -> CheckResult:
    """Check the folder at ``path``; ``arch`` (Debian) and ``libc`` say what it must serve
    (a recipe's), else what its creation recorded, else the libc it holds."""
    root = FsRoot(path)
    if arch is None or libc is None:
        arch, libc = recorded_target(root)
    problems = _Problems()
    counts = {"entries": 0, "links": 0, "loaders": 0, "ldscripts": 0, "crt": 0, "pkgconfig": 0}
    pc_files: list[str] = []
    for guest, kind in _walk(root, problems):
        counts["entries"] += 1
        if kind == "link":
            counts["links"] += 1
            p = _check_link(root, guest)
            if p:
                problems.append(p)
        elif guest.endswith(".pc") and "/pkgconfig/" in guest and kind == "file":
            pc_files.append(guest)

    rows = claimed_rows(root, libc, arch)
    if not rows:
        problems.append(Problem("libc", "/", "no C library found: the sysroot serves no target"))
    for row, flavour in rows:
        counts["loaders"] += 1
        p = _check_loader(root, row, flavour)
        if p:
            problems.append(p)

    lib_dirs = _lib_dirs(rows)
    seen_dirs: set[Path] = set()
    for d in lib_dirs:
        try:
            r = root.resolve(d)
        except SymlinkLoop:
            continue
        if r is None or not r.host.is_dir() or r.host in seen_dirs:
            continue
        seen_dirs.add(r.host)
        names = root.listdir(d)
        for n in names:
            if not n.endswith(".so"):
                continue
            data = _read_small(root, f"{d}/{n}", MAX_SCRIPT)
            if data is None or data.startswith(b"\x7fELF") or len(data) > MAX_SCRIPT:
                continue
            inputs = script_inputs(data.decode("utf-8", errors="replace"))
            if inputs is None:
                continue
            counts["ldscripts"] += 1
            problems += _check_script(root, f"{d}/{n}", inputs, lib_dirs)
        if "libc.a" in names or "libc.so" in names:  # libc6-dev / musl-dev: programs link here
            counts["crt"] += 1
            missing = [c for c in CRT_FILES if not root.is_file(f"{d}/{c}")]
            if missing:
                msg = f"a C library to link against, but no {', '.join(missing)} beside it"
                problems.append(Problem("crt", d, msg))

    if len(pc_files) > MAX_PC_FILES:
        problems.append(Problem("pkgconfig", "/", f"{len(pc_files)} .pc files: more than {MAX_PC_FILES}, "
                                                  f"the first {MAX_PC_FILES} checked (not a sysroot)"))
    for guest in pc_files[:MAX_PC_FILES]:
        counts["pkgconfig"] += 1
        try:
            _, data = root.read_bytes(guest, files.PC)
            text = files.decode(data, guest)
        except files.FileProblem as exc:
            problems.append(Problem("pkgconfig", guest, exc.problem))
            continue
        except (OSError, BadInput):
            problems.append(Problem("pkgconfig", guest, "cannot be read"))
            continue
        pc = parse_pc(text, guest)
        missing_kw = [k for k, v in (("Name", pc.name), ("Description", pc.description), ("Version", pc.version))
                      if v is None]
        if missing_kw:
            problems.append(Problem("pkgconfig", guest, f"no {', '.join(missing_kw)} field"))
        elif pc.warnings:
            problems.append(Problem("pkgconfig", guest, pc.warnings[0]))

    targets = tuple(row.name + ("/musl" if fl == "musl" else "") for row, fl in rows)
    return CheckResult(path=str(root.top), targets=targets, counts=counts, problems=tuple(problems),
                       left_out=problems.left_out)
