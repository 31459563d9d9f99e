"""What a sysroot really holds, read from its files (never from its name or metadata).

Works on any folder: one ``cgocheck sysroot create`` made, debootstrap output, an SDK, an
exported container filesystem. Every read goes through :class:`FsRoot`, so a link in the
sysroot never leads outside it.

- libc: glibc's ``libc.so.6`` (version = the highest ``GLIBC_x.y`` node it defines,
  cross-checked with the "release version" string in its .rodata) or musl's ``libc.so``
  (the bare version string musl's dynamic linker prints with ``Version %s``).
- architecture: the libc ELF header (e_machine, class, endianness, float ABI in e_flags)
  matched against the rows of ``cgocheck/data/targets.toml``.
- loader: the known loaders of the matching rows that exist in the sysroot.
- pkg-config modules: .pc files of the multiarch and shared pkgconfig folders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cgocheck.core import files, glibc
from cgocheck.core.errors import BadInput, CgocheckError
from cgocheck.core.targets import Arch, all_arches
from cgocheck.elf import read_shared_object
from cgocheck.elf.model import SharedObjectFacts
from cgocheck.sysroot import meta, refuse_unfinished
from cgocheck.sysroot.creator import creation_digest
from cgocheck.sysroot.fsroot import MAX_LISTED, FsRoot, Resolved
from cgocheck.sysroot.pkgconfig import PcFile, parse_pc

META_DIR = ".cgocheck"
_GLIBC_BANNER = re.compile(
    rb"GNU C Library \(([^)\n]{0,200})\) (?:stable |development |)release version "
    rb"(\d+\.\d+(?:\.\d+)?)"
)
_MUSL_MARK = b"musl libc ("
_MUSL_VERSION = re.compile(rb"\x00(\d+\.\d+\.\d+(?:[-_+~][0-9A-Za-z_.+~-]{1,40})?)\x00")
MAX_LIBC_BYTES = 64 << 20  # of the libc read for its version string
MAX_LIBC_FILE = 1 << 30  # a libc.so.6 is 2 MB; a candidate larger than this is refused
SPARSE_CHECK = 64 << 20  # larger and mostly holes: refused too
MAX_PC_FILES = 5000  # .pc files read by one scan (bookworm-arm64 has 9; a full desktop ~600)
MAX_PC_BYTES = 16 << 20  # and bytes of them


@dataclass(frozen=True)
class PkgConfigModule:
    module: str
    version: str | None
    path: str  # guest path of the .pc file
    requires: tuple[str, ...]
    requires_private: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "module": self.module,
            "version": self.version,
            "path": self.path,
            "requires": list(self.requires),
            "requires_private": list(self.requires_private),
        }


@dataclass(frozen=True)
class SysrootInfo:
    path: str
    name: str
    created_by_cgocheck: bool  # has .cgocheck/ metadata (and then it is complete)
    recipe: str | None
    suite: str | None
    debian_arch: str | None
    digest: str | None
    libc: str | None  # "glibc" | "musl" | None when no libc was found
    libc_version: str | None
    libc_path: str | None  # guest path
    libc_banner: str | None  # glibc's "(Debian GLIBC 2.36-9+deb12u10)" part
    loader: str | None  # guest path of the loader found
    loader_target: str | None  # what the loader path resolves to inside the sysroot
    targets: tuple[str, ...]  # targets.toml rows the libc ELF matches
    machine: str | None
    elf_class: int | None
    float_abi: str | None
    triplet: str | None
    glibc_versions: tuple[str, ...]
    pkgconfig_dirs: tuple[str, ...]
    pkgconfig: tuple[PkgConfigModule, ...]
    pkgconfig_left_out: int = 0  # .pc files past the scan's bounds, not read
    warnings: tuple[str, ...] = field(default=())
    glibcxx_versions: tuple[str, ...] = ()  # GLIBCXX_x.y nodes of its libstdc++.so.6, when it has one
    creator: str | None = None  # digest of the creation code that made it (cgocheck's own only)
    creator_current: bool | None = None  # made by this cgocheck's creation code; None: not ours

    def module(self, name: str) -> PkgConfigModule | None:
        for m in self.pkgconfig:
            if m.module == name:
                return m
        return None

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "name": self.name,
            "created_by_cgocheck": self.created_by_cgocheck,
            "recipe": self.recipe,
            "suite": self.suite,
            "debian_arch": self.debian_arch,
            "digest": self.digest,
            "libc": self.libc,
            "libc_version": self.libc_version,
            "libc_path": self.libc_path,
            "libc_banner": self.libc_banner,
            "loader": self.loader,
            "loader_target": self.loader_target,
            "targets": list(self.targets),
            "machine": self.machine,
            "elf_class": self.elf_class,
            "float_abi": self.float_abi,
            "triplet": self.triplet,
            "glibc_versions": list(self.glibc_versions),
            "pkgconfig_dirs": list(self.pkgconfig_dirs),
            "pkgconfig": [m.as_json() for m in self.pkgconfig],
            "pkgconfig_left_out": self.pkgconfig_left_out,
            "warnings": list(self.warnings),
            "glibcxx_versions": list(self.glibcxx_versions),
            "creator": self.creator,
            "creator_current": self.creator_current,
        }


@dataclass(frozen=True)
class _Libc:
    flavour: str
    guest: str
    facts: SharedObjectFacts
    rows: tuple[Arch, ...]


def _matching_rows(facts: SharedObjectFacts) -> tuple[Arch, ...]:
    h = facts.header
    out = []
    for a in all_arches():
        if (a.machine_code, a.elf_class, a.endian) != (h.machine_code, h.elf_class, h.endian):
            continue
        if a.float_abi and h.float_abi and a.float_abi != h.float_abi:
            continue
        out.append(a)
    return tuple(out)


def _resolve(root: FsRoot, guest: str, warnings: list[str]) -> Resolved | None:
    """FsRoot.resolve, with a symlink loop noted as a warning instead of an error."""
    try:
        return root.resolve(guest)
    except BadInput as exc:
        warnings.append(exc.message)
        return None


def _read_facts(root: FsRoot, guest: str, warnings: list[str]) -> SharedObjectFacts | None:
    r = _resolve(root, guest, warnings)
    if r is None or not r.host.is_file():
        return None
    try:
        return read_shared_object(str(r.host), display_path=r.guest)
    except CgocheckError as exc:
        warnings.append(f"{guest}: {exc.message}")
        return None


def _not_a_libc_size(r: Resolved, warnings: list[str]) -> bool:
    """As resolve: no C library is gigabytes, or mostly holes; such a file is not read."""
    st = r.host.stat()
    allocated = getattr(st, "st_blocks", st.st_size // 512 + 1) * 512
    if st.st_size > MAX_LIBC_FILE or (st.st_size > SPARSE_CHECK and allocated < st.st_size // 2):
        warnings.append(f"{r.guest}: {st.st_size} bytes ({allocated} allocated): not a C library, not read")
        return True
    return False


def _candidates() -> list[tuple[str, str, str]]:
    """(flavour, guest path, triplet) of libc files to look for, most specific first."""
    out: list[tuple[str, str, str]] = []
    for a in all_arches():
        t = a.triplets["glibc"]
        for d in (f"/lib/{t}", f"/usr/lib/{t}"):
            out.append(("glibc", f"{d}/libc.so.6", t))
    for a in all_arches():
        t = a.triplets["musl"]
        out.append(("musl", a.loaders["musl"], t))  # musl's loader is its libc
        for d in (f"/usr/lib/{t}", f"/lib/{t}"):
            out.append(("musl", f"{d}/libc.so", t))
    for d in ("/lib64", "/usr/lib64", "/lib", "/usr/lib"):  # non-multiarch layouts
        out.append(("glibc", f"{d}/libc.so.6", ""))
    out.append(("musl", "/usr/lib/libc.so", ""))
    return out


def _find_libc(root: FsRoot, warnings: list[str]) -> tuple[_Libc | None, str]:
    seen_hosts: set[str] = set()
    found: list[tuple[_Libc, str]] = []
    for flavour, guest, triplet in _candidates():
        r = _resolve(root, guest, warnings)
        if r is None or not r.host.is_file() or str(r.host) in seen_hosts:
            continue
        seen_hosts.add(str(r.host))
        if _not_a_libc_size(r, warnings):
            continue
        if flavour == "musl" and not _is_musl(root, guest):
            continue  # e.g. /usr/lib/libc.so being a glibc linker script
        facts = _read_facts(root, guest, warnings)
        if facts is None:
            continue
        found.append((_Libc(flavour, r.guest, facts, _matching_rows(facts)), triplet))
    if not found:
        return None, ""
    if len({(lc.flavour, lc.facts.header.machine_code) for lc, _ in found}) > 1:
        others = ", ".join(f"{lc.flavour} {lc.guest}" for lc, _ in found[1:])
        warnings.append(f"more than one libc in this sysroot; using {found[0][0].guest} (also: {others})")
    return found[0]


def _read_bytes(root: FsRoot, guest: str) -> bytes:
    try:
        _, f = root.open_regular(guest)
    except (OSError, BadInput):
        return b""
    with f:
        return f.read(MAX_LIBC_BYTES)


def _is_musl(root: FsRoot, guest: str) -> bool:
    data = _read_bytes(root, guest)
    return data.startswith(b"\x7fELF") and _MUSL_MARK in data


def musl_version(data: bytes) -> tuple[str | None, list[str]]:
    """The version string musl's libc.so carries (``__libc_version``), and any doubts."""
    cands = list(dict.fromkeys(m.group(1).decode() for m in _MUSL_VERSION.finditer(data)))
    if not cands:
        return None, ["no version string found in musl's libc"]
    if len(cands) > 1:
        return cands[0], [f"several version-like strings in musl's libc: {', '.join(cands[:5])}"]
    return cands[0], []


