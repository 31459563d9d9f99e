"""``cgocheck sysroot create``: a recipe's packages unpacked into a folder, without root.

Steps, each safe to interrupt:
1. ``apt-get update`` into a private state folder (only when its lists are missing, a day
   old, or on ``--refresh``).
2. The dependency closure (``apt-cache depends --recurse``, see :func:`apt.resolve_closure`)
   and each package's index record (version, pool file name, sha256); or, with ``--locked``,
   exactly the versions of ``sysroots/<name>.lock.json``.
3. ``apt-get download name=version`` of what the shared cache (``downloads/debs``) lacks;
   every .deb's sha256 is checked against the index, cached or not.
4. Unpack each .deb into ``sysroots/.tmp-<name>-<random>`` with dpkg's own extractor, absolute
   (and escaping) symlinks rewritten as relative links that stay inside, usrmerge links made.
   Each package's control stanza, file list, symbols and shlibs files are kept in
   ``.cgocheck/dpkg/`` (a dpkg database, see :mod:`cgocheck.sysroot.dpkgdb`).
5. ``.cgocheck/lock.json`` and the content digest, then an atomic rename into
   ``sysroots/<name>`` and ``.cgocheck/complete`` written last: a folder without it is
   never reported as a sysroot.

The closure policy (what is left out, and why) is :func:`cgocheck.sysroot.apt.resolve_closure`
and :data:`cgocheck.sysroot.apt.MAINTSCRIPT_ONLY`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filelock import FileLock, Timeout

from cgocheck import __version__
from cgocheck.core import files, folders, hints
from cgocheck.core.errors import BadInput, EnvironmentProblem, shown
from cgocheck.core.pathnames import within
from cgocheck.sysroot import meta
from cgocheck.sysroot.apt import Apt, AptSource, PackageRecord, host_source, resolve_closure
from cgocheck.sysroot.check import check_sysroot
from cgocheck.sysroot.creator import creation_digest
from cgocheck.sysroot.dpkgdb import keep_package
from cgocheck.sysroot.recipe import Recipe

Log = Callable[[str], None]

META_DIR = ".cgocheck"
COMPLETE = "complete"
LOCK_SCHEMA = 1

# usrmerge: the top-level folders that are links into /usr on a merged-/usr system
# (Debian's default for new installs since buster; packages of trixie ship only /usr paths).
USRMERGE_ALWAYS = ("bin", "sbin", "lib")
USRMERGE_IF_PRESENT = ("lib32", "lib64", "libx32", "libo32")


def _quiet(_: str) -> None:
    pass


def debs_dir() -> Path:
    return folders.downloads() / "debs"


def apt_state(recipe: Recipe) -> Path:
    return folders.home() / "apt" / recipe.state_key


def locks_dir() -> Path:
    return folders.sysroots() / ".locks"


def lock_file_for(recipe: Recipe) -> Path:
    """``<name>.lock.json`` next to a user's recipe; in cgocheck's own folder (``locks/``)
    for a shipped one, never inside the installed package."""
    if recipe.shipped:
        return folders.home() / "locks" / f"{recipe.name}.lock.json"
    if recipe.path is None:
        raise BadInput(f"recipe {recipe.name} has no file to put a lock file beside")
    return recipe.path.with_name(f"{recipe.name}.lock.json")


@contextlib.contextmanager
def _locked(path: Path, what: str, log: Log) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"waiting for another cgocheck process using {what} ...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


# --- hashing -------------------------------------------------------------------------


sha256_file = files.sha256_file


def content_digest(root: Path) -> str:
    """sha256 over sorted relative paths, file types and contents / link targets.

    Deterministic: no timestamps, owners or modes; ``.cgocheck/`` is left out.
    """
    entries: list[tuple[str, str, str]] = []
    top = os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        if rel_dir == ".":
            rel_dir = ""
            dirnames[:] = [d for d in dirnames if d != META_DIR]
        for name in [*dirnames, *filenames]:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                entries.append((rel, "l", os.readlink(full)))
            elif stat.S_ISDIR(st.st_mode):
                entries.append((rel, "d", ""))
            elif stat.S_ISREG(st.st_mode):
                entries.append((rel, "f", sha256_file(Path(full))))
            else:
                entries.append((rel, "o", oct(stat.S_IFMT(st.st_mode))))
    h = hashlib.sha256()
    for rel, kind, value in sorted(entries):
        h.update(rel.encode("utf-8", "surrogateescape"))
        h.update(b"\0" + kind.encode() + b"\0")
        h.update(value.encode("utf-8", "surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()


# --- symlinks and usrmerge -----------------------------------------------------------


def _lexical(guest_dir: PurePosixPath, target: str) -> tuple[PurePosixPath, bool]:
    """Where ``target`` points, seen from ``guest_dir``, as a chroot would: '..' stops at '/'.

    Returns the normalised guest path and whether a '..' had to be clamped at the top.
    """
    parts: list[str] = [] if target.startswith("/") else list(guest_dir.parts[1:])
    clamped = False
    for p in PurePosixPath(target).parts:
        if p in ("/", "", "."):
            continue
        if p == "..":
            if parts:
                parts.pop()
            else:
                clamped = True
            continue
        parts.append(p)
    return PurePosixPath("/", *parts), clamped


def _canonical_dir(root: Path, guest: PurePosixPath) -> PurePosixPath:
    """``guest``'s parent resolved inside ``root`` (links followed as a chroot would)."""
    from cgocheck.sysroot.fsroot import FsRoot

    try:
        r = FsRoot(root).resolve(str(guest.parent))
    except BadInput:  # a loop: leave the lexical path
        return guest
    if r is None:
        return guest
    return PurePosixPath(r.guest) / guest.name


