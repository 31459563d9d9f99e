"""The Debian package database of a sysroot: which package ships which file, at what
version, and the ``symbols`` and ``shlibs`` files dpkg-shlibdeps reads.

Two places hold one, in the same layout as dpkg's own ``/var/lib/dpkg`` (``status``, and
``info/<package>.list``, ``.symbols``, ``.shlibs``; ``<package>:<arch>.*`` for Multi-Arch:
same packages as dpkg names them):

- ``/.cgocheck/dpkg``: what ``sysroot create`` keeps of each package it unpacks (the control
  stanza, the file list as the package ships it, its symbols and shlibs files);
- ``/var/lib/dpkg``: a Debian image's or debootstrap folder's own database.

A listed path is what the package ships (``/lib/aarch64-linux-gnu/libc.so.6``); on a
merged-/usr tree that file lies at ``/usr/lib/...``, so :meth:`DpkgDb.owners` compares
paths after the sysroot's links (followed as a chroot would, through :class:`FsRoot`).
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cgocheck.core.errors import BadInput, EnvironmentProblem
from cgocheck.sysroot.fsroot import FsRoot, Resolved

ADMINDIRS = ("/.cgocheck/dpkg", "/var/lib/dpkg")
KEPT = ("symbols", "shlibs")  # the control files dpkg-shlibdeps reads
MAX_CONTROL_FILE = 16 << 20  # libstdc++6's symbols file is 300 KB
MAX_STATUS = 256 << 20  # a full desktop's status file is ~10 MB
MAX_LIST = 64 << 20


@dataclass(frozen=True)
class DebPackage:
    name: str
    version: str
    architecture: str
    source: str | None = None  # the source package when it differs ("glibc" for libc6)
    multi_arch: str | None = None
    fields: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)

    @property
    def qualified(self) -> str:
        """The name dpkg gives its info files: ``libc6:arm64`` for Multi-Arch: same."""
        return f"{self.name}:{self.architecture}" if self.multi_arch == "same" else self.name


# --- kept at creation ------------------------------------------------------------------


def _stanza(text: str) -> list[tuple[str, str]]:
    """The fields of one control stanza, continuation lines kept."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            if out:
                break
            continue
        if line[0] in " \t" and out:
            k, v = out[-1]
            out[-1] = (k, f"{v}\n{line}")
            continue
        k, sep, v = line.partition(":")
        if sep and k.strip():
            out.append((k.strip(), v.strip()))
    return out


def read_control_members(deb: Path) -> dict[str, bytes]:
    """``control``, ``symbols`` and ``shlibs`` of a .deb's control archive (regular files only,
    each at most MAX_CONTROL_FILE bytes), through dpkg-deb."""
    try:
        proc = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=False,
                              timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"reading the control files of {deb.name} failed: {exc}") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip() or f"exit {proc.returncode}"
        raise EnvironmentProblem(f"reading the control files of {deb.name} failed: {msg.splitlines()[-1]}")
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(proc.stdout), mode="r:") as tf:
            for m in tf:
                name = m.name.removeprefix("./")
                if name not in ("control", *KEPT) or not m.isreg() or m.size > MAX_CONTROL_FILE:
                    continue
                f = tf.extractfile(m)
                if f is not None:
                    out[name] = f.read(MAX_CONTROL_FILE)
    except (tarfile.TarError, EOFError) as exc:
        raise EnvironmentProblem(f"{deb.name}: unreadable control archive ({exc})") from None
    if "control" not in out:
        raise EnvironmentProblem(f"{deb.name}: no control file")
    return out


def list_lines(names: Iterable[str]) -> list[str]:
    """tar's member names (``./usr/lib/``) as dpkg's .list file has them (``/usr/lib``)."""
    out: list[str] = []
    for n in names:
        p = n.removeprefix(".").rstrip("/")
        if not p:
            p = "/."
        elif not p.startswith("/"):
            p = "/" + p
        out.append(p)
    return list(dict.fromkeys(out))


def keep_package(admindir: Path, deb: Path, names: Iterable[str]) -> DebPackage:
    """Record one unpacked package in ``admindir`` (a dpkg database): its stanza appended to
    ``status``, its file list and its symbols and shlibs files under ``info/``."""
    members = read_control_members(deb)
    fields = _stanza(members["control"].decode("utf-8", errors="replace"))
    pkg = _package(fields)
    if pkg is None:
        raise EnvironmentProblem(f"{deb.name}: its control file names no Package, Version and Architecture")
    info = admindir / "info"
    info.mkdir(parents=True, exist_ok=True)
    with open(admindir / "status", "a", encoding="utf-8") as f:
        for k, v in fields:
            if k != "Status":
                f.write(f"{k}: {v}\n")
            if k == "Package":
                f.write("Status: install ok installed\n")
        f.write("\n")
    (info / f"{pkg.qualified}.list").write_text("".join(f"{p}\n" for p in list_lines(names)), encoding="utf-8",
                                                 errors="surrogateescape")
    for kind in KEPT:
        if kind in members:
            (info / f"{pkg.qualified}.{kind}").write_bytes(members[kind])
    return pkg


