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

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cgocheck.core.errors import BadInput, CgocheckError
from cgocheck.core.targets import Arch, all_arches
from cgocheck.elf import read_shared_object
from cgocheck.sysroot.fsroot import FsRoot, SymlinkLoop
from cgocheck.sysroot.pkgconfig import parse_pc

META_DIR = ".cgocheck"
MAX_ENTRIES = 2_000_000  # a Debian sysroot of 200 packages has ~60,000
MAX_SCRIPT = 64 << 10  # a linker script is a few hundred bytes; libc.so is 300
MAX_PC = 1 << 20
CRT_FILES = ("crt1.o", "crti.o", "crtn.o", "Scrt1.o")
_SCRIPT_WORDS = re.compile(r"\b(GROUP|INPUT|AS_NEEDED)\s*\(")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


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
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self) -> str:
        return str(self.problems[0]) if self.problems else ""

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "ok": self.ok,
            "targets": list(self.targets),
            "counts": dict(self.counts),
            "problems": [p.as_json() for p in self.problems],
        }


def _walk(root: FsRoot, problems: list[Problem]) -> Iterator[tuple[str, os.stat_result]]:
    """(guest path, lstat) of every entry under the top, links not followed, .cgocheck/ left out."""
    seen = 0
    stack = ["/"]
    while stack:
        guest_dir = stack.pop()
        host_dir = root.host_path(guest_dir)
        try:
            names = sorted(os.listdir(host_dir))
        except OSError as exc:
            problems.append(Problem("tree", guest_dir, f"cannot list: {exc.strerror}"))
            continue
        for name in names:
            if guest_dir == "/" and name == META_DIR:
                continue
            seen += 1
            if seen > MAX_ENTRIES:
                problems.append(Problem("tree", "/", f"more than {MAX_ENTRIES} entries: not a sysroot"))
                return
            guest = f"{guest_dir.rstrip('/')}/{name}"
            try:
                st = os.lstat(host_dir / name)
            except OSError as exc:
                problems.append(Problem("tree", guest, f"cannot stat: {exc.strerror}"))
                continue
            yield guest, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(guest)


def _check_link(root: FsRoot, guest: str) -> Problem | None:
    target = os.readlink(root.host_path(guest))
    try:
        r = root.resolve(guest)
    except SymlinkLoop:
        return Problem("link", guest, f"-> {target}: a symlink loop")
    if r is None:
        return Problem("link", guest, f"-> {target}: dangles (nothing there inside the sysroot)")
    if r.notes:
        return Problem("link", guest, f"-> {target}: leads out of the sysroot when followed on the host ({r.notes[0]})")
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
    for m in _SCRIPT_WORDS.finditer(body):
        depth, i, start = 1, m.end(), m.end()
        while i < len(body) and depth:
            if body[i] == "(":
                depth += 1
            elif body[i] == ")":
                depth -= 1
            i += 1
        inner = body[start : i - 1]
        inner = re.sub(r"AS_NEEDED\s*\(|\)", " ", inner)
        names += [w for w in re.split(r"[\s,]+", inner) if w]
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
    (read through the sysroot: a ``.cgocheck`` link cannot lead out)."""
    try:
        _, f = root.open_regular(f"/{META_DIR}/meta.json")
        with f:
            data = json.loads(f.read(1 << 20))
    except (OSError, ValueError, BadInput, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    arch, libc = data.get("arch"), data.get("libc")
    return (arch if isinstance(arch, str) else None), (libc if isinstance(libc, str) else None)


def check_sysroot(path: str | Path, *, arch: str | None = None, libc: str | None = None) -> CheckResult:
    """Check the folder at ``path``; ``arch`` (Debian) and ``libc`` say what it must serve
    (a recipe's), else what its creation recorded, else the libc it holds."""
    root = FsRoot(path)
    if arch is None or libc is None:
        arch, libc = recorded_target(root)
    problems: list[Problem] = []
    counts = {"entries": 0, "links": 0, "loaders": 0, "ldscripts": 0, "crt": 0, "pkgconfig": 0}
    pc_files: list[str] = []
    for guest, st in _walk(root, problems):
        counts["entries"] += 1
        if stat.S_ISLNK(st.st_mode):
            counts["links"] += 1
            p = _check_link(root, guest)
            if p:
                problems.append(p)
        elif guest.endswith(".pc") and "/pkgconfig/" in guest and stat.S_ISREG(st.st_mode):
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

    for guest in pc_files:
        counts["pkgconfig"] += 1
        data = _read_small(root, guest, MAX_PC)
        if data is None:
            problems.append(Problem("pkgconfig", guest, "cannot be read"))
            continue
        if len(data) > MAX_PC:
            problems.append(Problem("pkgconfig", guest, f"larger than {MAX_PC} bytes"))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem("pkgconfig", guest, "not UTF-8 text"))
            continue
        pc = parse_pc(text, guest)
        missing_kw = [k for k, v in (("Name", pc.name), ("Description", pc.description), ("Version", pc.version))
                      if v is None]
        if missing_kw:
            problems.append(Problem("pkgconfig", guest, f"no {', '.join(missing_kw)} field"))
        elif pc.warnings:
            problems.append(Problem("pkgconfig", guest, pc.warnings[0]))

    targets = tuple(row.name + ("/musl" if fl == "musl" else "") for row, fl in rows)
    return CheckResult(path=str(root.top), targets=targets, counts=counts, problems=tuple(problems))