def _chrooted(root: Path, guest_link: PurePosixPath, lexical: PurePosixPath) -> PurePosixPath:
    """Where a link leads when followed as a chroot would (links inside, '..' clamped)."""
    from cgocheck.sysroot.fsroot import FsRoot

    try:
        r = FsRoot(root).resolve(str(guest_link))
    except BadInput:  # a loop
        r = None
    return PurePosixPath(r.guest) if r is not None else _canonical_dir(root, lexical)


def _inside(path: str, top: str) -> bool:
    return within(path, top)


def rewrite_symlinks(root: Path) -> list[tuple[str, str, str]]:
    """Make every absolute or escaping symlink under ``root`` relative and inside it.

    Escaping: absolute, climbing above the top with '..', or relative and lexically inside
    but physically out, through another link followed by '..' (``up -> ../..`` then
    ``x -> up/../../..``). Create calls this after each package it unpacks, so no later
    package's files are ever written through a link that leads out.

    Returns (link, old target, new target) for each rewritten link. The new target is
    computed from link-free paths, so it means the same thing physically.
    """
    changed: list[tuple[str, str, str]] = []
    top = os.fspath(root)
    top_real = os.path.realpath(top)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in sorted([*dirnames, *filenames]):
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                continue
            target = os.readlink(full)
            rel = os.path.relpath(full, top)
            guest_link = PurePosixPath("/", rel)
            dest, clamped = _lexical(guest_link.parent, target)
            if target.startswith("/") or clamped:
                dest = _canonical_dir(root, dest)
            elif _inside(os.path.realpath(full), top_real):
                continue
            else:
                dest = _chrooted(root, guest_link, dest)
            new = os.path.relpath(str(dest), str(guest_link.parent))
            os.unlink(full)
            os.symlink(new, full)
            changed.append((f"/{rel}", target, new))
    return changed


def _links_under(path: Path) -> Iterator[Path]:
    """``path`` itself if it is a link, else every link in the tree under it (not followed)."""
    if path.is_symlink() or not path.is_dir():
        if path.is_symlink():
            yield path
        return
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            full = Path(dirpath, name)
            if full.is_symlink():
                yield full