def glibc_version(facts: SharedObjectFacts, data: bytes) -> tuple[str | None, str | None, list[str]]:
    """(glibc version, the banner's distro part, warnings).

    The release banner in .rodata ("... release version 2.31") names the version. The
    highest GLIBC_x.y node is the cross-check: a release only adds a node when it adds
    symbols (glibc 2.31's highest is GLIBC_2.30), so the node may lag the banner but never
    lead it. Without a banner the highest node is the best we know (a lower bound).
    """
    nodes = [v for v in facts.verdef if glibc.split(v) and v.startswith("GLIBC_")]
    best = max(nodes, key=glibc.key) if nodes else None
    from_nodes = best[len("GLIBC_") :] if best else None
    m = _GLIBC_BANNER.search(data)
    banner = m.group(1).decode(errors="replace") if m else None
    from_banner = m.group(2).decode() if m else None
    warnings: list[str] = []
    if from_banner is None:
        if from_nodes:
            warnings.append(f"no glibc release banner; version taken from the highest node {best}")
        return from_nodes, None, warnings
    if from_nodes and glibc.key("GLIBC_" + from_banner) < glibc.key(best or ""):
        warnings.append(f"glibc's banner says {from_banner} but it defines {best}: not a plain glibc build")
    return from_banner, banner, warnings


