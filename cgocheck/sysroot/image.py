"""``cgocheck sysroot import NAME IMAGE``: a container image's root file system as a sysroot.

IMAGE is read from a file or folder, never from a daemon or a registry:

- an OCI image layout folder (``oci-layout``, ``index.json``, ``blobs/``): ``PATH``, or
  ``PATH:REF`` for the manifest whose ``org.opencontainers.image.ref.name`` (or
  ``io.containerd.image.name``) is REF;
- a ``docker save`` / ``podman save`` tar file (``manifest.json``, or an OCI layout inside):
  ``PATH.tar``, or ``PATH.tar:REPO:TAG``;
- a plain root file system tar file (``docker export``, ``tar -C rootfs -c .``), optionally
  gzip, xz or bzip2 compressed.

A multi-platform index needs ``--platform`` (``linux/arm64``, ``linux/arm/v7``).

Every layer is read twice. The first pass reads the whole blob: its sha256 must be the
manifest's digest (and the uncompressed stream's the config's diff_id), and every entry is
checked before anything is written: no absolute or ``..`` path, no hard link out of the
image, within the entry, size and decompression budgets. The second pass applies the layer
in ``sysroots/.tmp-NAME-*``: its whiteouts first (``.wh.NAME`` deletes NAME of the layers
below, ``.wh..wh..opq`` empties its folder), then its entries, each parent folder found as
a chroot would (:class:`FsRoot`: links inside the tree, never out), device nodes and FIFOs
skipped, set-id bits dropped. Symbolic links are then rewritten to stay inside
(:func:`cgocheck.sysroot.create.rewrite_symlinks`), the tree must pass
:func:`cgocheck.sysroot.check.check_sysroot`, and it is renamed into place with its lock
(``.cgocheck/lock.json``: the image's digests and its dpkg packages) like a created sysroot.
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import io
import json
import lzma
import os
import re
import secrets
import shutil
import stat
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cgocheck import __version__
from cgocheck.core import files, folders
from cgocheck.core.errors import BadInput, EnvironmentProblem
from cgocheck.sysroot import meta
from cgocheck.sysroot.fsroot import FsRoot

Log = Callable[[str], None]

META_DIR = ".cgocheck"
COMPLETE = "complete"

# --- budgets -------------------------------------------------------------------------------
MAX_ENTRIES = 500_000  # over all layers; debian:bookworm has ~9,000, a Debian sysroot ~60,000
MAX_BYTES = 8 << 30  # uncompressed bytes over all layers (tar streams, headers included)
MAX_RATIO = 100  # uncompressed bytes per compressed byte of a layer, beyond RATIO_SLACK
RATIO_SLACK = 64 << 20  # (gzip of real trees gives 2-5; a bomb of zeros gives 1,000)
MAX_JSON = 4 << 20  # index, manifest, config
MAX_LAYERS = 256  # Docker's own limit is 125
MAX_INDEX_DEPTH = 4  # index -> index -> manifest
MAX_MANIFESTS = 4096  # entries of one index
MAX_PATH = 4096  # bytes of an entry's name or link target (Linux's PATH_MAX)
MAX_OUTER = 100_000  # members of a docker/podman save archive

_HEX64 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}
REF_KEYS = ("org.opencontainers.image.ref.name", "io.containerd.image.name")


# --- where the image is ----------------------------------------------------------------------


def split_spec(spec: str) -> tuple[Path, str | None]:
    """``PATH``, ``PATH:REF`` or ``PATH.tar:REPO:TAG``: the longest prefix up to a ':' that
    exists is the path, the rest the reference."""
    if not spec:
        raise BadInput("empty image")
    if os.path.lexists(spec):
        return Path(spec), None
    for i, ch in enumerate(spec):
        if ch == ":" and i and os.path.lexists(spec[:i]):
            ref = spec[i + 1 :]
            if not ref:
                raise BadInput(f"image {spec!r}: nothing after ':'")
            return Path(spec[:i]), ref
    raise BadInput(f"image {spec!r}: no such file or folder")


@dataclass(frozen=True)
class Platform:
    os: str
    arch: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.arch, self.variant) if p)

    def matches(self, other: Platform) -> bool:
        return (self.os, self.arch) == (other.os, other.arch) and (
            not self.variant or not other.variant or self.variant == other.variant
        )


_ARCH_ALIASES = {"aarch64": "arm64", "x86_64": "amd64", "x86-64": "amd64", "armhf": "arm", "armel": "arm"}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


def parse_platform(value: str) -> Platform:
    parts = value.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise BadInput(f"--platform {value!r}: expected OS/ARCH[/VARIANT], e.g. linux/arm64 or linux/arm/v7")
    return _platform(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def _platform(os_: str, arch: str, variant: str = "") -> Platform:
    arch = _ARCH_ALIASES.get(arch.lower(), arch.lower())
    return Platform(os_.lower(), arch, (variant or _DEFAULT_VARIANT.get(arch, "")).lower())


def _platform_of(obj: object) -> Platform | None:
    if not isinstance(obj, dict):
        return None
    os_, arch = obj.get("os"), obj.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str) or not os_ or not arch:
        return None
    v = obj.get("variant")
    return _platform(os_, arch, v if isinstance(v, str) else "")


# --- reading blobs within budgets -------------------------------------------------------------


class Budget:
    """What one import may still read: entries and uncompressed bytes, over all layers."""

    def __init__(self) -> None:
        self.entries = 0
        self.bytes = 0

    def entry(self, where: str) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise BadInput(f"{where}: more than {MAX_ENTRIES} entries: not a root file system cgocheck imports")

    def add_bytes(self, n: int, where: str) -> None:
        self.bytes += n
        if self.bytes > MAX_BYTES:
            raise BadInput(f"{where}: more than {MAX_BYTES >> 30} GiB uncompressed: not a root file system "
                           "cgocheck imports")


def _magic(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    return "tar"


class LayerStream(io.RawIOBase):
    """A blob read once: sha256 and size of what is read (the compressed digest), decompressed
    by its magic, sha256 of the result (the diff_id), within the decompression budgets."""

    def __init__(self, raw: IO[bytes], size: int | None, where: str, budget: Budget) -> None:
        super().__init__()
        self.raw = raw
        self.size = size  # the descriptor's, when known
        self.where = where
        self.budget = budget
        self.digest = hashlib.sha256()
        self.diff = hashlib.sha256()
        self.read_in = 0
        self.out = 0
        head = self._pull(6)
        self.kind = _magic(head)
        if self.kind == "zstd":
            raise BadInput(f"{where}: a zstd-compressed layer (not supported: re-save the image with gzip layers)")
        self._pending = head
        self._buf = b""
        self._dec: Any = self._decoder()
        self._between = False
        self._eof = False

    def _decoder(self) -> Any:
        if self.kind == "gzip":
            return zlib.decompressobj(31)
        if self.kind == "xz":
            return lzma.LZMADecompressor()
        if self.kind == "bzip2":
            return bz2.BZ2Decompressor()
        return None

    def _pull(self, n: int) -> bytes:
        data = self.raw.read(n)
        self.read_in += len(data)
        if self.size is not None and self.read_in > self.size:
            raise BadInput(f"{self.where}: larger than the {self.size} bytes its descriptor says")
        self.digest.update(data)
        return data

    def readable(self) -> bool:
        return True

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self.out += len(data)
        self.budget.add_bytes(len(data), self.where)
        if self.kind != "tar" and self.out > MAX_RATIO * max(self.read_in, self.size or 0) + RATIO_SLACK:
            raise BadInput(f"{self.where}: decompresses to more than {MAX_RATIO} times its size "
                           "(a decompression bomb?)")
        self.diff.update(data)
        self._buf += data

    def _data(self) -> bytes:
        data, self._pending = self._pending or self._pull(1 << 20), b""
        return data

    def _fill(self) -> None:
        if self._dec is None:  # a plain tar stream
            data = self._data()
            if not data:
                self._eof = True
            self._emit(data)
            return
        if self._between:  # after a complete stream: zero padding, or (gzip) another member
            data = self._data()
            if not data:
                self._eof = True
                return
            rest = data.lstrip(b"\0")
            if not rest:
                return
            if self.kind != "gzip" or not rest.startswith(b"\x1f\x8b"[: len(rest)]):
                raise BadInput(f"{self.where}: data after the {self.kind} stream")
            if len(rest) < 2:
                rest += self._pull(1)
            self._dec, self._between, self._pending = zlib.decompressobj(31), False, rest
            return
        dec = self._dec
        if self.kind == "gzip":
            data = dec.unconsumed_tail or self._data()
            if not data:
                raise BadInput(f"{self.where}: truncated gzip stream")
            self._emit(dec.decompress(data, 1 << 20))  # at most 1 MiB at a time: a bomb meets the budget
        else:
            if dec.needs_input:
                data = self._data()
                if not data:
                    raise BadInput(f"{self.where}: truncated {self.kind} stream")
            else:
                data = b""
            self._emit(dec.decompress(data, 1 << 20))
        if dec.eof:
            self._between, self._pending = True, dec.unused_data + (dec.unconsumed_tail if self.kind == "gzip" else b"")

    def readinto(self, b: Any) -> int:
        try:
            while not self._buf and not self._eof:
                self._fill()
        except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, EOFError) and exc.errno is not None:
                raise
            raise BadInput(f"{self.where}: corrupt {self.kind} stream ({exc})") from None
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def drain(self) -> None:
        """Read to the end (the digests cover the whole blob)."""
        while self.read(1 << 20):
            pass


# --- sources: a folder or a tar file --------------------------------------------------------


class Source:
    """Named files of an image: an OCI layout folder or a docker/podman save tar file."""

    label: str

    def has(self, name: str) -> bool:
        raise NotImplementedError

    def open(self, name: str) -> tuple[IO[bytes], int]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _safe_name(name: str) -> str:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts:
        raise BadInput(f"image file name {name!r} is not a plain relative path")
    return "/".join(p for p in parts if p != ".")


class DirSource(Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)

    def has(self, name: str) -> bool:
        return (self.path / _safe_name(name)).is_file()

    def open(self, name: str) -> tuple[IO[bytes], int]:
        p = self.path / _safe_name(name)
        try:
            f = open(p, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise BadInput(f"{self.label}: cannot read {name}: {exc.strerror}") from None
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            f.close()
            raise BadInput(f"{self.label}: {name} is not a regular file")
        return f, st.st_size


class TarSource(Source):
    def __init__(self, path: Path, tf: tarfile.TarFile, members: dict[str, tarfile.TarInfo],
                 scratch: Path | None = None) -> None:
        self.path = path
        self.tf = tf
        self.members = members
        self.label = str(path)
        self.scratch = scratch  # the decompressed copy of a compressed archive, removed on close

    def has(self, name: str) -> bool:
        return _safe_name(name) in self.members

    def open(self, name: str) -> tuple[IO[bytes], int]:
        m = self.members.get(_safe_name(name))
        if m is None:
            raise BadInput(f"{self.label}: no {name} in the archive")
        try:
            f = self.tf.extractfile(m)
        except (KeyError, tarfile.TarError) as exc:
            raise BadInput(f"{self.label}: cannot read {name} ({exc})") from None
        if f is None:
            raise BadInput(f"{self.label}: {name} is not a regular file in the archive")
        return f, int(getattr(f, "size", m.size))

    def close(self) -> None:
        self.tf.close()
        if self.scratch is not None:
            with contextlib.suppress(OSError):
                self.scratch.unlink()


_IMAGE_MEMBER = re.compile(
    r"(manifest\.json|repositories|index\.json|oci-layout|[0-9a-f]{64}\.json|[0-9a-f]{64}(/(layer\.tar|json|VERSION))?"
    r"|blobs|blobs/sha256|blobs/sha256/[0-9a-f]{64})"
)


class _Tee(io.RawIOBase):
    """What a stream yields, also written to a file."""

    def __init__(self, stream: LayerStream, out: IO[bytes]) -> None:
        super().__init__()
        self.stream, self.out = stream, out

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self.stream.readinto(b)
        self.out.write(bytes(b[:n]))
        return n


def _decompressed_image(path: Path) -> TarSource | None:
    """A compressed tar file (``docker save img | gzip``) as an image: decompressed within the
    import's budgets into cgocheck's work folder while its members are listed, given up at the
    first member an image archive does not have (a compressed root file system: None)."""
    with open(path, "rb") as raw:
        if _magic(raw.read(6)) not in ("gzip", "xz", "bzip2"):
            return None
    folders.work().mkdir(parents=True, exist_ok=True)
    fd, scratch_name = tempfile.mkstemp(prefix="image-", suffix=".tar", dir=folders.work())
    scratch = Path(scratch_name)
    src: TarSource | None = None
    try:
        with open(path, "rb") as raw, os.fdopen(fd, "wb") as out:
            stream = LayerStream(raw, os.fstat(raw.fileno()).st_size, str(path), Budget())
            try:
                with tarfile.open(fileobj=io.BufferedReader(_Tee(stream, out), 1 << 20), mode="r|") as tf:
                    count = 0
                    for m in tf:
                        name = m.name.removeprefix("./").rstrip("/")
                        count += 1
                        if name and (not _IMAGE_MEMBER.fullmatch(name) or count > MAX_OUTER):
                            return None
                    if not count:
                        return None
            except (tarfile.TarError, EOFError):
                return None
        src = _open_tar_source(scratch)
        if src is not None:
            src.path, src.label, src.scratch = path, str(path), scratch
        return src
    finally:
        if src is None:
            with contextlib.suppress(OSError):
                scratch.unlink()


def _open_tar_source(path: Path) -> TarSource | None:
    """The archive as an image (docker/podman save), or None when it is a plain root file system."""
    try:
        tf = tarfile.open(path, "r:")  # noqa: SIM115 - kept open by the source
    except (tarfile.TarError, OSError):
        return None
    members: dict[str, tarfile.TarInfo] = {}
    try:
        for m in tf:
            name = m.name.removeprefix("./").rstrip("/")
            if not name:
                continue
            if not _IMAGE_MEMBER.fullmatch(name) or len(members) >= MAX_OUTER:
                tf.close()
                return None
            members[name] = m
    except (tarfile.TarError, EOFError, OSError):
        tf.close()
        return None
    if "manifest.json" not in members and "index.json" not in members:
        tf.close()
        return None
    return TarSource(path, tf, members)


# --- the image's layers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    name: str  # the file in the source
    digest: str | None  # sha256:... of the blob as stored (None: not named by one)
    diff_id: str | None  # sha256:... of the uncompressed tar stream (the config's)
    size: int | None
    media_type: str | None

    def as_json(self) -> dict[str, object]:
        return {"digest": self.digest, "diff_id": self.diff_id, "size": self.size, "media_type": self.media_type}


@dataclass
class Image:
    """What was chosen in IMAGE: the layers to apply in order, and their provenance."""

    source: Source | None
    path: Path
    kind: str  # oci | docker-archive | rootfs
    ref: str | None
    layers: list[Layer]
    platform: Platform | None = None
    index_digest: str | None = None
    manifest_digest: str | None = None
    config_digest: str | None = None
    names: tuple[str, ...] = ()  # the image's own names (ref.name, RepoTags)
    config: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "path": str(self.path.absolute()),
            "ref": self.ref,
            "names": list(self.names),
            "platform": str(self.platform) if self.platform else None,
            "index_digest": self.index_digest,
            "manifest_digest": self.manifest_digest,
            "config_digest": self.config_digest,
            "layers": [la.as_json() for la in self.layers],
        }


def _blob_name(digest: object, where: str) -> str:
    if not isinstance(digest, str):
        raise BadInput(f"{where}: a descriptor without a digest")
    alg, _, hexd = digest.partition(":")
    if alg != "sha256" or not _HEX64.fullmatch(hexd):
        raise BadInput(f"{where}: digest {digest[:80]!r} is not sha256:<64 hex digits>")
    return f"blobs/sha256/{hexd}"


def _read_json(src: Source, name: str, where: str, digest: str | None = None, size: int | None = None) -> Any:
    f, have = src.open(name)
    with f:
        if have > MAX_JSON:
            raise BadInput(f"{where}: {name} is {have} bytes, more than {MAX_JSON}")
        data = f.read(MAX_JSON + 1)
    if size is not None and len(data) != size:
        raise BadInput(f"{where}: {name} is {len(data)} bytes, its descriptor says {size}")
    if digest is not None:
        got = "sha256:" + hashlib.sha256(data).hexdigest()
        if got != digest:
            raise BadInput(f"{where}: {name} has digest {got}, not {digest} as its descriptor says")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"{where}: {name} is not JSON ({exc})") from None


def _descriptors(index: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise BadInput(f"{where}: not an image index (no manifests list)")
    ms = index["manifests"]
    if len(ms) > MAX_MANIFESTS:
        raise BadInput(f"{where}: more than {MAX_MANIFESTS} manifests")
    return [m for m in ms if isinstance(m, dict)]


def _names_of(desc: dict[str, Any]) -> list[str]:
    ann = desc.get("annotations")
    if not isinstance(ann, dict):
        return []
    return [v for k in REF_KEYS if isinstance(v := ann.get(k), str)]


def _norm_ref(ref: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/", "localhost/", "library/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def _ref_matches(ref: str, names: list[str]) -> bool:
    return any(ref == n or _norm_ref(ref) == _norm_ref(n) for n in names)


def _is_attestation(desc: dict[str, Any]) -> bool:
    ann = desc.get("annotations")
    return isinstance(ann, dict) and ann.get("vnd.docker.reference.type") == "attestation-manifest"


def _flatten(src: Source, descs: list[dict[str, Any]], where: str, depth: int) -> list[dict[str, Any]]:
    """Image manifests' descriptors, nested indexes opened (platform inherited)."""
    out: list[dict[str, Any]] = []
    for d in descs:
        if _is_attestation(d):
            continue
        mt = d.get("mediaType")
        if mt in INDEX_TYPES:
            if depth >= MAX_INDEX_DEPTH:
                raise BadInput(f"{where}: image indexes nested more than {MAX_INDEX_DEPTH} deep")
            name = _blob_name(d.get("digest"), where)
            nested = _read_json(src, name, where, d.get("digest"), _int_or_none(d.get("size")))
            inner = _flatten(src, _descriptors(nested, f"{where} ({name})"), where, depth + 1)
            for i in inner:
                i.setdefault("_names", _names_of(d))
            out += inner
        elif mt in MANIFEST_TYPES or mt is None:
            out.append(d)
    return out


