"""`cgocheck sysroot import` on images made at test time from the project's own sysroots
(tests/images.py): an OCI layout whose base layer is a sysroot's tree (plus its dpkg
database as the image's /var/lib/dpkg), a layer that deletes SQLite by whiteout (resolve
then reports it missing, L001), an opaque folder, a two-platform index (--platform), a
docker save archive (PATH.tar:REPO:TAG), a plain root file system tar file; and hostile
images, each refused in one line with exit 2, nothing written outside cgocheck's folder
(the tree checked, and under strace for the link that leads out)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cgocheck, one_error_line
from tests.support.home import private_home
from tests.support.images import (
    Blob,
    ImageSpec,
    Member,
    docker_archive,
    gzip_bomb_layer,
    many_entries_layer,
    members_layer,
    oci_layout,
    tar_of,
    tree_layer,
)
from tests.support.need import need, need_tool

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

LIB = "usr/lib/aarch64-linux-gnu"
SQLITE = ("libsqlite3.so.0", "libsqlite3.so.0.8.6", "libsqlite3.so", "libsqlite3.a")
PROGRAM = """
#include <sqlite3.h>
#include <stdio.h>
int main(void) { puts(sqlite3_libversion()); return 0; }
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CGOCHECK_HOME of this module's with bookworm-arm64 and bookworm-armhf made by this
    checkout's creation code from the shared download cache."""
    need_tool("dpkg-deb")
    h = private_home(tmp_path_factory.mktemp("import") / "cgocheck-home")
    for name in ("bookworm-arm64", "bookworm-armhf"):
        proc = cgocheck("sysroot", "create", name, env={**os.environ, "CGOCHECK_HOME": str(h)})
        need(proc.returncode == 0, f"sysroot {name} from the download cache ({proc.stderr[-300:]})")
    return h


def env_of(home: Path) -> dict[str, str]:
    return {**os.environ, "CGOCHECK_HOME": str(home)}


def sysroot(home: Path, name: str) -> Path:
    return home / "sysroots" / name


@pytest.fixture(scope="module")
def layers(home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Blob]:
    w = tmp_path_factory.mktemp("layers")
    out: dict[str, Blob] = {}
    for name, arch in (("bookworm-arm64", "arm64"), ("bookworm-armhf", "armhf")):
        src = sysroot(home, name)
        out[arch] = tree_layer(src, w / f"{arch}.tar.gz")
        # the packages' database where a Debian image has it
        stage = w / f"{arch}-dpkg"
        shutil.copytree(src / ".cgocheck" / "dpkg", stage / "var" / "lib" / "dpkg")
        out[f"{arch}-dpkg"] = tree_layer(stage, w / f"{arch}-dpkg.tar.gz")
    out["no-sqlite"] = members_layer(w / "no-sqlite.tar.gz", [Member(f"{LIB}/.wh.{n}") for n in SQLITE])
    out["opaque"] = members_layer(w / "opaque.tar.gz", [
        Member("usr/share/zoneinfo-test", "dir"),
        Member("usr/share/doc/.wh..wh..opq"),
        Member("usr/share/doc/README.image", data=b"only this\n"),
        Member("etc/abs-link", "symlink", target="/usr/share/doc/README.image"),
    ])
    return out