def _pkgconfig(
    root: FsRoot, triplets: list[str], elf_class: int | None, warnings: list[str]
) -> tuple[list[str], list[PkgConfigModule], int]:
    """(the pkg-config folders present, their modules, how many .pc files were left out).

    The scan is bounded: at most MAX_PC_FILES files and MAX_PC_BYTES bytes are read (a real
    sysroot has tens of .pc files of a few KiB); what is left out is counted and warned of.
    """
    dirs: list[str] = []
    for t in triplets:
        if t:
            dirs.append(f"/usr/lib/{t}/pkgconfig")
    if elf_class == 64:
        dirs.append("/usr/lib64/pkgconfig")
    dirs += ["/usr/lib/pkgconfig", "/usr/share/pkgconfig"]
    mods: dict[str, PkgConfigModule] = {}
    present: list[str] = []
    read = read_bytes = left_out = 0
    for d in dict.fromkeys(dirs):
        r = _resolve(root, d, warnings)
        if r is None or not r.host.is_dir():
            continue
        listed, more = root.scan(d)
        names = [n for n in listed if n.endswith(".pc")]
        if more:
            warnings.append(f"{d}: more than {MAX_LISTED} entries; only the first {MAX_LISTED} were looked at")
        present.append(d)
        for n in names:
            guest = f"{d}/{n}"
            module = n[:-3]
            if module in mods:  # the first folder on the search path wins, as in pkg-config
                continue
            if read >= MAX_PC_FILES or read_bytes >= MAX_PC_BYTES:
                left_out += 1
                continue
            read += 1
            try:
                _, data = root.read_bytes(guest, files.PC)
            except files.FileProblem as exc:
                warnings.append(exc.message)
                continue
            except (OSError, BadInput):
                continue
            read_bytes += len(data)
            pc: PcFile = parse_pc(data.decode("utf-8", errors="replace"), guest)
            mods[module] = PkgConfigModule(
                module=module,
                version=pc.version,
                path=guest,
                requires=tuple(str(r) for r in pc.requires),
                requires_private=tuple(str(r) for r in pc.requires_private),
            )
    if left_out:
        warnings.append(
            f"{left_out} more .pc files not read (the scan stops after {MAX_PC_FILES} files or "
            f"{files.size_text(MAX_PC_BYTES)}; a real sysroot has a few dozen)"
        )
    return present, sorted(mods.values(), key=lambda m: m.module), left_out


