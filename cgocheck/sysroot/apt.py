"""Rootless apt: another suite's and architecture's package lists in a private state folder.

Nothing here reads or writes the machine's apt state: lists, cache and the (empty) dpkg
status live under ``paths.home()/apt/<suite>-<arch>/``, the sources come from a file we
write there, and ``Dir::Etc::SourceList`` is ``/dev/null``. The machine's apt.conf.d is
still read (its proxy settings are what make the archive reachable).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cgocheck.core import files, hints
from cgocheck.core.errors import EnvironmentProblem

HOST_SOURCES_DIR = Path("/etc/apt/sources.list.d")
LISTS_MAX_AGE = 24 * 3600  # seconds: `apt-get update` again after a day

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class AptSource:
    """One deb822 stanza, with exactly one suite."""

    uris: tuple[str, ...]
    suite: str
    components: tuple[str, ...]
    signed_by: str | None
    types: tuple[str, ...] = ("deb",)

    def render(self) -> str:
        lines = [
            f"Types: {' '.join(self.types)}",
            f"URIs: {' '.join(self.uris)}",
            f"Suites: {self.suite}",
            f"Components: {' '.join(self.components)}",
        ]
        if self.signed_by:
            if "\n" in self.signed_by:  # an inline key block: continuation lines
                body = "\n".join(" " + (ln if ln.strip() else ".") for ln in self.signed_by.splitlines())
                lines.append("Signed-By:\n" + body)
            else:
                lines.append(f"Signed-By: {self.signed_by}")
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, object]:
        return {
            "uris": list(self.uris),
            "suite": self.suite,
            "components": list(self.components),
            "signed_by": self.signed_by,
        }


def parse_deb822(text: str) -> list[dict[str, str]]:
    """Stanzas of a deb822 file; comment lines dropped, continuation lines joined by newlines.

    A continuation line holding only ``.`` is an empty line of a multi-line value.
    """
    stanzas: list[dict[str, str]] = []
    cur: dict[str, list[str]] = {}
    key: str | None = None

    def close() -> None:
        if cur:
            stanzas.append({k: "\n".join(v) for k, v in cur.items()})

    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            close()
            cur, key = {}, None
            continue
        if raw[0] in " \t" and key is not None:
            cont = raw.strip()
            cur[key].append("" if cont == "." else cont)
            continue
        k, sep, v = raw.partition(":")
        if not sep:
            continue
        key = k.strip()
        cur[key] = [v.strip()] if v.strip() else []
    close()
    return stanzas


def host_source(suite: str, directory: Path = HOST_SOURCES_DIR) -> AptSource:
    """The first stanza of the machine's first deb822 ``*.sources`` file, for ``suite``."""
    found = sorted(directory.glob("*.sources")) if directory.is_dir() else []
    for f in found:
        try:
            stanzas = parse_deb822(files.read_text(f, files.APT_SOURCES))
        except files.FileProblem:
            continue
        for st in stanzas:
            if st.get("Enabled", "yes").lower() == "no" or "URIs" not in st:
                continue
            types = tuple(st.get("Types", "deb").split())
            if "deb" not in types:
                continue
            return AptSource(
                uris=tuple(st["URIs"].split()),
                suite=suite,
                components=tuple(st.get("Components", "main").split()),
                signed_by=st.get("Signed-By"),
                types=("deb",),
            )
    raise EnvironmentProblem(f"no deb822 apt source (*.sources) in {directory}; give the recipe a [source] table")


@dataclass(frozen=True)
class PackageRecord:
    """What apt's index says about one package version."""

    name: str
    version: str
    architecture: str
    filename: str  # pool path, e.g. pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_arm64.deb
    sha256: str
    size: int

    @property
    def spec(self) -> str:
        return f"{self.name}={self.version}"

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "architecture": self.architecture,
            "filename": self.filename,
            "sha256": self.sha256,
            "size": self.size,
        }


@dataclass(frozen=True)
class DepAlternative:
    name: str
    virtual: bool  # shown as <name>: no version of its own for this arch
    providers: tuple[str, ...]  # packages listed under it (for a virtual name)