def move_keeping_links(
    root: Path, src: Path, dst: Path, *, moving: tuple[Path, Path] | None = None
) -> list[tuple[str, str, str]]:
    """Rename ``src`` to ``dst`` (both under ``root``) so that every relative link in the
    moved tree still points at the file it pointed at before the move.

    A relative link means something only from where it lies: ``/lib64/ld.so ->
    ../usr/lib/x/ld.so`` moved to ``/usr/lib64`` would dangle. Each link's destination is
    worked out (as a chroot would, links in its folder followed) before the move, and where
    the destination itself moves (``moving``: the whole folder being moved entry by entry,
    by default ``src`` to ``dst``) it moves with it. Returns (link, old target, new target)
    for each link re-pointed.
    """
    def guest_of(p: Path) -> PurePosixPath:
        return PurePosixPath("/", p.relative_to(root).as_posix())

    src_guest, dst_guest = guest_of(src), guest_of(dst)
    from_guest, to_guest = (guest_of(moving[0]), guest_of(moving[1])) if moving else (src_guest, dst_guest)
    plan: list[tuple[PurePosixPath, str, PurePosixPath]] = []
    for link in _links_under(src):
        target = os.readlink(link)
        guest = PurePosixPath("/", link.relative_to(root).as_posix())
        dest, _ = _lexical(guest.parent, target)
        dest = _canonical_dir(root, dest)
        if dest == from_guest or from_guest in dest.parents:
            dest = to_guest / dest.relative_to(from_guest)
        new_guest = dst_guest / guest.relative_to(src_guest)
        plan.append((new_guest, target, dest))
    os.rename(src, dst)
    changed: list[tuple[str, str, str]] = []
    for new_guest, old_target, dest in plan:
        if old_target.startswith("/"):
            continue  # absolute: the same wherever it lies (rewrite_symlinks makes it relative)
        new_target = os.path.relpath(str(dest), str(new_guest.parent))
        if new_target == old_target:
            continue
        host = root / new_guest.relative_to("/")
        os.unlink(host)
        os.symlink(new_target, host)
        changed.append((str(new_guest), old_target, new_target))
    return changed


def make_usrmerge(root: Path, *, before: bool) -> list[str]:
    """The merged-/usr links: ``bin``, ``sbin``, ``lib`` before unpacking (so that files
    packages ship under /lib land in /usr/lib, as dpkg does on a merged system), and the
    ``lib32``/``lib64``/... links after it, for those the packages used."""
    made: list[str] = []
    if before:
        for d in USRMERGE_ALWAYS:
            (root / "usr" / d).mkdir(parents=True, exist_ok=True)
            link = root / d
            if not link.exists() and not link.is_symlink():
                os.symlink(f"usr/{d}", link)
                made.append(d)
        return made
    for d in USRMERGE_IF_PRESENT:
        top, usr = root / d, root / "usr" / d
        if top.is_symlink():
            continue
        if top.is_dir():  # a package shipped /lib64/...: move it under /usr as usrmerge does
            usr.mkdir(parents=True, exist_ok=True)
            for entry in sorted(os.listdir(top)):
                dst = usr / entry
                if dst.exists() or dst.is_symlink():
                    if dst.is_dir() and not dst.is_symlink():
                        raise EnvironmentProblem(f"usrmerge: /{d}/{entry} and /usr/{d}/{entry} both exist")
                    dst.unlink()
                move_keeping_links(root, top / entry, dst, moving=(top, usr))
            top.rmdir()
        if usr.is_dir():
            os.symlink(f"usr/{d}", top)
            made.append(d)
    return made


def extract_deb(deb: Path, dest: Path) -> list[str]:
    """Unpack a .deb's data as dpkg would onto a merged-/usr system; returns the member names
    as tar lists them (``./usr/lib/...``), for the package's file list.

    ``dpkg -x`` replaces the ``lib -> usr/lib`` link with a folder (it runs tar without
    --keep-directory-symlink), so we feed dpkg-deb's own tar stream to GNU tar with it, as
    mmdebstrap does.
    """
    p1 = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p2 = subprocess.run(
        [
            "tar",
            "-x",
            "-v",
            "--quoting-style=literal",
            "--keep-directory-symlink",
            "--no-same-owner",
            "--warning=no-timestamp",
            "-f",
            "-",
            "-C",
            str(dest),
        ],
        stdin=p1.stdout,
        capture_output=True,
        check=False,
    )
    assert p1.stdout is not None
    p1.stdout.close()
    err1 = p1.stderr.read().decode(errors="replace") if p1.stderr else ""
    rc1 = p1.wait()
    if p1.stderr:
        p1.stderr.close()
    if rc1 != 0 or p2.returncode != 0:
        msg = err1.strip() or p2.stderr.decode(errors="replace").strip() or f"exit {rc1}/{p2.returncode}"
        raise EnvironmentProblem(f"unpacking {deb.name} failed: {msg.splitlines()[-1]}")
    return p2.stdout.decode("utf-8", errors="surrogateescape").splitlines()


# --- the lock file -------------------------------------------------------------------