def _read_meta(top: Path) -> tuple[dict[str, object], dict[str, object]]:
    """meta.json and lock.json of ``.cgocheck/``, no link followed ({} for one that is not there)."""
    return meta.read_meta_json(top, "meta.json"), meta.read_meta_json(top, "lock.json", files.LOCK)


def inspect_sysroot(path: str | Path, *, allow_incomplete: bool = False) -> SysrootInfo:
    """Read the facts of the sysroot at ``path``.

    A folder cgocheck was creating (``.cgocheck/`` without ``complete``) is refused unless
    ``allow_incomplete`` (create inspects its own work before it is complete).
    """
    p = Path(path)
    if not p.is_dir():
        raise BadInput(f"sysroot {str(path)!r} is not a directory")
    root = FsRoot(p)
    state = meta.state(root.top)
    ours = state != "none"
    if not allow_incomplete:
        refuse_unfinished(root.top, p.name)
    warnings: list[str] = []
    made, lock = _read_meta(root.top) if ours else ({}, {})
    libc, triplet = _find_libc(root, warnings)
    version = banner = loader = loader_target = None
    nodes: tuple[str, ...] = ()
    rows: tuple[Arch, ...] = ()
    if libc is None:
        warnings.append("no glibc libc.so.6 or musl libc.so found")
    else:
        rows = libc.rows
        data = _read_bytes(root, libc.guest)
        if libc.flavour == "glibc":
            version, banner, w = glibc_version(libc.facts, data)
            nodes = tuple(
                sorted(
                    (v for v in libc.facts.verdef if v.startswith("GLIBC_") and glibc.split(v)),
                    key=glibc.key,
                )
            )
        else:
            version, w = musl_version(data)
        warnings += w
        if not rows:
            warnings.append(f"{libc.guest}: {libc.facts.header.machine} matches no target in targets.toml")
        for a in rows:
            r = _resolve(root, a.loaders[libc.flavour], warnings)
            if r is not None and r.host.is_file():
                loader, loader_target = a.loaders[libc.flavour], r.guest
                break
        if loader is None and rows:
            want = ", ".join(sorted({a.loaders[libc.flavour] for a in rows}))
            warnings.append(f"no loader found (looked for {want})")
        if not triplet and rows:
            triplet = rows[0].triplets[libc.flavour]
    triplets = [triplet] if triplet else []
    h = libc.facts.header if libc else None
    pc_dirs, modules, pc_left_out = _pkgconfig(root, triplets, h.elf_class if h else None, warnings)
    digest = made.get("digest")
    cxx_nodes: tuple[str, ...] = ()
    for d in dict.fromkeys([f"/usr/lib/{triplet}", f"/lib/{triplet}"] if triplet else []):
        cxx = _read_facts(root, f"{d}/libstdc++.so.6", warnings)
        if cxx is not None:
            cxx_nodes = tuple(sorted((v for v in cxx.verdef if v.startswith("GLIBCXX_") and glibc.split(v)),
                                     key=glibc.key))
            break
    creator = _str(made.get("creator")) if ours else None
    current = (creator == creation_digest()) if ours else None
    if current is False:
        warnings.append(
            f"made by other creation code ({creator or 'unrecorded'}, this cgocheck's is {creation_digest()}): "
            f"cgocheck sysroot create {p.name} re-makes it"
        )
    return SysrootInfo(
        path=str(root.top),
        name=p.name,
        created_by_cgocheck=ours,
        recipe=_str(lock.get("recipe")),
        suite=_str(lock.get("suite")),
        debian_arch=_str(lock.get("arch")) or (rows[0].debian_arch if rows else None),
        digest=_str(digest),
        libc=libc.flavour if libc else None,
        libc_version=version,
        libc_path=libc.guest if libc else None,
        libc_banner=banner,
        loader=loader,
        loader_target=loader_target,
        targets=tuple(a.name + ("" if libc is None or libc.flavour == "glibc" else "/musl") for a in rows),
        machine=h.machine if h else None,
        elf_class=h.elf_class if h else None,
        float_abi=(h.float_abi or None) if h else None,
        triplet=triplet or None,
        glibc_versions=nodes,
        pkgconfig_dirs=tuple(pc_dirs),
        pkgconfig=tuple(modules),
        pkgconfig_left_out=pc_left_out,
        warnings=tuple(warnings),
        glibcxx_versions=cxx_nodes,
        creator=creator,
        creator_current=current,
    )


