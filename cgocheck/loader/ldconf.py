"""The library folders a target's ld.so.cache would list, read from the sysroot's config.

glibc's loader never reads ``/etc/ld.so.conf`` itself: ``ldconfig`` turns it (and the
trusted folders) into ``/etc/ld.so.cache``, which the loader consults after RUNPATH and
before its built-in folders. A sysroot made with ``dpkg -x`` has no cache, but the target
machine will (libc-bin's postinst runs ldconfig), so resolve models the cache stage by the
folders of ld.so.conf, in ldconfig's order:

- one folder per line, ``#`` starts a comment, blanks are ignored;
- ``include PATTERN...`` reads every file the glob matches, sorted as glob(3) sorts them;
  a relative pattern is relative to the including file's folder;
- ``hwcap`` lines are ignored (ldconfig itself ignores them since glibc 2.37);
- the old ``DIR=TYPE`` form keeps the folder and drops the type;
- a folder listed twice counts once (ldconfig's add_dir skips duplicates).

musl's loader reads ``/etc/ld-musl-<arch>.path`` instead: folders separated by ``:`` or
newlines, no includes; absent, it uses ``/lib:/usr/local/lib:/usr/lib``.

Every file is read through FsRoot, so an include glob or a symlinked config file can never
reach outside the sysroot.

ldconfig has no limits; this model has budgets, each a note naming it when exceeded (what
was read up to then still counts): paths a glob visits (MAX_GLOB_PATHS over the whole
configuration: ``x -> .`` links make ``*/*/.../*.conf`` visit 4^13 paths), components of a
pattern (MAX_PATTERN_PARTS), include depth (MAX_INCLUDE_DEPTH), files read (MAX_CONF_FILES),
bytes read (MAX_CONF_TOTAL) and folders listed (MAX_CONF_DIRS). A real sysroot's
configuration is a handful of files, folders and paths.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass

from cgocheck.core import files
from cgocheck.core.errors import BadInput
from cgocheck.sysroot.fsroot import FsRoot

LD_SO_CONF = "/etc/ld.so.conf"
LD_SO_CONF_D = "/etc/ld.so.conf.d"
MAX_INCLUDE_DEPTH = 16  # ldconfig has no limit; an include cycle would loop forever there
MAX_CONF_FILES = 256  # config files read (Debian's: ld.so.conf and 2-5 in ld.so.conf.d)
MAX_CONF_TOTAL = 4 << 20  # bytes of them, all together (each at most files.LDCONF's 1 MiB)
MAX_CONF_DIRS = 1000  # folders listed (a real one lists 3-10)
MAX_GLOB_PATHS = 10_000  # names and paths all of the configuration's globs look at
MAX_PATTERN_PARTS = 32  # components of one include pattern
MAX_NOTES = 50  # notes kept per configuration; the rest are counted in one more
MUSL_DEFAULT = ("/lib", "/usr/local/lib", "/usr/lib")


def _capped(notes: list[str]) -> tuple[str, ...]:
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    return (*notes[:MAX_NOTES], f"and {len(notes) - MAX_NOTES} more notes about the loader's configuration")


@dataclass(frozen=True)
class LdConf:
    """The folders, in order, and how we got them."""

    dirs: tuple[str, ...]
    files: tuple[str, ...]  # config files read, in order (guest paths)
    notes: tuple[str, ...] = ()
    present: bool = True  # False: the sysroot has no config at all


class Budget:
    """What the reading of one configuration may still cost; each exceeded budget is noted once."""

    def __init__(self, notes: list[str], paths: int = MAX_GLOB_PATHS) -> None:
        self.notes = notes
        self.limit = paths
        self.paths = paths
        self.files = MAX_CONF_FILES
        self.bytes = MAX_CONF_TOTAL
        self.noted: set[str] = set()

    def note(self, key: str, message: str) -> None:
        if key not in self.noted:
            self.noted.add(key)
            self.notes.append(message)

    def visit(self, n: int, pattern: str) -> bool:
        """Spend N path visits; False (and a note) when the budget is gone."""
        self.paths -= n
        if self.paths < 0:
            self.note("paths", f"include {pattern}: more than {self.limit} paths looked at by the "
                               "configuration's globs; stopped there (budget of glob paths)")
            return False
        return True


def _read_text(root: FsRoot, guest: str, notes: list[str], budget: Budget | None = None,
               limits: files.Limits = files.LDCONF) -> str | None:
    try:
        r, data = root.read_bytes(guest, limits)
    except FileNotFoundError:
        return None
    except files.FileProblem as err:
        notes.append(f"{err.message}: not read")
        return None
    except BadInput as err:
        notes.append(f"{guest}: {err.message}")
        return None
    except OSError as exc:
        notes.append(f"{guest}: {exc.strerror or exc}")
        return None
    if budget is not None:
        if len(data) > budget.bytes:
            budget.note("bytes", f"{r.guest}: the configuration's files hold more than {MAX_CONF_TOTAL} bytes; "
                                 "not read (budget of bytes read)")
            return None
        budget.bytes -= len(data)
    return data.decode("utf-8", "replace")


def glob_in_root(root: FsRoot, pattern: str, budget: Budget | None = None) -> list[str]:
    """glob(3) inside the sysroot: absolute guest paths matching PATTERN, sorted per folder.

    Like glob, ``*`` and ``?`` do not match a leading dot, and links are followed through
    FsRoot (re-rooted), never onto the host. The paths looked at are counted against BUDGET
    (a fresh one when not given): past it, what was found up to then is returned.
    """
    budget = budget or Budget([])
    try:
        return _glob(root, pattern, budget)
    except BadInput:  # a link loop on the way: glob(3) would see no match there
        return []


def _glob(root: FsRoot, pattern: str, budget: Budget) -> list[str]:
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    if len(parts) > MAX_PATTERN_PARTS:
        budget.note(f"parts {pattern}", f"include {pattern}: more than {MAX_PATTERN_PARTS} components; "
                                        "not expanded (budget of pattern components)")
        return []
    paths = ["/"]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt: list[str] = []
        for base in paths:
            if part == "..":
                nxt.append(posixpath.dirname(base.rstrip("/")) or "/")
                continue
            if not budget.visit(1, pattern):
                return sorted(nxt) if last else []
            if not any(c in part for c in "*?["):
                cand = posixpath.join(base, part)
                if (last and root.exists(cand)) or (not last and root.is_dir(cand)):
                    nxt.append(cand)
                continue
            names = root.listdir(base, limit=max(1, budget.paths + 1))
            if not budget.visit(len(names), pattern):
                return sorted(nxt) if last else []
            for name in names:
                if name.startswith(".") and not part.startswith("."):
                    continue
                if fnmatch.fnmatchcase(name, part):
                    cand = posixpath.join(base, name)
                    if last or root.is_dir(cand):
                        nxt.append(cand)
        paths = nxt
        if not paths:
            break
    return sorted(paths) if parts else []


def _norm_dir(d: str) -> str:
    d = posixpath.normpath(d)
    return "/" if d in ("/", "//") else d.rstrip("/")


def read_ld_so_conf(root: FsRoot, conf: str = LD_SO_CONF) -> LdConf:
    """Folders listed by ld.so.conf and its includes, in ldconfig's order.

    When the sysroot has no /etc/ld.so.conf but has /etc/ld.so.conf.d (Debian's libc6 ships
    the folder, libc-bin the file), the Debian file's one line is assumed:
    ``include /etc/ld.so.conf.d/*.conf``.
    """
    notes: list[str] = []
    read: list[str] = []
    dirs: dict[str, None] = {}  # ordered, and a folder listed twice counts once in O(1)
    seen_files: set[str] = set()
    budget = Budget(notes)

    def parse(text: str, guest: str, depth: int) -> None:
        here = posixpath.dirname(guest) or "/"
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            inc = re.match(r"include[ \t]+(.*)", line)
            if inc:
                for pat in inc.group(1).split():
                    if not pat.startswith("/"):
                        pat = posixpath.join(here, pat)
                    for match in glob_in_root(root, pat, budget):
                        include(match, depth + 1)
                continue
            if re.match(r"hwcap[ \t]", line):
                notes.append(f"{guest}:{lineno}: 'hwcap' line ignored")
                continue
            entry = line.split("=", 1)[0].strip()
            if not entry.startswith("/"):
                notes.append(f"{guest}:{lineno}: relative folder {entry!r} ignored (ldconfig needs absolute ones)")
                continue
            d = _norm_dir(entry)
            if d not in dirs:
                if len(dirs) >= MAX_CONF_DIRS:
                    budget.note("dirs", f"{guest}:{lineno}: more than {MAX_CONF_DIRS} folders listed; "
                                        "the rest ignored (budget of folders)")
                    continue
                dirs[d] = None

    def include(guest: str, depth: int) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            budget.note(f"depth {guest}", f"{guest}: includes nested deeper than {MAX_INCLUDE_DEPTH} (a cycle?), "
                                          "not read (budget of include depth)")
            return
        try:
            real = root.resolve(guest)
        except BadInput as err:
            notes.append(f"{guest}: {err.message}")
            return
        if real is None:
            return
        if real.guest in seen_files:
            notes.append(f"{guest}: already read (include cycle or duplicate), skipped")
            return
        if len(seen_files) >= MAX_CONF_FILES:
            budget.note("files", f"more than {MAX_CONF_FILES} config files; stopped at {guest} "
                                 "(budget of files read)")
            return
        seen_files.add(real.guest)
        text = _read_text(root, guest, notes, budget)
        if text is None:
            return
        read.append(guest)
        parse(text, guest, depth)

    try:
        has_conf = root.resolve(conf) is not None
        has_conf_d = root.is_dir(LD_SO_CONF_D)
    except BadInput as err:
        notes.append(f"{conf}: {err.message}")
        has_conf = has_conf_d = False
    if has_conf:
        include(conf, 0)
    elif conf == LD_SO_CONF and has_conf_d:
        notes.append(f"no {LD_SO_CONF}: assumed Debian's 'include {LD_SO_CONF_D}/*.conf'")
        parse(f"include {LD_SO_CONF_D}/*.conf\n", conf, 0)
    else:
        return LdConf(dirs=(), files=(), notes=_capped(notes), present=False)
    return LdConf(dirs=tuple(dirs), files=tuple(read), notes=_capped(notes), present=True)


def musl_path_file(loader_guest: str, ldso_arch: str) -> str:
    """Where musl's loader looks for its path file: <prefix>/etc/ld-musl-<arch>.path, the
    prefix being the loader's path minus its last two components (``/lib/ld-musl-x.so.1``
    gives ``/etc/...``, ``/usr/lib/...`` gives ``/usr/etc/...``)."""
    prefix = posixpath.dirname(posixpath.dirname(loader_guest)) if loader_guest.startswith("/") else ""
    return f"{prefix.rstrip('/')}/etc/ld-musl-{ldso_arch}.path"


def read_musl_path(root: FsRoot, path_file: str) -> LdConf:
    """musl's search folders: the path file's folders, or musl's built-in default."""
    notes: list[str] = []
    text = _read_text(root, path_file, notes, limits=files.MUSL_PATH)
    if text is None:
        notes.append(f"no {path_file}: musl's default folders")
        return LdConf(dirs=MUSL_DEFAULT, files=(), notes=tuple(notes), present=False)
    # musl reads the whole file and splits it on ':' and newlines; no comments.
    dirs: dict[str, None] = {}
    for chunk in text.split("\0", 1)[0].replace("\n", ":").split(":"):
        d = chunk.strip()
        if not d:
            continue
        if not d.startswith("/"):
            notes.append(f"{path_file}: relative folder {d!r} (relative to the working directory) not searched")
            continue
        d = _norm_dir(d)
        if d not in dirs:
            if len(dirs) >= MAX_CONF_DIRS:
                notes.append(f"{path_file}: more than {MAX_CONF_DIRS} folders; the rest ignored (budget of folders)")
                break
            dirs[d] = None
    return LdConf(dirs=tuple(dirs), files=(path_file,), notes=_capped(notes), present=True)