Depends = dict[str, list[list[DepAlternative]]]  # package -> groups of alternatives


def parse_depends(text: str) -> tuple[Depends, set[str]]:
    """Parse ``apt-cache depends [--recurse]`` output.

    Returns each package's dependency groups (an ``|`` prefix joins a line to the next
    one as an alternative) and the set of real packages (headers not in angle brackets).
    """
    deps: Depends = {}
    real: set[str] = set()
    cur: list[list[DepAlternative]] | None = None
    pending: list[DepAlternative] = []
    continues = False
    last: DepAlternative | None = None
    line_re = re.compile(r"^ (\|| )(PreDepends|Depends): (.+)$")

    def flush() -> None:
        nonlocal pending
        if cur is not None and pending:
            cur.append(pending)
        pending = []

    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            flush()
            continues = False
            last = None
            head = line.strip()
            if head.startswith("<") and head.endswith(">"):
                cur = None
                continue
            name = head.split(":", 1)[0] if head.endswith((":any", ":native")) else head
            real.add(name)
            cur = deps.setdefault(name, [])
            continue
        if cur is None:
            continue
        m = line_re.match(line)
        if m:
            if not continues:
                flush()
            target = m.group(3).strip()
            virtual = target.startswith("<") and target.endswith(">")
            target = target.strip("<>")
            if ":" in target:  # foo:any in multi-arch relations
                target = target.split(":", 1)[0]
            last = DepAlternative(target, virtual, ())
            pending.append(last)
            continues = m.group(1) == "|"
            continue
        if line.startswith("    ") and last is not None and pending and pending[-1] is last:
            # a provider listed under the previous (usually virtual) name
            prov = line.strip().split(":", 1)[0]
            last = DepAlternative(last.name, last.virtual, (*last.providers, prov))
            pending[-1] = last
            continue
        # another relation type (Breaks, Recommends ... should be filtered out already)
        if not continues:
            flush()
        last = None
    flush()
    return deps, real


@dataclass
class Closure:
    packages: list[str]  # in discovery order, roots first
    skipped: list[dict[str, str]]  # dependencies left out and why


# Left out of every closure unless a recipe asks for them by name. They are there so that a
# live system can run the maintainer scripts (postinst & co) of the packages that depend
# on them; unpacking with dpkg-deb runs no script, and none ships a header, a library or a
# .pc file a cgo build links against. Following them would drag in dpkg, perl-base and
# their own closures (tar, bzip2, xz, selinux ...) for nothing.
MAINTSCRIPT_ONLY: dict[str, str] = {
    "debconf": "configuration prompts of maintainer scripts",
    "debconf-2.0": "configuration prompts of maintainer scripts (virtual)",
    "cdebconf": "configuration prompts of maintainer scripts",
    "perl-base": "the interpreter of maintainer scripts and debconf",
    "dpkg": "the package manager itself (maintainer scripts call it)",
    "install-info": "registers info manuals from maintainer scripts",
    "init-system-helpers": "service registration in maintainer scripts",
    "lsb-base": "init script helpers",
    "sysvinit-utils": "init script helpers",
    "adduser": "creates system users in maintainer scripts",
    "ucf": "configuration file handling in maintainer scripts",
    "sensible-utils": "editor/pager selection for maintainer scripts",
}