# --- reading -----------------------------------------------------------------------------


def _package(fields: list[tuple[str, str]]) -> DebPackage | None:
    d = dict(fields)
    name, version, arch = d.get("Package"), d.get("Version"), d.get("Architecture")
    if not name or not version or not arch:
        return None
    source = d.get("Source")
    if source:
        source = source.split()[0]
    return DebPackage(name, version, arch, source if source and source != name else None, d.get("Multi-Arch"),
                      tuple(fields))


def parse_status(text: str) -> list[DebPackage]:
    """The installed packages of a dpkg ``status`` file (Status ``install ok installed``, or no
    Status field at all)."""
    out: list[DebPackage] = []
    for block in text.split("\n\n"):
        fields = _stanza(block)
        status = dict(fields).get("Status", "install ok installed").split()
        if not fields or status[-1:] not in (["installed"], ["unpacked"], ["half-configured"]):
            continue
        p = _package(fields)
        if p is not None:
            out.append(p)
    return out


class DpkgDb:
    """One sysroot's package database, read through FsRoot (no link leads out)."""

    def __init__(self, root: FsRoot, admindir: str, packages: list[DebPackage]) -> None:
        self.root = root
        self.admindir = admindir
        self.packages: dict[str, DebPackage] = {}
        for p in packages:
            self.packages.setdefault(p.name, p)
        self._owners: dict[str, list[str]] | None = None
        self._dirs: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"DpkgDb({str(self.root.top)!r}, {self.admindir!r}, {len(self.packages)} packages)"

    def _read(self, guest: str, cap: int) -> str | None:
        try:
            _, f = self.root.open_regular(guest)
        except (OSError, BadInput):
            return None
        with f:
            data = f.read(cap + 1)
        if len(data) > cap:
            raise BadInput(f"{guest} in sysroot {self.root.top} is larger than {cap} bytes")
        return data.decode("utf-8", errors="surrogateescape")

    def info_file(self, package: str, kind: str) -> str | None:
        """``info/<package>.<kind>`` (or the arch-qualified name), None when absent."""
        p = self.packages.get(package)
        names = [f"{p.name}:{p.architecture}", p.name] if p else [package]
        for n in dict.fromkeys(names):
            text = self._read(f"{self.admindir}/info/{n}.{kind}", MAX_CONTROL_FILE if kind != "list" else MAX_LIST)
            if text is not None:
                return text
        return None

    def files(self, package: str) -> list[str]:
        text = self.info_file(package, "list")
        return [ln for ln in text.splitlines() if ln.startswith("/")] if text else []

    def canonical(self, guest: str) -> str:
        """``guest`` with the links of its folder followed inside the sysroot (the file itself
        not followed): where the file a package ships really lies."""
        p = PurePosixPath("/", guest)
        parent = str(p.parent)
        if parent not in self._dirs:
            try:
                r: Resolved | None = self.root.resolve(parent)
            except BadInput:
                r = None
            self._dirs[parent] = r.guest if r is not None else parent
        d = self._dirs[parent]
        return f"{d.rstrip('/')}/{p.name}" if p.name else d

    def _index(self) -> dict[str, list[str]]:
        if self._owners is None:
            owners: dict[str, list[str]] = {}
            for name in sorted(self.packages):
                for path in self.files(name):
                    if path == "/.":
                        continue
                    owners.setdefault(self.canonical(path), []).append(name)
            self._owners = owners
        return self._owners

    def owners(self, guest: str) -> list[str]:
        """The packages that ship the file at ``guest`` (a path in the sysroot, as dpkg -S
        answers it: by the path, else by the path after its links)."""
        idx = self._index()
        got = idx.get(self.canonical(guest))
        if got:
            return list(got)
        try:
            r = self.root.resolve(guest)
        except BadInput:
            return []
        return list(idx.get(r.guest, [])) if r is not None else []


def open_db(root: FsRoot) -> DpkgDb | None:
    """The sysroot's package database: the one creation kept, else the image's own; None
    when it has neither."""
    for admindir in ADMINDIRS:
        try:
            _, f = root.open_regular(f"{admindir}/status")
        except (OSError, BadInput):
            continue
        with f:
            data = f.read(MAX_STATUS + 1)
        if len(data) > MAX_STATUS:
            raise BadInput(f"{admindir}/status in sysroot {root.top} is larger than {MAX_STATUS} bytes")
        return DpkgDb(root, admindir, parse_status(data.decode("utf-8", errors="replace")))
    return None


def open_path(path: str | os.PathLike[str]) -> DpkgDb | None:
    return open_db(FsRoot(path))