@dataclass(frozen=True)
class LockFile:
    recipe: str
    suite: str
    arch: str
    libc: str
    source: dict[str, object]
    packages: tuple[PackageRecord, ...]
    skipped: tuple[dict[str, str], ...] = ()
    exclude: tuple[str, ...] = ()
    exclude_reason: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "schema": LOCK_SCHEMA,
            "recipe": self.recipe,
            "suite": self.suite,
            "arch": self.arch,
            "libc": self.libc,
            "source": self.source,
            "packages": [p.as_json() for p in sorted(self.packages, key=lambda p: p.name)],
            "skipped": list(self.skipped),
            "exclude": list(self.exclude),
            "exclude_reason": self.exclude_reason,
        }

    def dumps(self) -> str:
        return json.dumps(self.as_json(), indent=2, sort_keys=False) + "\n"


def read_lock(path: Path) -> LockFile:
    """A lock file beside a recipe (or cgocheck's copy of a shipped one's)."""
    try:
        text = files.read_text(path, files.LOCK)
    except files.FileProblem as exc:
        if exc.missing:
            raise BadInput(f"{shown(path)}: no lock file (create once with --write-lock first)") from None
        raise BadInput(f"{shown(path)}: unreadable lock file: {exc.problem}") from None
    return parse_lock(text, path)


def sysroot_lock(dest: Path) -> LockFile:
    """The lock a sysroot was made with (``.cgocheck/lock.json``, no link followed)."""
    try:
        text = meta.read_meta_file(dest, "lock.json", files.LOCK)
    except files.FileProblem as exc:
        raise BadInput(f"{shown(exc.path)}: unreadable lock file: {exc.problem}") from None
    return parse_lock(text, dest / META_DIR / "lock.json")


def parse_lock(text: str, path: Path) -> LockFile:
    try:
        data = files.loads_json(text, path, files.LOCK)
    except files.FileProblem as exc:
        raise BadInput(f"{shown(path)}: unreadable lock file: {exc.problem}") from None
    try:
        if data["schema"] != LOCK_SCHEMA:
            raise BadInput(f"{path}: lock file schema {data['schema']} (this cgocheck reads {LOCK_SCHEMA})")
        pkgs = tuple(
            PackageRecord(
                name=str(p["name"]),
                version=str(p["version"]),
                architecture=str(p["architecture"]),
                filename=str(p["filename"]),
                sha256=str(p["sha256"]),
                size=int(p.get("size", 0)),
            )
            for p in data["packages"]
        )
        return LockFile(
            recipe=str(data["recipe"]),
            suite=str(data["suite"]),
            arch=str(data["arch"]),
            libc=str(data["libc"]),
            source=dict(data.get("source", {})),
            packages=pkgs,
            skipped=tuple(data.get("skipped", ())),
            exclude=tuple(data.get("exclude", ())),
            exclude_reason=data.get("exclude_reason"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"{shown(path)}: malformed lock file ({type(exc).__name__}: {exc})") from None


# --- the cache -----------------------------------------------------------------------

PARTIAL = ".partial-"


def sweep_partials(cache: Path, log: Log = _quiet) -> list[Path]:
    """Remove the ``.partial-*`` folders of downloads that were killed.

    Call it with the download cache's lock held: a download makes, fills and removes its
    partial folder only while it holds that lock, and the kernel drops a dead process's lock,
    so any partial folder seen by the lock's holder has no live owner.
    """
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(cache) if n.startswith(PARTIAL)]
    except OSError:
        return removed
    for name in sorted(names):
        p = cache / name
        if p.is_symlink() or not p.is_dir():
            continue  # not one of ours
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
        log(f"removed the partial download {p} of a run that was stopped")
    return removed


def fetch_debs(apt: Apt, records: Sequence[PackageRecord], log: Log) -> tuple[dict[str, Path], int]:
    """Every record's .deb in the shared cache, sha256-checked. Returns paths and #downloaded."""
    cache = debs_dir()
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with _locked(cache / ".lock", "the download cache", log):
        sweep_partials(cache, log)
        missing: list[PackageRecord] = []
        for rec in records:
            p = cache / PurePosixPath(rec.filename).name
            if p.is_file() and sha256_file(p) == rec.sha256:
                out[rec.name] = p
            else:
                missing.append(rec)
        if missing:
            log(f"downloading {len(missing)} packages ({sum(r.size for r in missing) // 1024} KiB)")
            part = cache / f"{PARTIAL}{secrets.token_hex(4)}"
            part.mkdir()
            try:
                apt.download(missing, part)
                by_hash = {sha256_file(f): f for f in part.iterdir() if f.suffix == ".deb"}
                for rec in missing:
                    got = by_hash.get(rec.sha256)
                    if got is None:
                        raise EnvironmentProblem(
                            f"downloaded {rec.name} {rec.version} does not match the sha256 in apt's index"
                        )
                    dst = cache / PurePosixPath(rec.filename).name
                    os.replace(got, dst)
                    out[rec.name] = dst
            finally:
                shutil.rmtree(part, ignore_errors=True)
    return out, len(missing)


