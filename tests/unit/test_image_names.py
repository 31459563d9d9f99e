"""The checks `sysroot import` makes before it writes anything: entry names, IMAGE specs,
platforms, descriptors' digests, sysroot names."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from cgocheck.core.errors import BadInput
from cgocheck.sysroot.image import (
    Budget,
    LayerStream,
    _blob_name,
    _digest_in_name,
    check_name,
    clean_name,
    parse_platform,
    split_spec,
)


@pytest.mark.parametrize(("name", "want"), [
    ("usr/lib/x", "/usr/lib/x"), ("./usr/lib/", "/usr/lib"), (".", None), ("./", None), ("a//b/./c", "/a/b/c"),
])
def test_clean_names(name: str, want: str | None) -> None:
    assert clean_name(name, "layer") == want


@pytest.mark.parametrize(("name", "says"), [
    ("/etc/passwd", "absolute"), ("../x", "'..'"), ("usr/../../x", "'..'"), ("a/" * 3000, "longer than"),
])
def test_hostile_names(name: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        clean_name(name, "layer")


def test_split_spec(tmp_path: Path) -> None:
    tar = tmp_path / "img.tar"
    tar.write_bytes(b"")
    assert split_spec(str(tar)) == (tar, None)
    assert split_spec(f"{tar}:example/app:1.0") == (tar, "example/app:1.0")
    assert split_spec(f"{tmp_path}:latest") == (tmp_path, "latest")
    with pytest.raises(BadInput, match="no such file"):
        split_spec(str(tmp_path / "nope.tar:x"))


def test_platforms() -> None:
    assert str(parse_platform("linux/arm64")) == "linux/arm64/v8"
    assert str(parse_platform("linux/arm/v7")) == "linux/arm/v7"
    assert parse_platform("linux/aarch64").matches(parse_platform("linux/arm64/v8"))
    assert not parse_platform("linux/arm/v6").matches(parse_platform("linux/arm/v7"))
    with pytest.raises(BadInput, match="OS/ARCH"):
        parse_platform("arm64")


def test_digests_name_blobs_only_when_well_formed() -> None:
    hexd = "a" * 64
    assert _blob_name(f"sha256:{hexd}", "i") == f"blobs/sha256/{hexd}"
    for bad in ("sha256:../../etc/passwd", f"sha512:{hexd}", "sha256:ABC", None):
        with pytest.raises(BadInput):
            _blob_name(bad, "i")
    assert _digest_in_name(f"{hexd}.json") == f"sha256:{hexd}"
    assert _digest_in_name(f"blobs/sha256/{hexd}") == f"sha256:{hexd}"
    assert _digest_in_name("0123/layer.tar") is None


def test_sysroot_names() -> None:
    check_name("img-1.0_x")
    for bad in ("../x", ".hidden", "a/b", "x" * 65):
        with pytest.raises(BadInput):
            check_name(bad)
    with pytest.raises(BadInput, match="recipe"):
        check_name("bookworm-arm64")


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for n, data in members.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_layer_stream_digests_and_multi_member_gzip() -> None:
    raw = _tar({"a": b"1" * 1000, "b": b"2" * 5000})
    blob = gzip.compress(raw[:4000]) + gzip.compress(raw[4000:]) + b"\0" * 100  # two members, zero padding
    s = LayerStream(io.BytesIO(blob), len(blob), "layer", Budget())
    assert s.read() == raw
    assert s.diff.hexdigest() == hashlib.sha256(raw).hexdigest()
    assert s.digest.hexdigest() == hashlib.sha256(blob).hexdigest()


def test_layer_stream_stops_a_bomb_early() -> None:
    member = gzip.compress(b"\0" * (16 << 20), compresslevel=9)
    blob = member * 64  # 1 GiB out of ~1 MB
    s = LayerStream(io.BytesIO(blob), len(blob), "layer", Budget())
    with pytest.raises(BadInput, match="decompression bomb"):
        s.drain()
    assert s.out < 400 << 20  # stopped at the budget, never the whole GiB


def test_layer_stream_refuses_garbage_after_gzip() -> None:
    blob = gzip.compress(_tar({"a": b"x"})) + b"trailing garbage"
    s = LayerStream(io.BytesIO(blob), len(blob), "layer", Budget())
    with pytest.raises(BadInput, match="data after"):
        s.drain()
