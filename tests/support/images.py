"""Container images made at test time from the project's own sysroots: tar layers (a
sysroot's tree, or members written one by one), blobs named by their real sha256, and the
OCI layout (oci-layout, index.json, manifests, configs) or the docker save archive around
them. Nothing is fetched: the tests import what these functions write."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True)
class Blob:
    path: Path  # the layer file as written
    digest: str  # of the file
    diff_id: str  # of the uncompressed tar
    size: int
    media_type: str


def _finish(path: Path, compressed: bool) -> Blob:
    if compressed:
        h = hashlib.sha256()
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        diff = "sha256:" + h.hexdigest()
    else:
        diff = sha256_file(path)
    return Blob(path, sha256_file(path), diff, path.stat().st_size, LAYER_GZIP if compressed else LAYER_TAR)


def _open(path: Path, compressed: bool) -> tarfile.TarFile:
    if compressed:
        return tarfile.open(path, "w:gz", compresslevel=1, format=tarfile.PAX_FORMAT)
    return tarfile.open(path, "w", format=tarfile.PAX_FORMAT)


def tree_layer(src: Path, out: Path, *, compressed: bool = True, skip: tuple[str, ...] = (".cgocheck",)) -> Blob:
    """A layer of everything under ``src`` (a sysroot), links kept as links, names relative."""
    with _open(out, compressed) as tf:
        for name in sorted(os.listdir(src)):
            if name in skip:
                continue
            tf.add(src / name, arcname=name, recursive=True)
    return _finish(out, compressed)


@dataclass
class Member:
    name: str
    kind: str = "file"  # file | dir | symlink | hardlink | chr | fifo
    data: bytes = b""
    target: str = ""
    mode: int = 0o644


def members_layer(out: Path, members: Iterable[Member], *, compressed: bool = True) -> Blob:
    """A layer of members written one by one (whiteouts, hostile names, links)."""
    kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}
    with _open(out, compressed) as tf:
        for m in members:
            ti = tarfile.TarInfo(m.name)
            ti.type = kinds[m.kind]
            ti.mode = m.mode if m.kind != "dir" else 0o755
            ti.mtime = 1700000000
            if m.kind in ("symlink", "hardlink"):
                ti.linkname = m.target
            if m.kind == "file":
                ti.size = len(m.data)
                tf.addfile(ti, io.BytesIO(m.data))
            else:
                tf.addfile(ti)
    return _finish(out, compressed)


@dataclass
class ImageSpec:
    layers: list[Blob]
    platform: tuple[str, str, str] = ("linux", "arm64", "")  # os, architecture, variant
    ref: str | None = None  # org.opencontainers.image.ref.name
    config_extra: dict[str, object] = field(default_factory=dict)


def _write_blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    p = layout / "blobs" / "sha256" / digest.split(":")[1]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return digest, len(data)


def _copy_layer(layout: Path, b: Blob) -> None:
    dst = layout / "blobs" / "sha256" / b.digest.split(":")[1]
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        try:
            os.link(b.path, dst)
        except OSError:
            shutil.copyfile(b.path, dst)


def _platform(spec: ImageSpec) -> dict[str, str]:
    os_, arch, variant = spec.platform
    return {"os": os_, "architecture": arch, **({"variant": variant} if variant else {})}


def _rootfs(spec: ImageSpec) -> dict[str, object]:
    return {"type": "layers", "diff_ids": [b.diff_id for b in spec.layers]}


def manifest_for(layout: Path, spec: ImageSpec) -> dict[str, object]:
    """Config and manifest blobs of one image; its descriptor (with platform and ref)."""
    for b in spec.layers:
        _copy_layer(layout, b)
    config = {**_platform(spec), "config": {}, "rootfs": _rootfs(spec), **spec.config_extra}
    cdigest, csize = _write_blob(layout, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cdigest, "size": csize},
        "layers": [{"mediaType": b.media_type, "digest": b.digest, "size": b.size} for b in spec.layers],
    }
    mdigest, msize = _write_blob(layout, json.dumps(manifest).encode())
    desc: dict[str, object] = {"mediaType": OCI_MANIFEST, "digest": mdigest, "size": msize, "platform": _platform(spec)}
    if spec.ref:
        desc["annotations"] = {"org.opencontainers.image.ref.name": spec.ref}
    return desc


def oci_layout(layout: Path, images: list[ImageSpec], *, nested: bool = False) -> Path:
    """An OCI image layout holding IMAGES; ``nested``: index.json points to one image index
    that lists them (as docker buildx writes a multi-platform image)."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    descs = [manifest_for(layout, s) for s in images]
    if nested:
        inner = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}
        idigest, isize = _write_blob(layout, json.dumps(inner).encode())
        descs = [{"mediaType": OCI_INDEX, "digest": idigest, "size": isize}]
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}))
    return layout