# --- create --------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateResult:
    name: str
    path: Path
    digest: str
    packages: int
    downloaded: int
    reused: bool  # already there and complete; nothing done
    seconds: float
    size_bytes: int
    skipped: tuple[dict[str, str], ...] = ()
    rewritten_links: int = 0
    lock_written: Path | None = None


def is_complete(path: Path) -> bool:
    """A real ``.cgocheck/complete`` (no link followed: see cgocheck.sysroot.meta)."""
    return meta.is_complete(path)


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, f))
                if stat.S_ISREG(st.st_mode):
                    total += st.st_size
    return total


def clean_stale(held: str | None, log: Log) -> list[Path]:
    """Remove the ``.tmp-*`` folders of interrupted creations.

    ``held`` is the name whose per-sysroot lock the caller holds: its folders go at once.
    Another name's go only if its lock is free (no create of that name is running).
    """
    removed: list[Path] = []
    top = folders.sysroots()
    if not top.is_dir():
        return removed
    for p in sorted(top.glob(".tmp-*")):
        owner = _tmp_owner(p.name)
        if owner is None:
            continue
        lock = FileLock(str(locks_dir() / f"{owner}.lock"))
        if owner != held:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # another process is creating it right now
        try:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
            log(f"removed stale {p}")
        finally:
            if owner != held:
                lock.release()
    return removed


def _tmp_owner(folder: str) -> str | None:
    # .tmp-<name>-<8 hex>  or  .tmp-<name>-old-<8 hex>
    if not folder.startswith(".tmp-"):
        return None
    rest = folder[5:]
    name, _, tail = rest.rpartition("-")
    if len(tail) != 8:
        return None
    if name.endswith("-old"):
        name = name[:-4]
    return name or None


def resolve_records(recipe: Recipe, apt: Apt, log: Log) -> tuple[list[PackageRecord], list[dict[str, str]]]:
    log(f"resolving the dependency closure of {', '.join(recipe.packages)}")
    deps, real = apt.depends(list(recipe.packages))
    unknown = [p for p in recipe.packages if p not in real]
    if unknown:
        raise BadInput(f"recipe {recipe.name}: {', '.join(unknown)} not available for {recipe.suite}/{recipe.arch}")
    closure = resolve_closure(recipe.packages, deps, real, recipe.exclude, exclude_reason=recipe.exclude_reason)
    recs = apt.show(closure.packages)
    lost = [p for p in closure.packages if p not in recs]
    if lost:
        raise EnvironmentProblem(f"apt has no installable version of {', '.join(lost)} for {recipe.arch}")
    return [recs[p] for p in closure.packages], closure.skipped


def locked_records(recipe: Recipe, apt: Apt, lock: LockFile, where: Path) -> list[PackageRecord]:
    if (lock.recipe, lock.suite, lock.arch) != (recipe.name, recipe.suite, recipe.arch):
        raise BadInput(
            f"{where}: lock file is for {lock.recipe} ({lock.suite}/{lock.arch}), "
            f"not {recipe.name} ({recipe.suite}/{recipe.arch})"
        )
    recs = apt.show([p.spec for p in lock.packages])
    for want in lock.packages:
        got = recs.get(want.name)
        if got is None or got.version != want.version:
            raise EnvironmentProblem(
                f"the archive no longer has {want.name} {want.version} (locked in {where}); "
                f"recreate without --locked and --write-lock to move on"
            )
        if got.sha256 != want.sha256:
            raise EnvironmentProblem(f"{want.name} {want.version}: the archive's sha256 differs from {where}")
    return list(lock.packages)


