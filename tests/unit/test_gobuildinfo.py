"""Unit tests of cgocheck.elf.gobuildinfo: the modinfo grammar, and hostile build info blobs.

The blobs are cut at test time from real binaries built by real Go toolchains (CGO_ENABLED=0,
so no C compiler is needed): Go 1.27 (1.18+ inline layout) and Go 1.15 (pre-1.18 pointer
layout, 64-bit little endian and 32-bit big endian). Without those toolchains the blob tests
skip; the modinfo grammar tests need nothing.
"""

from __future__ import annotations

import io
import os
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Literal

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgocheck.core.errors import BadInput
from cgocheck.elf.damage import PARSE_ERRORS
from cgocheck.elf.gobuildinfo import BUILDINFO_MAGIC, parse_buildinfo_blob, parse_modinfo, read_go_facts
from cgocheck.elf.model import GoBuildInfo, GoModule, GoSetting
from tests.support.gobuild import build_pure, go_legacy, go_new


class Image:
    """A real binary held in memory: its blob, its address map, its ELF shape."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        elf = ELFFile(io.BytesIO(data))
        self.ptr_size = 8 if elf.elfclass == 64 else 4
        self.big_endian = not elf.little_endian
        self.loads = [
            (int(s["p_vaddr"]), int(s["p_offset"]), int(s["p_filesz"]))
            for s in elf.iter_segments()
            if s["p_type"] == "PT_LOAD"
        ]
        sec = elf.get_section_by_name(".go.buildinfo")
        assert sec is not None
        self.blob_offset = int(sec["sh_offset"])
        self.blob_addr = int(sec["sh_addr"])
        self.blob = data[self.blob_offset : self.blob_offset + int(sec["sh_size"])]
        assert self.blob.startswith(BUILDINFO_MAGIC)

    def reader(self, data: bytes | None = None) -> Callable[[int, int], bytes]:
        mem = self.data if data is None else data

        def read(addr: int, size: int) -> bytes:
            for vaddr, off, filesz in self.loads:
                if vaddr <= addr < vaddr + filesz:
                    d = addr - vaddr
                    return mem[off + d : off + d + min(size, filesz - d)]
            return b""

        return read

    def parse(self, blob: bytes | None = None, data: bytes | None = None) -> GoBuildInfo:
        return parse_buildinfo_blob(
            self.blob if blob is None else blob, self.reader(data), self.ptr_size, self.big_endian
        )

    def string_header_offset(self, which: int) -> int:
        """File offset of the pre-1.18 Go string header of the version (0) or modinfo (1)."""
        order: Literal["little", "big"] = "big" if self.big_endian else "little"
        p = self.ptr_size
        addr = int.from_bytes(self.blob[16 + which * p : 16 + (which + 1) * p], order)
        for vaddr, off, filesz in self.loads:
            if vaddr <= addr < vaddr + filesz:
                return off + addr - vaddr
        raise AssertionError("string header not mapped")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Image]:
    tmp = tmp_path_factory.mktemp("blobs")
    out: dict[str, Image] = {}
    new, legacy = go_new(), go_legacy()
    if new is not None:
        out["new-amd64"] = Image(build_pure(new, "amd64", tmp, "Go 1.18+"))
    if legacy is not None:
        out["legacy-amd64"] = Image(build_pure(legacy, "amd64", tmp, "Go 1.15"))
        out["legacy-mips"] = Image(build_pure(legacy, "mips", tmp, "Go 1.15"))
    if not out:
        pytest.skip("no Go toolchain to cut blobs from (CGOCHECK_GO_NEW / CGOCHECK_GO_LEGACY)")
    return out


KINDS = ["new-amd64", "legacy-amd64", "legacy-mips"]


def image(images: dict[str, Image], kind: str) -> Image:
    if kind not in images:
        pytest.skip(f"no toolchain for {kind}")
    return images[kind]


def soft(fn: Callable[[], object]) -> object:
    """Run fn: it must return or raise BadInput, quickly; anything else fails the test."""
    t0 = time.monotonic()
    try:
        result = fn()
    except BadInput as e:
        assert "\n" not in e.message
        result = e
    assert time.monotonic() - t0 < 2.0
    return result


# --- modinfo grammar ---------------------------------------------------------------------------


def test_modinfo_module_lines() -> None:
    text = (
        "path\texample.com/app\n"
        "mod\texample.com/app\t(devel)\t\n"
        "dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n"
        "dep\texample.com/lib\tv0.0.0\n"
        "=>\t./lib\t\t\n"
        "dep\texample.com/two\tv1.0.0\n"
        "=>\texample.com/fork\tv1.0.1\th1:def=\n"
        "build\t-compiler=gc\n"
    )
    path, main, deps, settings = parse_modinfo(text)
    assert path == "example.com/app"
    assert main == GoModule("example.com/app", "(devel)", None)
    assert deps == (
        GoModule("golang.org/x/sys", "v0.1.0", "h1:abc="),
        GoModule("example.com/lib", "v0.0.0", None, GoModule("./lib", "", None)),
        GoModule("example.com/two", "v1.0.0", None, GoModule("example.com/fork", "v1.0.1", "h1:def=")),
    )
    assert settings == (GoSetting("-compiler", "gc"),)


def test_modinfo_replaced_main() -> None:
    _, main, deps, _ = parse_modinfo("mod\ta\tv1\n=>\tb\tv2\th1:x\n")
    assert main == GoModule("a", "v1", None, GoModule("b", "v2", "h1:x"))
    assert deps == ()


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ('build\tCGO_CFLAGS="-O2 -g"', "CGO_CFLAGS", "-O2 -g"),
        ('build\t-ldflags="-s -w -X \\"main.v=1 2\\""', "-ldflags", '-s -w -X "main.v=1 2"'),
        ("build\tCGO_LDFLAGS=", "CGO_LDFLAGS", ""),
        ("build\tX=`raw \\n stays`", "X", "raw \\n stays"),
        ('build\tX="tab\\there\\x41\\101\\u00e9\\U0001F600"', "X", "tab\thereAA\u00e9\U0001f600"),
        ('build\t"odd key"=v', "odd key", "v"),
        ('build\t`k=1`="a b"', "k=1", "a b"),
        ("build\tDefaultGODEBUG=a=1,b=0", "DefaultGODEBUG", "a=1,b=0"),
        ('build\tX="\\xff"', "X", "\ufffd"),  # a byte that is not UTF-8: replaced in our str
    ],
)
def test_modinfo_build_quoting(line: str, key: str, value: str) -> None:
    assert parse_modinfo(line + "\n")[3] == (GoSetting(key, value),)


@pytest.mark.parametrize(
    "text",
    [
        "build\t\n",
        "build\t=v\n",
        "build\tnoequals\n",
        "build\tK=has space\n",
        'build\tK="unterminated\n',
        'build\tK="bad \\q escape"\n',
        'build\tK="\\uD800"\n',
        'build\tK="\\400"\n',
        'build\t"k"v\n',
        "build\tk ey=v\n",
        "=>\ta\tb\tc\n",
        "dep\tonly\n",
        "dep\ta\tb\tc\td\n",
        "mod\ta\tv\n=>\tb\tv\n",
    ],
)
def test_modinfo_malformed(text: str) -> None:
    with pytest.raises(BadInput, match=r"line \d+"):
        parse_modinfo(text)


def test_modinfo_go_quirks() -> None:
    # as Go: the last line without a newline is dropped, unknown line kinds are skipped
    assert parse_modinfo("path\ta\nbuild\tK=v") == ("a", None, (), ())
    assert parse_modinfo("go\t1.18\nweird\tline\npath\tp\n")[0] == "p"
    assert parse_modinfo("") == (None, None, (), ())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('path\tmodep=>build\n"`\\xu0aK= ')), max_size=200))
def test_modinfo_fuzz(text: str) -> None:
    soft(lambda: parse_modinfo(text))


# --- blobs from real binaries ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_blob_matches_read_go_facts(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    info = img.parse()
    assert info.layout == ("1.18+" if kind.startswith("new") else "pre-1.18")
    assert info.go_version.startswith("go1.")
    assert info.path == "example.com/blob"
    assert info.main is not None and info.main.path == "example.com/blob"
    facts = read_go_facts(ELFFile(io.BytesIO(img.data)))
    assert facts is not None and facts.buildinfo == info
    assert facts.cgo_linked is False
    assert facts.link_mode == "internal"


def test_blob_pointer_layout_needs_reader(images: dict[str, Image]) -> None:
    img = image(images, "legacy-amd64")
    with pytest.raises(BadInput, match="address map"):
        parse_buildinfo_blob(img.blob, None, img.ptr_size, img.big_endian)


@pytest.mark.parametrize("kind", ["legacy-amd64", "legacy-mips"])
def test_blob_pointer_layout_must_match_elf(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    with pytest.raises(BadInput, match="pointers"):
        parse_buildinfo_blob(img.blob, img.reader(), 12 - img.ptr_size, img.big_endian)
    with pytest.raises(BadInput, match="pointers"):
        parse_buildinfo_blob(img.blob, img.reader(), img.ptr_size, not img.big_endian)


@pytest.mark.parametrize("kind", KINDS)
def test_blob_truncated_every_eighth(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    whole = img.parse()
    n = len(img.blob)
    for i in range(8):
        cut = n * i // 8
        result = soft(partial(img.parse, blob=img.blob[:cut]))
        if kind.startswith("new"):  # the strings are inline: any cut before their end fails
            assert isinstance(result, BadInput), cut
        else:
            assert isinstance(result, BadInput) if cut < 32 else result == whole
    if kind.startswith("legacy"):
        # pre-1.18: the strings live elsewhere; cut the file itself before each of them
        for which in (0, 1):
            hdr = img.string_header_offset(which)
            for cut in (hdr, hdr + img.ptr_size, hdr + 2 * img.ptr_size - 1):
                assert isinstance(soft(partial(img.parse, data=img.data[:cut])), BadInput)


@pytest.mark.parametrize("kind", KINDS)
def test_blob_flipped_bytes(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    rng = random.Random(1)
    positions = list(range(min(len(img.blob), 64)))
    positions += rng.sample(range(len(img.blob)), min(len(img.blob), 200))
    t0 = time.monotonic()
    for pos in positions:
        for mask in (0xFF, 0x80, 0x01):
            blob = bytearray(img.blob)
            blob[pos] ^= mask
            result = soft(partial(img.parse, blob=bytes(blob)))
            assert isinstance(result, (BadInput, GoBuildInfo))
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("kind", ["legacy-amd64", "legacy-mips"])
def test_blob_flipped_string_headers(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    for which in (0, 1):
        hdr = img.string_header_offset(which)
        for pos in range(hdr, hdr + 2 * img.ptr_size):
            for mask in (0xFF, 0x80, 0x01):
                data = bytearray(img.data)
                data[pos] ^= mask
                result = soft(partial(img.parse, data=bytes(data)))
                assert isinstance(result, (BadInput, GoBuildInfo))


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_blob_huge_inline_lengths(images: dict[str, Image]) -> None:
    img = image(images, "new-amd64")
    head = img.blob[:32]
    vlen = img.blob[32]
    assert vlen < 0x80  # "go1.27.3": one-byte varint
    rest = img.blob[33:]
    for huge in ((1 << 20) + 1, 1 << 40, (1 << 63) - 1, (1 << 64) - 1):
        with pytest.raises(BadInput, match="claims"):
            soft_raise(partial(img.parse, blob=head + _uvarint(huge) + rest))
    # a varint longer than 64 bits
    with pytest.raises(BadInput, match="overflows"):
        img.parse(blob=head + b"\xff" * 10 + b"\x01" + rest)
    # modinfo length too big for what follows
    vers_end = 33 + vlen
    with pytest.raises(BadInput):
        img.parse(blob=img.blob[:vers_end] + _uvarint(len(img.blob)) + img.blob[vers_end + 2 :])


def soft_raise(fn: Callable[[], object]) -> object:
    t0 = time.monotonic()
    try:
        return fn()
    finally:
        assert time.monotonic() - t0 < 2.0


@pytest.mark.parametrize("kind", ["legacy-amd64", "legacy-mips"])
def test_blob_huge_pointer_lengths(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    order: Literal["little", "big"] = "big" if img.big_endian else "little"
    p = img.ptr_size
    for which in (0, 1):
        hdr = img.string_header_offset(which)
        for huge in ((1 << 20) + 1, (1 << (8 * p)) - 1):
            data = bytearray(img.data)
            data[hdr + p : hdr + 2 * p] = huge.to_bytes(p, order)
            with pytest.raises(BadInput, match="claims"):
                soft_raise(partial(img.parse, data=bytes(data)))
        # a data pointer to nowhere
        data = bytearray(img.data)
        data[hdr : hdr + p] = (1 << (8 * p - 1)).to_bytes(p, order)
        with pytest.raises(BadInput, match="not in the file"):
            img.parse(data=bytes(data))


def test_blob_not_magic() -> None:
    with pytest.raises(BadInput):
        parse_buildinfo_blob(b"\0" * 64, None, 8, False)
    with pytest.raises(BadInput):
        parse_buildinfo_blob(b"", None, 8, False)


# --- whole files --------------------------------------------------------------------------------


def _facts_soft(data: bytes) -> object:
    warnings: list[str] = []
    try:
        elf = ELFFile(io.BytesIO(data))
    except PARSE_ERRORS:  # what pyelftools raises here differs between releases
        return None  # the ELF reader's business, not ours
    t0 = time.monotonic()
    facts = read_go_facts(elf, warnings)  # must never raise
    assert time.monotonic() - t0 < 5.0
    assert all("\n" not in w for w in warnings)
    return facts


@pytest.mark.parametrize("kind", KINDS)
def test_file_truncated_every_eighth(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    n = len(img.data)
    for i in range(1, 8):
        _facts_soft(img.data[: n * i // 8])
    # cut right inside the build info: a Go file with no usable build info, not a failure
    cut = img.blob_offset + 40 if kind.startswith("new") else img.string_header_offset(1) + 2
    warnings: list[str] = []
    facts = read_go_facts(ELFFile(io.BytesIO(img.data[:cut])), warnings)
    assert facts is not None and facts.buildinfo is None
    assert any("build info" in w for w in warnings)


@pytest.mark.parametrize("kind", KINDS)
def test_file_flipped_bytes(images: dict[str, Image], kind: str) -> None:
    img = image(images, kind)
    rng = random.Random(7)
    n = len(img.data)
    # the ELF header, the program headers, the section headers, the blob, and random bytes
    hot = list(range(0, 0x80)) + list(range(img.blob_offset, img.blob_offset + 48))
    elf = ELFFile(io.BytesIO(img.data))
    shoff, shsize = int(elf.header["e_shoff"]), int(elf.header["e_shentsize"]) * int(elf.header["e_shnum"])
    hot += rng.sample(range(shoff, min(n, shoff + shsize)), 120)
    hot += rng.sample(range(n), 120)
    for pos in hot:
        data = bytearray(img.data)
        data[pos] ^= rng.choice((0xFF, 0x80, 0x01, 0x10))
        _facts_soft(bytes(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(0, 400),
)
def test_blob_hypothesis(images: dict[str, Image], edits: list[tuple[int, int]], cut: int) -> None:
    for kind in KINDS:
        if kind not in images:
            continue
        img = images[kind]
        blob = bytearray(img.blob[: len(img.blob) - cut % max(1, len(img.blob))])
        for pos, val in edits:
            if pos < len(blob):
                blob[pos] = val
        assert isinstance(soft(partial(img.parse, blob=bytes(blob))), (BadInput, GoBuildInfo))


# --- modinfo text cut from real binaries, mutated ------------------------------------------

MODINFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")  # cmd/go's sentinels
MODINFO_END = bytes.fromhex("f932433186182072008242104116d8f2")


def real_modinfo(img: Image) -> str:
    start = img.data.find(MODINFO_START)
    end = img.data.find(MODINFO_END, start + 16)
    assert 0 <= start < end
    return img.data[start + 16 : end].decode()


def test_real_modinfo_parses_as_the_blob_does(images: dict[str, Image]) -> None:
    for img in images.values():
        info = img.parse()
        assert parse_modinfo(real_modinfo(img)) == (info.path, info.main, info.deps, info.settings)


_EDIT_TEXT = st.text(alphabet=st.sampled_from(list('\t\n="`\\ xu0aZ\u00e9\U0001f600\x00\r=>')), max_size=6)


@settings(
    max_examples=int(os.environ.get("CGOCHECK_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 1 << 16), st.sampled_from(["replace", "insert", "delete", "dup"]), _EDIT_TEXT),
        min_size=1,
        max_size=8,
    )
)
def test_modinfo_mutations_of_real_text(images: dict[str, Image], edits: list[tuple[int, str, str]]) -> None:
    """parse_modinfo on the real modinfo of each binary, edited where its grammar lives: a
    result or one BadInput line, fast, whatever the edit."""
    for img in images.values():
        text = real_modinfo(img)
        for pos, op, piece in edits:
            i = pos % (len(text) + 1)
            if op == "replace":
                text = text[:i] + piece + text[i + len(piece) :]
            elif op == "insert":
                text = text[:i] + piece + text[i:]
            elif op == "delete":
                text = text[:i] + text[i + 1 + len(piece) :]
            else:  # duplicate a line: repeated path/mod/=> lines
                line_start = text.rfind("\n", 0, i) + 1
                line_end = text.find("\n", i)
                line = text[line_start : (line_end + 1 if line_end >= 0 else len(text))]
                text = text[:line_start] + line + text[line_start:]
        assert isinstance(soft(partial(parse_modinfo, text)), (tuple, BadInput))