def resolve_closure(
    roots: Sequence[str],
    deps: Depends,
    real: set[str],
    exclude: Iterable[str] = (),
    *,
    exclude_reason: str | None = None,
    maintscript_only: dict[str, str] | None = None,
) -> Closure:
    """Pick what apt would, without apt's solver.

    Each dependency group is satisfied by, in order: an alternative (or a provider of one)
    already chosen; the first alternative that is a real package; the first real provider
    of the first virtual alternative that has one. Excluded names (the recipe's, and
    :data:`MAINTSCRIPT_ONLY` unless a root names them) never count and are never chosen.
    A group nothing can satisfy for this architecture is skipped and recorded.
    """
    default = MAINTSCRIPT_ONLY if maintscript_only is None else maintscript_only
    reasons = {n: f"maintainer scripts only: {why}" for n, why in default.items() if n not in roots}
    reasons.update({n: f"excluded by the recipe: {exclude_reason or 'no reason given'}" for n in exclude})
    excluded = set(reasons)
    chosen: list[str] = []
    seen: set[str] = set()
    skipped: list[dict[str, str]] = []
    queue: list[str] = []
    for r in roots:
        if r not in seen:
            seen.add(r)
            chosen.append(r)
            queue.append(r)
    while queue:
        pkg = queue.pop(0)
        for group in deps.get(pkg, []):
            alts = [a for a in group if a.name not in excluded]
            names = " | ".join(a.name for a in group)
            if not alts:
                why = reasons[group[0].name]
                skipped.append({"package": pkg, "dependency": names, "reason": why})
                continue
            if any(a.name in seen or any(p in seen for p in a.providers) for a in alts):
                continue
            pick: str | None = None
            for a in alts:
                if not a.virtual and a.name in real:
                    pick = a.name
                    break
            if pick is None:
                for a in alts:
                    provs = [p for p in a.providers if p in real and p not in excluded]
                    if provs:
                        pick = provs[0]
                        break
            if pick is None:
                skipped.append({"package": pkg, "dependency": names, "reason": "no installable package for this arch"})
                continue
            seen.add(pick)
            chosen.append(pick)
            queue.append(pick)
    return Closure(packages=chosen, skipped=skipped)


def parse_show(text: str) -> list[PackageRecord]:
    out: list[PackageRecord] = []
    for st in parse_deb822(text):
        try:
            out.append(
                PackageRecord(
                    name=st["Package"],
                    version=st["Version"],
                    architecture=st["Architecture"],
                    filename=st["Filename"],
                    sha256=st["SHA256"].lower(),
                    size=int(st.get("Size", "0")),
                )
            )
        except KeyError:
            continue
    return out


def _mtime(p: Path) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(p.stat().st_mtime))


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.startswith(("E:", "Err:"))]
    pick = errs[0] if errs else (lines[-1] if lines else f"exit status {proc.returncode}")
    return pick[:400]