def _int_or_none(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def _pick_platform(cands: list[dict[str, Any]], platform: Platform | None, where: str) -> dict[str, Any]:
    if platform is not None:
        known = [c for c in cands if _platform_of(c.get("platform")) is not None]
        if known:
            cands = [c for c in known if platform.matches(_platform_of(c["platform"]))]  # type: ignore[arg-type]
            if not cands:
                have = ", ".join(sorted({str(_platform_of(c["platform"])) for c in known}))
                raise BadInput(f"{where}: no image for {platform} (it has {have})")
    if len(cands) > 1:
        plats = [str(_platform_of(c.get("platform")) or "unknown platform") for c in cands]
        if len(set(plats)) == len(plats):
            raise BadInput(f"{where}: several images ({', '.join(plats)}); pick one with --platform")
        have = ", ".join(f"{'/'.join(_names_of(c) or c.get('_names') or ['unnamed'])} ({p})"
                         for c, p in zip(cands, plats, strict=True))
        raise BadInput(f"{where}: several images ({have}); name one as PATH:REF")
    if not cands:
        raise BadInput(f"{where}: no image manifest")
    return cands[0]


def _oci(src: Source, path: Path, ref: str | None, platform: Platform | None, kind: str) -> Image:
    where = str(path) + (f":{ref}" if ref else "")
    index_name = "index.json"
    index = _read_json(src, index_name, where)
    descs = _descriptors(index, where)
    if ref is not None:
        chosen = [d for d in descs if _ref_matches(ref, _names_of(d))]
        if not chosen:
            have = ", ".join(sorted({n for d in descs for n in _names_of(d)})) or "no names"
            raise BadInput(f"{where}: no image named {ref!r} (it has {have})")
        descs = chosen
    cands = _flatten(src, descs, where, 1)
    desc = _pick_platform(cands, platform, where)
    mname = _blob_name(desc.get("digest"), where)
    manifest = _read_json(src, mname, where, desc["digest"], _int_or_none(desc.get("size")))
    if not isinstance(manifest, dict):
        raise BadInput(f"{where}: manifest {desc['digest']} is not a JSON object")
    mt = manifest.get("mediaType", desc.get("mediaType"))
    if mt is not None and mt not in MANIFEST_TYPES:
        raise BadInput(f"{where}: manifest media type {str(mt)[:80]!r} is not an image manifest")
    cfg_desc = manifest.get("config")
    if not isinstance(cfg_desc, dict):
        raise BadInput(f"{where}: manifest {desc['digest']} has no config")
    config = _read_json(src, _blob_name(cfg_desc.get("digest"), where), where, cfg_desc.get("digest"),
                        _int_or_none(cfg_desc.get("size")))
    layers_j = manifest.get("layers")
    if not isinstance(layers_j, list):
        raise BadInput(f"{where}: manifest {desc['digest']} has no layers list")
    diff_ids = _diff_ids(config, len(layers_j), where)
    layers: list[Layer] = []
    for i, ld in enumerate(layers_j):
        if not isinstance(ld, dict):
            raise BadInput(f"{where}: layer {i + 1} is not a descriptor")
        lmt = ld.get("mediaType")
        if isinstance(lmt, str) and ("nondistributable" in lmt or "foreign" in lmt):
            raise BadInput(f"{where}: layer {i + 1} is a non-distributable layer ({lmt}) that is not in the image")
        layers.append(Layer(_blob_name(ld.get("digest"), where), ld["digest"], diff_ids[i],
                            _int_or_none(ld.get("size")), lmt if isinstance(lmt, str) else None))
    names = tuple(dict.fromkeys([*desc.get("_names", []), *_names_of(desc)]))
    index_digest = None
    if kind == "oci":
        with contextlib.suppress(BadInput):
            f, _ = src.open(index_name)
            with f:
                index_digest = "sha256:" + hashlib.sha256(f.read(MAX_JSON)).hexdigest()
    return Image(src, path, kind, ref, layers, _check_config_platform(config, platform, where), index_digest,
                 desc["digest"], cfg_desc["digest"], names, config)


def _diff_ids(config: object, n: int, where: str) -> list[str | None]:
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(ids, list):
        raise BadInput(f"{where}: the image config has no rootfs.diff_ids")
    if len(ids) != n:
        raise BadInput(f"{where}: {n} layers but {len(ids)} diff_ids in the config")
    if n > MAX_LAYERS:
        raise BadInput(f"{where}: {n} layers, more than {MAX_LAYERS}")
    for d in ids:
        _blob_name(d, where)
    return [str(d) for d in ids]


def _check_config_platform(config: object, platform: Platform | None, where: str) -> Platform | None:
    got = _platform_of(config)
    if platform is not None and got is not None and not platform.matches(got):
        raise BadInput(f"{where}: the image's config says {got}, not {platform}")
    return got or platform


def _docker(src: TarSource, path: Path, ref: str | None, platform: Platform | None) -> Image:
    where = str(path) + (f":{ref}" if ref else "")
    manifest = _read_json(src, "manifest.json", where)
    if not isinstance(manifest, list) or not manifest:
        raise BadInput(f"{where}: manifest.json is not a list of images")
    entries = [m for m in manifest if isinstance(m, dict)]
    if ref is not None:
        entries = [m for m in entries if _ref_matches(ref, [t for t in m.get("RepoTags") or [] if isinstance(t, str)])]
        if not entries:
            have = ", ".join(t for m in manifest if isinstance(m, dict) for t in m.get("RepoTags") or []) or "no tags"
            raise BadInput(f"{where}: no image tagged {ref!r} (it has {have})")
    if len(entries) > 1:
        have = ", ".join(t for m in entries for t in m.get("RepoTags") or ["(untagged)"])
        raise BadInput(f"{where}: several images ({have}); name one as {path}:REPO:TAG")
    entry = entries[0]
    cfg_name = entry.get("Config")
    if not isinstance(cfg_name, str):
        raise BadInput(f"{where}: manifest.json names no Config")
    cfg_digest = _digest_in_name(cfg_name)
    config = _read_json(src, cfg_name, where, cfg_digest)
    layer_names = entry.get("Layers")
    if not isinstance(layer_names, list) or not all(isinstance(x, str) for x in layer_names):
        raise BadInput(f"{where}: manifest.json has no Layers list")
    diff_ids = _diff_ids(config, len(layer_names), where)
    layers = [Layer(_safe_name(n), _digest_in_name(n), diff_ids[i], None, None) for i, n in enumerate(layer_names)]
    tags = tuple(t for t in entry.get("RepoTags") or [] if isinstance(t, str))
    return Image(src, path, "docker-archive", ref, layers, _check_config_platform(config, platform, where), None,
                 None, cfg_digest, tags, config)


def _digest_in_name(name: str) -> str | None:
    """``blobs/sha256/<hex>`` and ``<hex>.json`` are named by their digest; ``<id>/layer.tar`` is not."""
    base = PurePosixPath(name)
    if base.parent.name == "sha256" and _HEX64.fullmatch(base.name):
        return f"sha256:{base.name}"
    if base.suffix == ".json" and _HEX64.fullmatch(base.stem):
        return f"sha256:{base.stem}"
    return None


def open_image(spec: str, platform: str | None = None) -> Image:
    """What IMAGE names: the chosen manifest's layers, or the plain tar file as one layer."""
    path, ref = split_spec(spec)
    plat = parse_platform(platform) if platform else None
    if path.is_dir():
        src: Source = DirSource(path)
        if not src.has("oci-layout") or not src.has("index.json"):
            raise BadInput(f"{path}: a folder but not an OCI image layout (no oci-layout and index.json)")
        return _oci(src, path, ref, plat, "oci")
    if not path.is_file():
        raise BadInput(f"image {str(path)!r} is neither a file nor a folder")
    tsrc = _open_tar_source(path) or _decompressed_image(path)
    if tsrc is not None:
        try:
            if tsrc.has("index.json") and tsrc.has("oci-layout"):
                return _oci(tsrc, path, ref, plat, "oci-archive" if not tsrc.has("manifest.json") else "docker-archive")
            return _docker(tsrc, path, ref, plat)
        except BaseException:
            tsrc.close()
            raise
    if ref is not None:
        raise BadInput(f"{path}: a plain root file system tar file has no images to name ({ref!r})")
    size = path.stat().st_size
    return Image(None, path, "rootfs", None, [Layer(str(path), None, None, size, None)], plat)


# --- the entries of a layer ---------------------------------------------------------------


def clean_name(name: str, where: str) -> str | None:
    """A member name as a guest path ('/usr/lib/x'), None for the top itself; absolute and
    climbing names are refused."""
    if len(name.encode("utf-8", "surrogateescape")) > MAX_PATH:
        raise BadInput(f"{where}: an entry name longer than {MAX_PATH} bytes")
    if name.startswith("/"):
        raise BadInput(f"{where}: {name[:200]!r}: an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BadInput(f"{where}: {name[:200]!r}: climbs out of the image with '..'")
    return "/" + "/".join(parts) if parts else None


@dataclass
class LayerPlan:
    """What the first pass learnt of a layer: its whiteouts (applied first) and counts."""

    whiteouts: list[str] = field(default_factory=list)  # guest paths to delete
    opaque: list[str] = field(default_factory=list)  # folders to empty
    entries: int = 0
    skipped: int = 0  # device nodes, FIFOs


WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def _open_layer(image: Image, layer: Layer, where: str, budget: Budget) -> LayerStream:
    if image.source is None:
        try:
            raw: IO[bytes] = open(image.path, "rb")  # noqa: SIM115 - closed with the stream
        except OSError as exc:
            raise BadInput(f"{image.path}: {exc.strerror}") from None
        size: int | None = os.fstat(raw.fileno()).st_size
    else:
        raw, size = image.source.open(layer.name)
        if layer.size is not None and size != layer.size:
            raw.close()
            raise BadInput(f"{where}: {size} bytes, its descriptor says {layer.size}")
    try:
        return LayerStream(raw, size, where, budget)
    except BaseException:
        raw.close()
        raise


def _members(stream: LayerStream, where: str) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tf:
            for m in tf:
                yield tf, m
    except tarfile.ReadError as exc:
        if stream.out == 0 and "empty" in str(exc):
            return  # an empty layer
        raise BadInput(f"{where}: not a tar stream ({exc})") from None
    except (tarfile.TarError, EOFError) as exc:
        raise BadInput(f"{where}: unreadable tar stream ({exc})") from None


def _verify(stream: LayerStream, layer: Layer, where: str) -> None:
    stream.drain()
    got = "sha256:" + stream.digest.hexdigest()
    if layer.digest is not None and got != layer.digest:
        raise BadInput(f"{where}: sha256 is {got}, the manifest says {layer.digest}")
    diff = "sha256:" + stream.diff.hexdigest()
    if layer.diff_id is not None and diff != layer.diff_id:
        raise BadInput(f"{where}: the uncompressed layer's sha256 is {diff}, the config's diff_id is {layer.diff_id}")


def scan_layer(image: Image, layer: Layer, where: str, budget: Budget) -> LayerPlan:
    """First pass: every entry checked, digests verified, nothing written."""
    plan = LayerPlan()
    stream = _open_layer(image, layer, where, budget)
    with stream, stream.raw:
        for _, m in _members(stream, where):
            budget.entry(where)
            plan.entries += 1
            guest = clean_name(m.name, where)
            if guest is None:
                continue
            if PurePosixPath(guest).parts[1:2] == (META_DIR,):
                raise BadInput(f"{where}: {guest}: the image has a {META_DIR} folder, which is cgocheck's own")
            base = PurePosixPath(guest).name
            if base == OPAQUE:
                plan.opaque.append(str(PurePosixPath(guest).parent))
                continue
            if base.startswith(WHITEOUT):
                if not base.startswith(WHITEOUT + WHITEOUT) and len(base) > len(WHITEOUT):
                    plan.whiteouts.append(str(PurePosixPath(guest).parent / base[len(WHITEOUT):]))
                continue
            if m.islnk():
                parts = m.linkname.split("/")
                if m.linkname.startswith("/") or ".." in parts or not m.linkname.strip("/."):
                    raise BadInput(f"{where}: hard link {guest} -> {m.linkname[:200]!r} leads out of the image")
            elif m.issym():
                if len(m.linkname.encode("utf-8", "surrogateescape")) > MAX_PATH or not m.linkname:
                    raise BadInput(f"{where}: symbolic link {guest} has an empty or too long target")
            elif m.isdev():
                plan.skipped += 1
        _verify(stream, layer, where)
    return plan


class Tree:
    """The tree being built, written only below its top, every parent found as a chroot
    would: a link in it may lead anywhere inside, never out (FsRoot)."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self.root = FsRoot(top)
        self._dirs: dict[str, Path] = {"/": self.root.top}
        self.counts = {"files": 0, "dirs": 0, "links": 0, "hardlinks": 0, "skipped": 0, "whiteouts": 0,
                       "opaque": 0}

    def _forget(self, guest: str) -> None:
        """Drop the cached folders a change at ``guest`` may alter."""
        host = self.root.host_path(guest)
        if guest in self._dirs or host in self._dirs.values():
            self._dirs = {"/": self.root.top}

    def folder(self, guest_dir: str, where: str) -> Path:
        """The real folder (no link in its host path) a guest folder is, made if missing."""
        if guest_dir in self._dirs:
            return self._dirs[guest_dir]
        p = PurePosixPath(guest_dir)
        parent = self.folder(str(p.parent), where)
        host = parent / p.name
        r = self.root.resolve(str(PurePosixPath(self.root_guest(parent)) / p.name))
        if r is None:
            if os.path.islink(host):
                raise BadInput(f"{where}: {guest_dir} is a link to nothing, where the layer needs a folder")
            os.mkdir(host, 0o755)
            out = host
        elif r.host.is_dir() and not r.host.is_symlink():
            out = r.host
        else:
            raise BadInput(f"{where}: {guest_dir} is not a folder, where the layer needs one")
        self._dirs[guest_dir] = out
        return out

    def root_guest(self, host: Path) -> str:
        rel = host.relative_to(self.root.top).as_posix()
        return "/" if rel == "." else "/" + rel

    def _remove(self, host: Path) -> None:
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(host)
        else:
            os.unlink(host)

    def whiteout(self, guest: str, where: str) -> None:
        p = PurePosixPath(guest)
        try:
            r = self.root.resolve(str(p.parent))
        except BadInput:
            return
        if r is None or not r.host.is_dir():
            return
        host = r.host / p.name
        if os.path.lexists(host):
            self._forget(self.root_guest(host))
            self._remove(host)
            self.counts["whiteouts"] += 1

    def opaque(self, guest_dir: str) -> None:
        try:
            r = self.root.resolve(guest_dir)
        except BadInput:
            return
        if r is None or not r.host.is_dir():
            return
        self._dirs = {"/": self.root.top}
        for name in os.listdir(r.host):
            if r.guest == "/" and name == META_DIR:
                continue
            self._remove(r.host / name)
        self.counts["opaque"] += 1

    def add(self, tf: tarfile.TarFile, m: tarfile.TarInfo, guest: str, where: str, budget: Budget) -> None:
        p = PurePosixPath(guest)
        if p.parts[1:2] == (META_DIR,):
            raise BadInput(f"{where}: {guest}: the image has a {META_DIR} folder, which is cgocheck's own")
        if m.isdev():
            self.counts["skipped"] += 1
            return
        parent = self.folder(str(p.parent), where)
        host = parent / p.name
        exists = os.path.lexists(host)
        if m.isdir():
            if exists and os.path.isdir(host) and not os.path.islink(host):
                os.chmod(host, (m.mode & 0o777) | 0o700)
            else:
                if exists:
                    self._forget(self.root_guest(host))
                    self._remove(host)
                os.mkdir(host, (m.mode & 0o777) | 0o700)
            self.counts["dirs"] += 1
            return
        if exists:
            self._forget(self.root_guest(host))
            self._remove(host)
        if m.issym():
            os.symlink(m.linkname, host)
            self.counts["links"] += 1
        elif m.islnk():
            target = clean_name(m.linkname, where)
            assert target is not None  # refused by the scan
            tp = PurePosixPath(target)
            try:
                r = self.root.resolve(str(tp.parent))
            except BadInput:
                r = None
            src = (r.host / tp.name) if r is not None else None
            if src is None or not os.path.lexists(src) or (os.path.isdir(src) and not os.path.islink(src)):
                raise BadInput(f"{where}: hard link {guest} -> {m.linkname[:200]}: no such file in the image")
            os.link(src, host, follow_symlinks=False)
            self.counts["hardlinks"] += 1
        elif m.isreg():
            f = tf.extractfile(m)
            fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         (m.mode & 0o777) | 0o600)
            with os.fdopen(fd, "wb") as out:
                if f is not None:
                    shutil.copyfileobj(f, out, 1 << 20)
            self.counts["files"] += 1
        else:
            self.counts["skipped"] += 1


def apply_layer(tree: Tree, image: Image, layer: Layer, plan: LayerPlan, where: str, budget: Budget) -> None:
    """Second pass: the layer's whiteouts, then its entries; digests checked again."""
    for d in plan.opaque:
        tree.opaque(d)
    for w in plan.whiteouts:
        tree.whiteout(w, where)
    stream = _open_layer(image, layer, where, budget)
    with stream, stream.raw:
        for tf, m in _members(stream, where):
            guest = clean_name(m.name, where)
            if guest is None:
                continue
            base = PurePosixPath(guest).name
            if base.startswith(WHITEOUT):
                continue
            try:
                tree.add(tf, m, guest, where, budget)
            except OSError as exc:
                raise BadInput(f"{where}: {guest}: {exc.strerror or exc}") from None
        _verify(stream, layer, where)


# --- the import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    name: str
    path: Path
    digest: str
    image: dict[str, object]
    packages: int
    entries: int
    counts: dict[str, int]
    seconds: float
    size_bytes: int
    rewritten_links: int
    libc: str | None
    libc_version: str | None
    targets: tuple[str, ...]


def _os_release(root: FsRoot) -> dict[str, str]:
    for guest in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            _, f = root.open_regular(guest)
        except (OSError, BadInput):
            continue
        with f:
            text = f.read(64 << 10).decode("utf-8", errors="replace")
        out: dict[str, str] = {}
        for line in text.splitlines():
            k, sep, v = line.partition("=")
            if sep and k.strip():
                out[k.strip()] = v.strip().strip('"').strip("'")
        return out
    return {}


def check_name(name: str) -> None:
    from cgocheck.sysroot.recipe import find_recipe

    if not _NAME.fullmatch(name):
        raise BadInput(f"sysroot name {name!r}: letters, digits, '.', '_' and '-' only (at most 64)")
    if find_recipe(name) is not None:
        raise BadInput(f"{name!r} is a recipe's name (cgocheck sysroot create {name}); import under another name")


def import_image(
    name: str, spec: str, *, platform: str | None = None, force: bool = False, log: Log = lambda _: None
) -> ImportResult:
    """Import IMAGE as the sysroot NAME (see the module's docstring)."""
    from cgocheck.sysroot.check import check_sysroot
    from cgocheck.sysroot.create import _locked, _tree_size, clean_stale, content_digest, locks_dir, rewrite_symlinks
    from cgocheck.sysroot.creator import creation_digest
    from cgocheck.sysroot.dpkgdb import open_db
    from cgocheck.sysroot.info import inspect_sysroot

    t0 = time.monotonic()
    check_name(name)
    image = open_image(spec, platform)
    try:
        dest = folders.sysroots() / name
        with _locked(locks_dir() / f"{name}.lock", f"sysroot {name}", log):
            clean_stale(name, log)
            if (dest.exists() or dest.is_symlink()) and not force:
                raise BadInput(f"sysroot {name} exists ({dest}); add --force to replace it")
            budget = Budget()
            plans: list[LayerPlan] = []
            n = len(image.layers)
            for i, layer in enumerate(image.layers):
                where = _where(image, i)
                log(f"checking {where}")
                plans.append(scan_layer(image, layer, where, budget))
            folders.sysroots().mkdir(parents=True, exist_ok=True)
            tmp = folders.sysroots() / f".tmp-{name}-{secrets.token_hex(4)}"
            tmp.mkdir()
            old: Path | None = None
            try:
                (tmp / META_DIR).mkdir()
                (tmp / META_DIR / "creating").write_text(f"{os.getpid()}\n")
                tree = Tree(tmp)
                apply_budget = Budget()
                changed: list[tuple[str, str, str]] = []
                for i, (layer, plan) in enumerate(zip(image.layers, plans, strict=True)):
                    where = _where(image, i)
                    log(f"applying {where} ({plan.entries} entries)")
                    apply_layer(tree, image, layer, plan, where, apply_budget)
                    # before the next layer: no file of it may be written through a link that leads out
                    changed += rewrite_symlinks(tmp)
                info = inspect_sysroot(tmp, allow_incomplete=True)
                checked = check_sysroot(tmp, arch=info.debian_arch, libc=info.libc)
                if not checked.ok:
                    for p in checked.problems[1:]:
                        log(f"warning: {name}: {p}")
                    more = f" (and {len(checked.problems) - 1} more)" if len(checked.problems) > 1 else ""
                    raise BadInput(f"image {spec} failed the sysroot check, so it was not kept: "
                                   f"{checked.first()}{more}")
                root = FsRoot(tmp)
                osr = _os_release(root)
                db = open_db(root)
                pkgs = sorted(db.packages.values(), key=lambda p: p.name) if db else []
                digest = content_digest(tmp)
                size = _tree_size(tmp)
                image_json = image.as_json()
                lock = {
                    "schema": 1,
                    "recipe": None,
                    "suite": osr.get("VERSION_CODENAME") or None,
                    "arch": info.debian_arch,
                    "libc": info.libc,
                    "source": {"image": image_json},
                    "packages": [
                        {"name": p.name, "version": p.version, "architecture": p.architecture, "filename": "",
                         "sha256": "", "size": 0}
                        for p in pkgs
                    ],
                    "skipped": [],
                    "exclude": [],
                    "exclude_reason": None,
                }
                meta_dir = tmp / META_DIR
                (meta_dir / "creating").unlink()
                (meta_dir / "lock.json").write_text(json.dumps(lock, indent=2) + "\n")
                (meta_dir / "digest").write_text(digest + "\n")
                made = {
                    "name": name,
                    "suite": lock["suite"],
                    "arch": info.debian_arch,
                    "libc": info.libc,
                    "libc_version": info.libc_version,
                    "loader": info.loader,
                    "targets": list(info.targets),
                    "digest": digest,
                    "packages": len(pkgs),
                    "size_bytes": size,
                    "rewritten_links": len(changed),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "cgocheck": __version__,
                    "creator": creation_digest(),
                    "imported": image_json,
                    "os_release": {k: osr[k] for k in ("ID", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME")
                                   if k in osr},
                    "entries": budget.entries,
                    "layers": tree.counts,
                    "check": checked.counts,
                }
                (meta_dir / "meta.json").write_text(json.dumps(made, indent=2) + "\n")
                if dest.exists() or dest.is_symlink():
                    old = folders.sysroots() / f".tmp-{name}-old-{secrets.token_hex(4)}"
                    os.rename(dest, old)
                os.rename(tmp, dest)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            (dest / META_DIR / COMPLETE).write_text(digest + "\n")
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            log(f"{name}: {n} layers, {budget.entries} entries")
            return ImportResult(
                name=name, path=dest, digest=digest, image=image_json, packages=len(pkgs), entries=budget.entries,
                counts=dict(tree.counts), seconds=time.monotonic() - t0, size_bytes=size,
                rewritten_links=len(changed), libc=info.libc, libc_version=info.libc_version, targets=info.targets,
            )
    finally:
        if image.source is not None:
            image.source.close()


def _where(image: Image, i: int) -> str:
    if image.kind == "rootfs":
        return str(image.path)
    la = image.layers[i]
    return f"{image.path} layer {i + 1}/{len(image.layers)} ({(la.digest or la.name)[:19]})"


def lock_image(path: Path) -> dict[str, Any] | None:
    """The image a sysroot was imported from, as its lock recorded it (None: not imported)."""
    data = meta.read_meta_json(path, "lock.json", files.LOCK)  # no link followed, {} when absent or broken
    src = data.get("source") if isinstance(data, dict) else None
    img = src.get("image") if isinstance(src, dict) else None
    return img if isinstance(img, dict) else None


def budgets() -> dict[str, int]:
    """The limits an import enforces (for docs and the JSON output)."""
    return {"entries": MAX_ENTRIES, "bytes": MAX_BYTES, "ratio": MAX_RATIO, "ratio_slack": RATIO_SLACK,
            "json": MAX_JSON, "layers": MAX_LAYERS, "index_depth": MAX_INDEX_DEPTH, "path": MAX_PATH}


__all__ = ["EnvironmentProblem", "ImportResult", "budgets", "import_image", "open_image"]