@pytest.fixture(scope="module")
def program(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A C program linked against the sysroot's SQLite."""
    cc = need_tool("aarch64-linux-gnu-gcc")
    d = tmp_path_factory.mktemp("prog")
    (d / "p.c").write_text(PROGRAM)
    sr = sysroot(home, "bookworm-arm64")
    proc = subprocess.run([cc, f"--sysroot={sr}", str(d / "p.c"), "-lsqlite3", "-o", str(d / "p")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return d / "p"


def imported(home: Path, name: str, image: str, *extra: str) -> dict:  # type: ignore[type-arg]
    proc = cgocheck("sysroot", "import", name, image, *extra, "--format", "json", env=env_of(home))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_base_image_is_the_sysroot_it_was_made_of(home: Path, layers: dict[str, Blob], program: Path,
                                                  tmp_path: Path) -> None:
    layout = oci_layout(tmp_path / "oci", [ImageSpec([layers["arm64"], layers["arm64-dpkg"]], ref="base")])
    got = imported(home, "img-base", f"{layout}:base")
    meta = json.loads((sysroot(home, "bookworm-arm64") / ".cgocheck" / "meta.json").read_text())
    lock = json.loads((sysroot(home, "img-base") / ".cgocheck" / "lock.json").read_text())
    # same tree as the sysroot it was made of, except the database now at /var/lib/dpkg
    assert got["libc"] == "glibc" and got["libc_version"] == "2.36" and got["targets"] == ["linux/arm64"]
    assert got["packages"] == meta["packages"] and lock["packages"][0]["version"]
    # the lock records the image's digests
    manifest = json.loads((layout / "index.json").read_text())["manifests"][0]
    assert lock["source"]["image"]["manifest_digest"] == manifest["digest"]
    assert [la["digest"] for la in lock["source"]["image"]["layers"]] == [layers["arm64"].digest,
                                                                           layers["arm64-dpkg"].digest]
    # a named sysroot like any other: info, check, resolve, deps
    env = env_of(home)
    info = cgocheck("sysroot", "info", "img-base", "--format", "json", env=env)
    assert info.returncode == 0 and json.loads(info.stdout)["loader"] == "/lib/ld-linux-aarch64.so.1"
    assert cgocheck("sysroot", "check", "img-base", env=env).returncode == 0
    listed = json.loads(cgocheck("sysroot", "list", "--format", "json", env=env).stdout)
    assert {"img-base", "bookworm-arm64"} <= {x["name"] for x in listed}
    assert all(x["creator_current"] for x in listed)
    res = cgocheck("resolve", str(program), "--sysroot", "img-base", "--format", "json", env=env)
    assert res.returncode == 0, res.stdout[-2000:]
    deps = cgocheck("deps", str(program), "--sysroot", "img-base", env=env)
    assert deps.returncode == 0 and re.fullmatch(r"libc6 \(>= 2\.\d+\), libsqlite3-0 \(>= 3\.\S+\)\n", deps.stdout)


def test_whiteout_deletes_a_library_and_resolve_says_so(home: Path, layers: dict[str, Blob], program: Path,
                                                       tmp_path: Path) -> None:
    layout = oci_layout(tmp_path / "oci", [ImageSpec([layers["arm64"], layers["no-sqlite"]])])
    imported(home, "img-nosqlite", str(layout))
    root = sysroot(home, "img-nosqlite")
    assert not any((root / LIB / n).exists() or (root / LIB / n).is_symlink() for n in SQLITE)
    assert (root / LIB / "libz.so.1").exists()  # its neighbours stay
    res = cgocheck("resolve", str(program), "--sysroot", "img-nosqlite", "--format", "json", env=env_of(home))
    assert res.returncode == 1
    report = json.loads(res.stdout)
    rules = {f["rule"] for f in report["files"][0]["findings"]}
    assert "L001" in rules
    assert "libsqlite3.so.0" in json.dumps(report["files"][0]["findings"])


def test_opaque_folder_and_absolute_link(home: Path, layers: dict[str, Blob], tmp_path: Path) -> None:
    base = sysroot(home, "bookworm-arm64")
    assert len(os.listdir(base / "usr/share/doc")) > 5
    layout = oci_layout(tmp_path / "oci", [ImageSpec([layers["arm64"], layers["opaque"]])])
    got = imported(home, "img-opaque", str(layout))
    root = sysroot(home, "img-opaque")
    assert os.listdir(root / "usr/share/doc") == ["README.image"]  # the lower layer's folder emptied
    assert (root / "usr/share/zoneinfo-test").is_dir()
    link = root / "etc/abs-link"
    assert not os.readlink(link).startswith("/")  # rewritten to stay inside
    assert link.resolve() == (root / "usr/share/doc/README.image").resolve()
    assert got["counts"]["opaque"] == 1 and got["rewritten_links"] >= 1


def test_two_platform_index_needs_platform(home: Path, layers: dict[str, Blob], tmp_path: Path) -> None:
    layout = oci_layout(tmp_path / "oci", [ImageSpec([layers["arm64"]], ("linux", "arm64", "v8")),
                                           ImageSpec([layers["armhf"]], ("linux", "arm", "v7"))], nested=True)
    env = env_of(home)
    proc = cgocheck("sysroot", "import", "img-multi", str(layout), env=env)
    assert proc.returncode == 2
    assert "several images (linux/arm64/v8, linux/arm/v7); pick one with --platform" in one_error_line(proc)
    got = imported(home, "img-armhf", str(layout), "--platform", "linux/arm/v7")
    assert got["targets"] == ["linux/arm/v7"] and got["image"]["platform"] == "linux/arm/v7"
    got = imported(home, "img-arm64", str(layout), "--platform", "linux/arm64")
    assert got["targets"] == ["linux/arm64"]
    proc = cgocheck("sysroot", "import", "img-riscv", str(layout), "--platform", "linux/riscv64", env=env)
    assert proc.returncode == 2 and "no image for linux/riscv64" in one_error_line(proc)
    # the same layout packed in one tar file (podman save --format oci-archive)
    got = imported(home, "img-armhf-tar", str(tar_of(layout, tmp_path / "oci.tar")), "--platform", "linux/arm/v7")
    assert got["digest"] == json.loads((sysroot(home, "img-armhf") / ".cgocheck/meta.json").read_text())["digest"]


def test_docker_save_archive_and_plain_rootfs(home: Path, layers: dict[str, Blob], tmp_path: Path) -> None:
    spec = ImageSpec([layers["arm64"], layers["no-sqlite"]])
    tar = docker_archive(tmp_path / "saved.tar", spec, ["example/app:1.0", "example/app:latest"])
    got = imported(home, "img-docker", f"{tar}:example/app:1.0")
    assert got["image"]["kind"] == "docker-archive" and got["image"]["names"] == ["example/app:1.0",
                                                                                   "example/app:latest"]
    assert not (sysroot(home, "img-docker") / LIB / "libsqlite3.so.0").exists()
    proc = cgocheck("sysroot", "import", "img-x", f"{tar}:example/other:2", env=env_of(home))
    assert proc.returncode == 2 and "no image tagged 'example/other:2'" in one_error_line(proc)
    # docker export: one compressed tar of the whole tree
    got = imported(home, "img-rootfs", str(layers["arm64"].path))
    assert got["image"]["kind"] == "rootfs"
    base = json.loads((sysroot(home, "bookworm-arm64") / ".cgocheck/meta.json").read_text())
    assert got["digest"] == base["digest"]


@pytest.mark.parametrize("squeeze", ["gzip", "xz"])
def test_compressed_docker_save_is_an_image(squeeze: str, home: Path, layers: dict[str, Blob],
                                            tmp_path: Path) -> None:
    """`docker save app | gzip > app.tar.gz`: decompressed within the import's budgets, read as
    the image it holds (its tags, its layers' digests checked), the same tree as the plain
    archive; the decompressed copy does not outlive the import."""
    spec = ImageSpec([layers["arm64"], layers["no-sqlite"]])
    tar = docker_archive(tmp_path / "saved.tar", spec, ["example/app:1.0"])
    plain = imported(home, f"img-plain-save-{squeeze}", f"{tar}:example/app:1.0")
    proc = subprocess.run([squeeze, "-k", "-1", str(tar)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    squeezed = tar.with_name(tar.name + (".gz" if squeeze == "gzip" else ".xz"))
    got = imported(home, f"img-{squeeze}-save", f"{squeezed}:example/app:1.0")
    assert got["image"]["kind"] == "docker-archive" and got["image"]["names"] == ["example/app:1.0"]
    assert got["digest"] == plain["digest"] and got["image"]["layers"] == plain["image"]["layers"]
    assert not (sysroot(home, f"img-{squeeze}-save") / LIB / "libsqlite3.so.0").exists()
    assert not list((home / "work").glob("image-*")), "the decompressed copy was left behind"
    # a compressed root file system is still a root file system
    again = imported(home, f"img-{squeeze}-rootfs", str(layers["arm64"].path))
    assert again["image"]["kind"] == "rootfs"


def test_links_into_runtime_file_systems(home: Path, layers: dict[str, Blob], tmp_path: Path) -> None:
    """What every Debian image has: /etc/mtab -> ../proc/self/mounts, links into /dev, /run and
    /sys that the running system fills. The import takes them as they are (nothing followed);
    `sysroot check` passes; a link that dangles anywhere else is still refused."""
    runtime = members_layer(tmp_path / "runtime.tar.gz", [
        Member("etc/mtab", "symlink", target="../proc/self/mounts"),
        Member("etc/resolv.conf", "symlink", target="../run/systemd/resolve/stub-resolv.conf"),
        Member("dev", "dir"),
        Member("dev/stdin", "symlink", target="/proc/self/fd/0"),
        Member("etc/machine-id-link", "symlink", target="/sys/class/dmi/id/product_uuid"),
    ])
    layout = oci_layout(tmp_path / "oci", [ImageSpec([layers["arm64"], runtime], ref="rt")])
    imported(home, "img-runtime", f"{layout}:rt")
    check = cgocheck("sysroot", "check", "img-runtime", env=env_of(home))
    assert check.returncode == 0, check.stdout[-2000:]
    top = sysroot(home, "img-runtime")
    assert os.readlink(top / "etc" / "mtab") == "../proc/self/mounts"
    broken = members_layer(tmp_path / "broken.tar.gz", [Member("etc/broken", "symlink", target="../nowhere/x")])
    layout2 = oci_layout(tmp_path / "oci2", [ImageSpec([layers["arm64"], broken], ref="b")])
    proc = cgocheck("sysroot", "import", "img-broken", f"{layout2}:b", env=env_of(home))
    assert proc.returncode != 0 and "etc/broken" in proc.stderr + proc.stdout


def test_tampered_layer_is_refused(home: Path, layers: dict[str, Blob], tmp_path: Path) -> None:
    layout = oci_layout(tmp_path / "oci", [ImageSpec([layers["no-sqlite"]])])
    blob = layout / "blobs" / "sha256" / layers["no-sqlite"].digest.split(":")[1]
    data = bytearray(blob.read_bytes())
    blob.unlink()
    data[-9] ^= 0xFF  # inside the gzip trailer's CRC: the layer still has its size
    blob.write_bytes(bytes(data))
    proc = cgocheck("sysroot", "import", "img-tampered", str(layout), env=env_of(home))
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "sha256" in line or "corrupt" in line
    assert not (home / "sysroots" / "img-tampered").exists()


# --- hostile images ----------------------------------------------------------------------------


def _hostile(kind: str, w: Path) -> tuple[list[Blob], str]:
    """(layers, what the one error line says)."""
    if kind == "dotdot":
        return [members_layer(w / "l.tar.gz", [Member("etc/ok", data=b"x"),
                                               Member("../../../escaped-by-dotdot", data=b"pwned")])], "'..'"
    if kind == "absolute-path":
        return [members_layer(w / "l.tar.gz", [Member(str(w / "escaped-absolute"), data=b"pwned")])], \
            "an absolute path"
    if kind == "absolute-link":
        # a link to a folder outside, then a file written through it: it stays inside (or nowhere)
        first = members_layer(w / "l1.tar.gz", [Member("evil", "symlink", target=str(w / "outside"))])
        second = members_layer(w / "l2.tar.gz", [Member("evil/pwned", data=b"pwned")])
        return [first, second], "is a link to nothing"
    if kind == "hardlink-out":
        return [members_layer(w / "l.tar.gz", [Member("etc/passwd-copy", "hardlink", target="../../../etc/passwd")])], \
            "leads out of the image"
    if kind == "hardlink-absolute":
        return [members_layer(w / "l.tar.gz", [Member("etc/shadow-copy", "hardlink", target="/etc/shadow")])], \
            "leads out of the image"
    if kind == "million-entries":
        return [many_entries_layer(w / "l.tar", 1_000_000)], "more than 500000 entries"
    if kind == "gzip-bomb":
        return [gzip_bomb_layer(w / "l.tar.gz", 4)], "decompression bomb"
    raise AssertionError(kind)


HOSTILE = ["dotdot", "absolute-path", "absolute-link", "hardlink-out", "hardlink-absolute", "million-entries",
           "gzip-bomb"]


def _tree(top: Path) -> set[str]:
    return {str(p.relative_to(top)) for p in top.rglob("*")}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_image_is_one_line_exit_2(kind: str, home: Path, tmp_path: Path) -> None:
    w = tmp_path / "w"
    (w / "outside").mkdir(parents=True)
    blobs, says = _hostile(kind, w)
    layout = oci_layout(tmp_path / "oci", [ImageSpec(blobs)])
    before_home, before_tmp = _tree(home / "sysroots"), _tree(tmp_path)
    proc = cgocheck("sysroot", "import", f"img-{kind}", str(layout), env=env_of(home), timeout=600)
    assert proc.returncode == 2, proc.stderr
    assert says in one_error_line(proc)
    # nothing kept, nothing left half-made, nothing written beside the image or anywhere else
    assert _tree(home / "sysroots") - before_home <= {".locks/" + f"img-{kind}.lock"}
    assert _tree(tmp_path) == before_tmp
    assert not list((w / "outside").iterdir())
    assert not Path("/escaped-by-dotdot").exists() and not (tmp_path.parent / "escaped-by-dotdot").exists()
    assert not (w / "escaped-absolute").exists()


WRITES = re.compile(r"^\d+\s+(open|openat|creat|mkdir|mkdirat|symlink|symlinkat|link|linkat|rename|renameat2?|"
                    r"unlink|unlinkat|rmdir|chmod|fchmodat|truncate)\((.*)\)\s+=\s+(-?\d+)")


def _written(log: Path) -> list[str]:
    """Paths the traced process created, changed or removed (opens for reading left out)."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        m = WRITES.match(line)
        if not m or m.group(3).startswith("-"):
            continue
        call, args = m.group(1), m.group(2)
        if call.startswith("open") and not re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", args):
            continue
        paths = [p2 if p2.startswith("/") or not b2 else os.path.join(b2, p2)
                 for b2, p2 in re.findall(r"(?:(?:AT_FDCWD|\d+<([^>]*)>),\s*)?\"([^\"]*)\"", args)]
        if call.startswith(("symlink", "link")):
            paths = paths[-1:]  # the target (or the linked file) is not written: the new name is
        elif not call.startswith("rename"):
            paths = paths[:1]
        out += paths
    return out


def test_link_out_writes_nothing_outside_under_strace(home: Path, tmp_path: Path) -> None:
    need_tool("strace")
    w = tmp_path / "w"
    (w / "outside").mkdir(parents=True)
    blobs, _ = _hostile("absolute-link", w)
    layout = oci_layout(tmp_path / "oci", [ImageSpec(blobs)])
    log = tmp_path / "strace.log"
    env = {**os.environ, "CGOCHECK_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(["strace", "-f", "-qq", "-y", "-o", str(log), "-e",
                           "trace=open,openat,creat,mkdir,mkdirat,symlink,symlinkat,link,linkat,rename,renameat,"
                           "renameat2,unlink,unlinkat,rmdir,chmod,fchmodat,truncate",
                           sys.executable, "-m", "cgocheck", "sysroot", "import", "img-traced", str(layout)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 2, proc.stderr
    written = _written(log)
    assert written, "strace saw no write at all"
    top = os.path.realpath(home)
    outside = [p for p in written if not os.path.realpath(p).startswith(top + "/") and p != "/dev/null"]
    assert not outside, outside[:20]
    assert not list((w / "outside").iterdir())