def create(
    recipe: Recipe,
    *,
    locked: bool = False,
    force: bool = False,
    refresh: bool = False,
    write_lock: bool = False,
    log: Log = _quiet,
) -> CreateResult:
    """Create (or find, if already complete) the sysroot of ``recipe``."""
    from cgocheck.sysroot.info import inspect_sysroot

    t0 = time.monotonic()
    for tool, package in (("dpkg-deb", "dpkg"), ("tar", "tar")):
        if shutil.which(tool) is None:
            raise EnvironmentProblem(f"{tool} not found: sysroot creation needs it; {hints.tool(package)}")
    dest = folders.sysroots() / recipe.name
    lock_path = lock_file_for(recipe) if (locked or write_lock) else None
    with _locked(locks_dir() / f"{recipe.name}.lock", f"sysroot {recipe.name}", log):
        clean_stale(recipe.name, log)
        stale = False
        made: dict[str, object] = {}
        if is_complete(dest) and not force:
            made = meta.read_meta_json(dest, "meta.json")
            made_by = made.get("creator")
            if made_by != creation_digest():
                log(
                    f"warning: {recipe.name} was made by other creation code ({made_by or 'unrecorded'}, "
                    f"this is {creation_digest()}): re-making it"
                )
                stale = True
        if is_complete(dest) and not force and not stale:
            digest = str(made.get("digest", ""))
            if locked and lock_path is not None:
                lock = read_lock(lock_path)
                have = sysroot_lock(dest)
                if have.as_json()["packages"] != lock.as_json()["packages"]:
                    raise BadInput(
                        f"sysroot {recipe.name} exists with other versions than {lock_path}; add --force to recreate it"
                    )
            written_existing: Path | None = None
            if write_lock and lock_path is not None:
                text = meta.read_meta_file(dest, "lock.json", files.LOCK)
                files.write_text(lock_path, text, "write the lock file")
                written_existing = lock_path
            return CreateResult(
                name=recipe.name,
                path=dest,
                digest=digest,
                lock_written=written_existing,
                packages=_int(made.get("packages")),
                downloaded=0,
                reused=True,
                seconds=time.monotonic() - t0,
                size_bytes=_int(made.get("size_bytes")),
            )

        source = (
            AptSource(
                uris=recipe.source.uris,
                suite=recipe.suite,
                components=recipe.source.components,
                signed_by=recipe.source.signed_by,
            )
            if recipe.source
            else host_source(recipe.suite)
        )
        apt = Apt(apt_state(recipe), recipe.arch, source, log)
        remake = _cached_remake(dest, recipe, log) if stale and not locked else None
        if remake is not None:  # the same packages it was made of, all in the download cache
            records, skipped, debs, downloaded = [*remake[0].packages], [*remake[0].skipped], remake[1], 0
        else:
            records, skipped, debs, downloaded = _fetch(recipe, apt, locked, lock_path, refresh, log)

        folders.sysroots().mkdir(parents=True, exist_ok=True)
        tmp = folders.sysroots() / f".tmp-{recipe.name}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            # marks it as ours and unfinished: even by path it is refused until `complete`
            (tmp / META_DIR).mkdir()
            files.write_text(tmp / META_DIR / "creating", f"{os.getpid()}\n")
            log(f"unpacking {len(records)} packages into {tmp}")
            if recipe.usrmerge:
                make_usrmerge(tmp, before=True)
            changed: list[tuple[str, str, str]] = []
            for rec in sorted(records, key=lambda r: r.name):
                names = extract_deb(debs[rec.name], tmp)
                # the package's control stanza, file list, symbols and shlibs (cgocheck deps, SBOMs)
                keep_package(tmp / META_DIR / "dpkg", debs[rec.name], names)
                # before the next package: no file of it may be written through a link that leads out
                changed += rewrite_symlinks(tmp)
            if recipe.usrmerge:
                make_usrmerge(tmp, before=False)
            changed += rewrite_symlinks(tmp)
            lock = LockFile(
                recipe=recipe.name,
                suite=recipe.suite,
                arch=recipe.arch,
                libc=recipe.libc,
                source=source.as_json(),
                packages=tuple(records),
                skipped=tuple(skipped),
                exclude=recipe.exclude,
                exclude_reason=recipe.exclude_reason,
            )
            digest = content_digest(tmp)
            info = inspect_sysroot(tmp, allow_incomplete=True)
            if info.libc != recipe.libc:
                raise EnvironmentProblem(
                    f"{recipe.name}: expected a {recipe.libc} sysroot, found libc {info.libc or 'none'}"
                )
            if recipe.libc_version and info.libc_version != recipe.libc_version:
                raise EnvironmentProblem(
                    f"{recipe.name}: the recipe expects {recipe.libc} {recipe.libc_version}, "
                    f"the packages gave {info.libc_version}"
                )
            checked = check_sysroot(tmp, arch=recipe.arch, libc=recipe.libc)
            if not checked.ok:
                for p in checked.problems[1:20]:
                    log(f"warning: {recipe.name}: {p}")
                more = f" (and {checked.total - 1} more)" if checked.total > 1 else ""
                raise EnvironmentProblem(
                    f"{recipe.name} failed its check, so it was not kept: {checked.first()}{more}"
                )
            size = _tree_size(tmp)
            meta_dir = tmp / META_DIR
            (meta_dir / "creating").unlink()
            files.write_text(meta_dir / "lock.json", lock.dumps())
            files.write_text(meta_dir / "digest", digest + "\n")
            record = {
                "name": recipe.name,
                "suite": recipe.suite,
                "arch": recipe.arch,
                "libc": info.libc,
                "libc_version": info.libc_version,
                "loader": info.loader,
                "targets": list(info.targets),
                "digest": digest,
                "packages": len(records),
                "size_bytes": size,
                "rewritten_links": len(changed),
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "cgocheck": __version__,
                "creator": creation_digest(),
                "requested": list(recipe.packages),
                "check": checked.counts,
                "recipe_file": str(recipe.path) if recipe.path else None,
            }
            files.write_text(meta_dir / "meta.json", json.dumps(record, indent=2) + "\n")
            old: Path | None = None
            if dest.exists() or dest.is_symlink():
                old = folders.sysroots() / f".tmp-{recipe.name}-old-{secrets.token_hex(4)}"
                os.rename(dest, old)
            os.rename(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        files.write_text(dest / META_DIR / COMPLETE, digest + "\n")
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        written: Path | None = None
        if write_lock and lock_path is not None:
            files.write_text(lock_path, lock.dumps(), "write the lock file")
            written = lock_path
        return CreateResult(
            name=recipe.name,
            path=dest,
            digest=digest,
            packages=len(records),
            downloaded=downloaded,
            reused=False,
            seconds=time.monotonic() - t0,
            size_bytes=size,
            skipped=tuple(skipped),
            rewritten_links=len(changed),
            lock_written=written,
        )


def _fetch(
    recipe: Recipe, apt: Apt, locked: bool, lock_path: Path | None, refresh: bool, log: Log
) -> tuple[list[PackageRecord], list[dict[str, str]], dict[str, Path], int]:
    """The records (resolved, or as locked) and their .debs in the cache: (records, skipped,
    debs, how many were downloaded)."""
    with _locked(apt.state / ".lock", f"apt state {recipe.state_key}", log):
        if apt.update(refresh=refresh):
            log(f"updated package lists for {recipe.suite}/{recipe.arch}")
        skipped: list[dict[str, str]] = []
        if locked:
            assert lock_path is not None
            lock = read_lock(lock_path)
            records = locked_records(recipe, apt, lock, lock_path)
            skipped = list(lock.skipped)
        else:
            records, skipped = resolve_records(recipe, apt, log)
        debs, downloaded = fetch_debs(apt, records, log)
    return records, skipped, debs, downloaded


def _cached_remake(dest: Path, recipe: Recipe, log: Log) -> tuple[LockFile, dict[str, Path]] | None:
    """A sysroot made by other creation code is re-made from the packages its lock names when
    every one of them is in the download cache with its sha256 (no apt, no network)."""
    try:
        lock = sysroot_lock(dest)
    except BadInput:
        return None
    if (lock.recipe, lock.suite, lock.arch) != (recipe.name, recipe.suite, recipe.arch):
        return None
    if sorted(lock.exclude) != sorted(recipe.exclude):
        return None
    if meta.read_meta_json(dest, "meta.json").get("requested") != list(recipe.packages):
        return None  # the recipe asks for other packages now: resolve them again
    debs: dict[str, Path] = {}
    for rec in lock.packages:
        p = debs_dir() / PurePosixPath(rec.filename).name
        if not p.is_file() or sha256_file(p) != rec.sha256:
            return None
        debs[rec.name] = p
    log(f"re-making {recipe.name} from the {len(debs)} cached packages of its lock")
    return lock, debs


def _int(v: object) -> int:
    return v if isinstance(v, int) else 0