class Apt:
    """apt-get/apt-cache bound to one suite and architecture's private state folder."""

    def __init__(self, state: Path, arch: str, source: AptSource, log: Log = _quiet) -> None:
        self.state = state
        self.arch = arch
        self.source = source
        self.log = log
        for tool in ("apt-get", "apt-cache"):
            if shutil.which(tool) is None:
                raise EnvironmentProblem(f"{tool} not found: sysroot creation needs Debian's apt; {hints.tool('apt')}")

    @property
    def lists(self) -> Path:
        return self.state / "lists"

    def options(self) -> list[str]:
        s = self.state
        opts = {
            "APT::Architecture": self.arch,
            "APT::Architectures": self.arch,
            "Dir::State": str(s / "state"),
            "Dir::State::Lists": str(self.lists),
            "Dir::State::status": str(s / "status"),
            "Dir::Cache": str(s / "cache"),
            # Docker-style hosts turn apt's binary cache off (docker-clean); in our private
            # folder pkgcache.bin (~35 MB a suite/arch) is worth keeping: apt-cache answers
            # in 0.1 s instead of 0.7 s. The source cache would double that for no gain.
            "Dir::Cache::pkgcache": "pkgcache.bin",
            "Dir::Cache::srcpkgcache": "",
            "Dir::Etc::SourceList": "/dev/null",
            "Dir::Etc::SourceParts": str(s / "sources.list.d"),
            "Dir::Etc::Preferences": "/dev/null",
            "Dir::Etc::PreferencesParts": str(s / "preferences.d"),
            "Acquire::Languages": "none",
            "APT::Get::List-Cleanup": "true",
        }
        if os.geteuid() == 0:
            # apt would drop to _apt, which cannot write into our folders.
            opts["APT::Sandbox::User"] = "root"
        out: list[str] = []
        for k, v in opts.items():
            out += ["-o", f"{k}={v}"]
        return out

    def prepare(self) -> None:
        for d in ("state", "lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d"):
            (self.state / d).mkdir(parents=True, exist_ok=True)
        status = self.state / "status"
        if not status.exists():
            status.touch()
        src = self.state / "sources.list.d" / "cgocheck.sources"
        text = self.source.render()
        try:
            have = files.read_text(src, files.APT_SOURCES)
        except files.FileProblem:
            have = None
        if have != text:
            files.write_text(src, text)
            stamp = self.state / "updated"
            if stamp.exists():
                stamp.unlink()  # a different source: the lists are stale

    def run(self, tool: str, args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [tool, *self.options(), *args]
        self.log("+ " + " ".join([tool, *args]))
        env = dict(os.environ, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
        try:
            return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
        except FileNotFoundError:
            hint = hints.tool("apt")
            raise EnvironmentProblem(f"{tool} not found: sysroot creation needs Debian's apt; {hint}") from None

    def lists_fresh(self) -> bool:
        stamp = self.state / "updated"
        if not stamp.is_file():
            return False
        if not any(self.lists.glob(f"*_binary-{self.arch}_Packages*")):
            return False
        return time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE

    def update(self, refresh: bool = False) -> bool:
        """``apt-get update`` when lists are missing, a day old, or ``refresh``; True if run."""
        self.prepare()
        if not refresh and self.lists_fresh():
            return False
        stamp = self.state / "updated"
        had_lists = stamp.is_file()  # a complete earlier update
        proc = self.run("apt-get", ["-q", "update"])
        # apt-get update exits 0 on some fetch failures (W:) and 100 on others (E:).
        have = any(self.lists.glob(f"*_binary-{self.arch}_Packages*"))
        if proc.returncode != 0 or not have:
            why = _error_line(proc) if proc.returncode != 0 else "no package list for this arch"
            if had_lists and have:
                # apt keeps the old lists when a fetch fails: go on with them, and say so
                # (every .deb is still checked against them; --locked versions must be in them).
                self.log(f"warning: apt-get update failed ({why}); using the lists of {_mtime(stamp)}")
                return False
            if stamp.exists():
                stamp.unlink()
            raise EnvironmentProblem(f"apt-get update for {self.source.suite}/{self.arch} failed: {why}")
        files.write_text(self.state / "updated", time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
        return True

    def depends(self, roots: Sequence[str]) -> tuple[Depends, set[str]]:
        proc = self.run(
            "apt-cache",
            [
                "depends",
                "--recurse",
                "--no-recommends",
                "--no-suggests",
                "--no-conflicts",
                "--no-breaks",
                "--no-replaces",
                "--no-enhances",
                *roots,
            ],
        )
        if proc.returncode != 0:
            if "No packages found" in (proc.stderr or ""):
                return {}, set()  # none of the roots exists: the caller names them
            raise EnvironmentProblem(f"apt-cache depends failed: {_error_line(proc)}")
        return parse_depends(proc.stdout)

    def show(self, specs: Sequence[str]) -> dict[str, PackageRecord]:
        """Index records for ``name`` (candidate) or ``name=version`` specs, by name.

        A spec apt does not know is simply absent from the result (apt-cache prints
        nothing for a version the archive no longer has).
        """
        if not specs:
            return {}
        proc = self.run("apt-cache", ["show", "--no-all-versions", *specs])
        if proc.returncode != 0 and not proc.stdout:
            raise EnvironmentProblem(f"apt-cache show failed: {_error_line(proc)}")
        recs: dict[str, PackageRecord] = {}
        for rec in parse_show(proc.stdout):
            if rec.architecture not in (self.arch, "all"):
                continue
            recs.setdefault(rec.name, rec)
        return recs

    def download(self, records: Sequence[PackageRecord], dest: Path) -> None:
        """``apt-get download name=version ...`` into ``dest`` (apt checks the index hashes)."""
        if not records:
            return
        proc = self.run("apt-get", ["-q", "download", *(r.spec for r in records)], cwd=dest)
        if proc.returncode != 0:
            raise EnvironmentProblem(f"apt-get download failed: {_error_line(proc)}")