def _str(v: object) -> str | None:
    return v if isinstance(v, str) else None


@dataclass(frozen=True)
class SysrootEntry:
    """One complete sysroot in ``folders.sysroots()``, as its creation recorded it."""

    name: str
    suite: str | None
    arch: str | None
    libc: str | None
    libc_version: str | None
    digest: str | None
    path: str
    creator: str | None = None
    creator_current: bool = False

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def list_sysroots(top: Path | None = None) -> list[SysrootEntry]:
    """Complete sysroots only: a folder without ``.cgocheck/complete`` is not one."""
    from cgocheck.core import folders

    base = top if top is not None else folders.sysroots()
    if not base.is_dir():
        return []
    out: list[SysrootEntry] = []
    for p in sorted(base.iterdir()):
        if p.name.startswith(".") or p.is_symlink() or not p.is_dir():
            continue
        if not meta.is_complete(p):  # a real .cgocheck/complete: a link to one does not count
            continue
        made, lock = _read_meta(p)
        out.append(
            SysrootEntry(
                name=p.name,
                suite=_str(made.get("suite")) or _str(lock.get("suite")),
                arch=_str(made.get("arch")) or _str(lock.get("arch")),
                libc=_str(made.get("libc")),
                libc_version=_str(made.get("libc_version")),
                digest=_str(made.get("digest")),
                path=str(p),
                creator=_str(made.get("creator")),
                creator_current=made.get("creator") == creation_digest(),
            )
        )
    return out
