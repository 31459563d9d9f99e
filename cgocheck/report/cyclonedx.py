"""``--format cyclonedx``: a CycloneDX 1.6 JSON SBOM of what a report describes, written with
cyclonedx-python-lib (which also ships the schemas the tests validate it against).

For each file of the report:

- the file itself (an application, or a library for a shared object), with its sha256 and,
  for a Go binary, the main module's ``pkg:golang`` purl;
- its Go modules (``pkg:golang/PATH@VERSION``, from the build info, replacements followed;
  the ``h1:`` sum as the SHA-256 it encodes) and Go's standard library (``pkg:golang/stdlib``);
- when the report resolved it in a sysroot, the libraries the loader would load, as the
  Debian packages that ship them (``pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=SUITE``,
  from the sysroot's package database and lock; the .deb's sha256 when the lock has it), or
  as bare files where no package ships them;
- dependency edges: the file on its modules and on the packages of the libraries it names
  in DT_NEEDED; a package on the packages of the libraries its libraries need.

The serial number is derived from the components (the same binaries, the same number); the
timestamp is SOURCE_DATE_EPOCH's when that is set.

The sysroot's package database is read here (through FsRoot, nothing outside the sysroot).
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cgocheck import __version__
from cgocheck.core import files
from cgocheck.core.errors import BadInput
from cgocheck.elf.model import ElfFacts, GoModule
from cgocheck.results import Report

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component

    from cgocheck.loader.model import Resolution
    from cgocheck.report.formats import RenderContext
    from cgocheck.sysroot.dpkgdb import DebPackage, DpkgDb



def _h1_hex(s: str | None) -> str | None:
    """A Go module sum ``h1:BASE64`` as the hex SHA-256 it carries."""
    if not s or not s.startswith("h1:"):
        return None
    try:
        raw = base64.b64decode(s[3:], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _golang_purl(path: str, version: str | None) -> Any:
    from packageurl import PackageURL

    ns, _, name = path.rpartition("/")
    return PackageURL(type="golang", namespace=ns or None, name=name, version=version or None)


class _Sysroot:
    """The packages of the sysroot a report resolved in, and what its lock says of them."""

    def __init__(self, path: str) -> None:
        from cgocheck.sysroot.dpkgdb import open_db
        from cgocheck.sysroot.fsroot import FsRoot

        self.root = FsRoot(path)
        try:
            self.db: DpkgDb | None = open_db(self.root)
        except BadInput:
            self.db = None
        self.suite: str | None = None
        self.debs: dict[str, str] = {}  # package -> the .deb's sha256 (created sysroots)
        try:
            _, f = self.root.open_regular("/.cgocheck/lock.json")
            with f:
                text = files.decode(files.read_open(f, files.LOCK, "lock.json"), "lock.json")
                lock = files.loads_json(text, "lock.json", files.LOCK)
        except (OSError, ValueError, BadInput):
            lock = {}
        if isinstance(lock, dict):
            suite = lock.get("suite")
            self.suite = suite if isinstance(suite, str) else None
            for p in lock.get("packages") or []:
                if isinstance(p, dict) and isinstance(p.get("sha256"), str) and p["sha256"]:
                    self.debs[str(p.get("name"))] = p["sha256"]

    def package_of(self, *paths: str) -> DebPackage | None:
        if self.db is None:
            return None
        for p in paths:
            if p:
                owners = self.db.owners(p)
                if owners:
                    return self.db.packages.get(owners[0])
        return None

    def host(self, guest: str) -> str | None:
        try:
            r = self.root.resolve(guest)
        except BadInput:
            return None
        return str(r.host) if r is not None and r.host.is_file() else None


class _Builder:
    def __init__(self, report: Report) -> None:
        from cyclonedx.model.bom import Bom

        self.report = report
        self.bom: Bom = Bom()
        self.by_ref: dict[str, Component] = {}
        self.edges: dict[str, list[str]] = {}
        self.sysroot = _Sysroot(report.sysroot) if report.sysroot and os.path.isdir(report.sysroot) else None
        self._tool()

    def _tool(self) -> None:
        from cyclonedx.model.component import Component, ComponentType

        tool = Component(name="cgocheck", version=__version__, type=ComponentType.APPLICATION)
        self.bom.metadata.tools.components.add(tool)

    def component(self, ref: str, **kw: Any) -> Component:
        from cyclonedx.model.bom_ref import BomRef
        from cyclonedx.model.component import Component

        got = self.by_ref.get(ref)
        if got is None:
            got = Component(bom_ref=BomRef(ref), **kw)
            self.by_ref[ref] = got
            self.bom.components.add(got)
        return got

    def edge(self, src: str, dst: str) -> None:
        out = self.edges.setdefault(src, [])
        if dst != src and dst not in out:
            out.append(dst)

    def hashes(self, hexdigest: str | None) -> list[Any]:
        from cyclonedx.model import HashAlgorithm, HashType

        return [HashType(alg=HashAlgorithm.SHA_256, content=hexdigest)] if hexdigest else []

    def props(self, pairs: list[tuple[str, str]]) -> list[Any]:
        from cyclonedx.model import Property

        return [Property(name=k, value=v) for k, v in pairs if v]

    def file(self, facts: ElfFacts, resolution: Resolution | None) -> str:
        from cyclonedx.model.component import ComponentType

        ref = f"file:{facts.path}"
        bi = facts.go.buildinfo if facts.go else None
        main = bi.main if bi else None
        purl = _golang_purl(main.path, main.version) if main and main.path and main.version != "(devel)" else None
        kind = ComponentType.LIBRARY if facts.header.file_type == "shared" and not facts.interpreter \
            else ComponentType.APPLICATION
        pairs = [("cgocheck:path", facts.path), ("cgocheck:machine", facts.header.machine),
                 ("cgocheck:build-id", facts.build_id or "")]
        if bi:
            pairs += [("cgocheck:go", bi.go_version), ("cgocheck:go-package", bi.path or "")]
            pairs += [(f"cgocheck:go-setting:{s.key}", s.value) for s in bi.settings]
        self.component(ref, name=os.path.basename(facts.path), type=kind, purl=purl,
                       version=main.version if main and main.version else None,
                       hashes=self.hashes(files.sha256_or_none(facts.path)), properties=self.props(pairs))
        if bi:
            std = self.component(f"golang:stdlib@{bi.go_version}", name="stdlib", version=bi.go_version,
                                 type=ComponentType.LIBRARY, purl=_golang_purl("stdlib", bi.go_version))
            self.edge(ref, str(std.bom_ref))
            for dep in bi.deps:
                self.edge(ref, self.module(dep))
        if resolution is not None:
            self.libraries(ref, facts, resolution)
        return ref

    def module(self, m: GoModule) -> str:
        from cyclonedx.model.component import ComponentType

        real = m.replaced_by or m
        ref = f"golang:{real.path}@{real.version}"
        pairs = [("cgocheck:replaces", f"{m.path}@{m.version}")] if m.replaced_by else []
        self.component(ref, name=real.path, version=real.version or None, type=ComponentType.LIBRARY,
                       purl=_golang_purl(real.path, real.version), hashes=self.hashes(_h1_hex(real.sum)),
                       properties=self.props(pairs))
        return ref

    def libraries(self, ref: str, facts: ElfFacts, res: Resolution) -> None:
        from cyclonedx.model.component import ComponentType
        from packageurl import PackageURL

        sr = self.sysroot
        node_of: dict[str, str] = {res.binary: ref, facts.path: ref}
        files_of: dict[str, list[str]] = {}
        for lib in res.libraries:
            pkg = sr.package_of(lib.real_path, lib.path) if sr else None
            if pkg is not None:
                qual = {"arch": pkg.architecture, **({"distro": sr.suite} if sr and sr.suite else {})}
                purl = PackageURL(type="deb", namespace="debian", name=pkg.name, version=pkg.version, qualifiers=qual)
                pref = f"deb:{pkg.name}@{pkg.version}:{pkg.architecture}"
                self.component(pref, name=pkg.name, version=pkg.version, type=ComponentType.LIBRARY, purl=purl,
                               hashes=self.hashes(sr.debs.get(pkg.name) if sr else None),
                               properties=self.props([("cgocheck:source-package", pkg.source or "")]))
                files_of.setdefault(pref, []).append(lib.real_path)
            else:
                pref = f"file:{res.sysroot}:{lib.real_path}"
                host = sr.host(lib.real_path) if sr else None
                self.component(pref, name=lib.soname or lib.name, type=ComponentType.LIBRARY,
                               hashes=self.hashes(files.sha256_or_none(host) if host else None),
                               properties=self.props([("cgocheck:path", lib.real_path)]))
            for key in (lib.name, lib.soname or "", lib.path, lib.real_path):
                if key:
                    node_of.setdefault(key, pref)
        for lib in res.libraries:
            dst = node_of.get(lib.name)
            for requester in lib.needed_by:
                src = node_of.get(requester)
                if src and dst:
                    self.edge(src, dst)
        if res.loader and res.loader_path and res.loader_path in node_of:
            self.edge(ref, node_of[res.loader_path])
        for pref, paths in files_of.items():
            comp = self.by_ref[pref]
            for f in dict.fromkeys(paths):
                from cyclonedx.model import Property

                comp.properties.add(Property(name="cgocheck:file", value=f))

    def finish(self, files: list[str]) -> Bom:
        # the same binaries give the same serial number; the time is SOURCE_DATE_EPOCH's when set
        ident = "\n".join(f"{ref} {[h.content for h in self.by_ref[ref].hashes]}" for ref in sorted(self.by_ref))
        self.bom.serial_number = uuid.uuid5(uuid.NAMESPACE_URL, "cgocheck:" + ident)
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        if epoch.isdigit():
            self.bom.metadata.timestamp = datetime.fromtimestamp(int(epoch), tz=UTC)
        if len(files) == 1:  # the subject: in metadata, not in the list (a bom-ref appears once)
            main = self.by_ref[files[0]]
            self.bom.components.discard(main)
            self.bom.metadata.component = main
        for ref, comp in self.by_ref.items():
            deps = [self.by_ref[d] for d in self.edges.get(ref, []) if d in self.by_ref]
            self.bom.register_dependency(comp, deps)
        return self.bom


def build_bom(report: Report) -> Bom:
    b = _Builder(report)
    files = [b.file(fr.facts, fr.resolution) for fr in report.files]
    return b.finish(files)


def render_report(report: Report, ctx: RenderContext) -> str:
    from cyclonedx.output.json import JsonV1Dot6

    bom = build_bom(report)
    text: str = JsonV1Dot6(bom).output_as_string(indent=2)
    return text + "\n"


def render_diff(diff: Any, ctx: RenderContext) -> str:
    raise BadInput("--format cyclonedx describes binaries: inspect, resolve and verify offer it, diff does not")