def docker_archive(out: Path, spec: ImageSpec, tags: list[str]) -> Path:
    """A ``docker save`` archive of the classic layout: <id>/layer.tar (uncompressed),
    <config digest>.json, manifest.json naming them."""
    work = out.parent / (out.name + ".d")
    work.mkdir()
    layer_names = []
    for i, b in enumerate(spec.layers):
        lid = hashlib.sha256(f"{i}{b.diff_id}".encode()).hexdigest()
        (work / lid).mkdir()
        dst = work / lid / "layer.tar"
        if b.media_type == LAYER_GZIP:
            with gzip.open(b.path, "rb") as src, open(dst, "wb") as f:
                shutil.copyfileobj(src, f, 1 << 20)
        else:
            shutil.copyfile(b.path, dst)
        layer_names.append(f"{lid}/layer.tar")
    config = {**_platform(spec), "config": {}, "rootfs": _rootfs(spec)}
    cdata = json.dumps(config).encode()
    cname = hashlib.sha256(cdata).hexdigest() + ".json"
    (work / cname).write_bytes(cdata)
    (work / "manifest.json").write_text(json.dumps([{"Config": cname, "RepoTags": tags, "Layers": layer_names}]))
    with tarfile.open(out, "w") as tf:
        for name in sorted(os.listdir(work)):
            tf.add(work / name, arcname=name)
    shutil.rmtree(work)
    return out


def tar_of(layout: Path, out: Path) -> Path:
    """An OCI layout folder packed as one tar file (``podman save --format oci-archive``)."""
    with tarfile.open(out, "w") as tf:
        for name in sorted(os.listdir(layout)):
            tf.add(layout / name, arcname=name)
    return out


def many_entries_layer(out: Path, n: int) -> Blob:
    """An uncompressed layer of N empty files (one USTAR header each): written as raw headers,
    the name's digits and the checksum patched, ~2 s for a million."""
    width = len(str(n))
    ti = tarfile.TarInfo("f/" + "0" * width)
    ti.mtime = 1700000000
    tmpl = bytearray(ti.tobuf(format=tarfile.USTAR_FORMAT))
    tmpl[148:156] = b"        "
    base = sum(tmpl) - ord("0") * width
    with open(out, "wb") as f:
        for i in range(n):
            digits = str(i).zfill(width).encode()
            tmpl[2 : 2 + width] = digits
            tmpl[148:156] = b"%06o\0 " % (base + sum(digits))
            f.write(tmpl)
            tmpl[148:156] = b"        "
        f.write(b"\0" * 1024)
    return _finish(out, False)


def gzip_bomb_layer(out: Path, gib: int) -> Blob:
    """A gzip layer whose stream decompresses to GIB GiB (a small tar, then zeros): one
    member of 64 MiB of zeros compressed once and repeated (gzip allows many members). Its
    digests are made up: the budget must stop the read before they could be checked."""
    head = io.BytesIO()
    with tarfile.open(fileobj=head, mode="w") as tf:
        ti = tarfile.TarInfo("etc/hostname")
        data = b"bomb\n"
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    member = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    with open(out, "wb") as f:
        f.write(gzip.compress(head.getvalue()))
        for _ in range(gib * 16):
            f.write(member)
    digest = sha256_file(out)
    return Blob(out, digest, "sha256:" + "0" * 64, out.stat().st_size, LAYER_GZIP)
