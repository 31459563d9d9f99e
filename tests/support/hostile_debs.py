"""A hostile Debian archive, made at test time with dpkg-deb and gpg: signed by a key of its
own (a recipe's [source] may name any keyring), serving packages whose files try to leave
the sysroot being unpacked.

- cgocheck-evil-a-abs ships usr/lib/cgocheck-abs -> <outside> (absolute);
- cgocheck-evil-b-dots ships usr/lib/cgocheck-dots -> ../../../..(x40)/<outside>;
- cgocheck-evil-c-chain ships usr/lib/up -> ../.. and usr/lib/cgocheck-chain ->
  up/../../../outside: lexically inside the sysroot, physically out of it when the
  sysroot is being unpacked in <top>/home/sysroots/.tmp-NAME-XXXX (CGOCHECK_HOME=<top>/home);
- cgocheck-evil-d-file depends on them and ships a file under each link: unpacked by a
  later tar, it would be written in <outside> through any link still leading there.

The index (Packages, Release, InRelease) is written and signed here; the .debs are built
from files in a temporary folder. Nothing is written outside the folder given.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SUITE = "cgocheck-hostile"
ARCH = "arm64"


@dataclass(frozen=True)
class HostileArchive:
    root: Path  # served as http://127.0.0.1:PORT/debian
    keyring: Path  # the archive's public key (binary keyring for Signed-By)
    outside: Path  # where the escapes point; must stay empty


def _deb(work: Path, name: str, depends: str, build: Callable[[Path], None]) -> Path:
    tree = work / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: 1.0\nArchitecture: {ARCH}\nMaintainer: cgocheck tests <t@example.com>\n"
        + (f"Depends: {depends}\n" if depends else "")
        + "Description: a hostile package for cgocheck's tests\n"
    )
    build(tree)
    out = work / f"{name}_1.0_{ARCH}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(out)], check=True, capture_output=True
    )
    return out


def build(top: Path) -> HostileArchive:
    work = top / "work"
    work.mkdir(parents=True)
    outside = top / "outside"
    outside.mkdir()
    root = top / "archive"
    pool = root / "pool" / "main" / "c" / "cgocheck-evil"
    pool.mkdir(parents=True)

    def absolute(tree: Path) -> None:
        (tree / "usr" / "lib").mkdir(parents=True)
        os.symlink(str(outside), tree / "usr" / "lib" / "cgocheck-abs")

    def dots(tree: Path) -> None:
        (tree / "usr" / "lib").mkdir(parents=True)
        os.symlink("../.." + "/.." * 40 + str(outside), tree / "usr" / "lib" / "cgocheck-dots")

    def chain(tree: Path) -> None:
        # lexically inside (/usr/lib/up/../../../outside is /outside), physically out: up is the
        # sysroot's top, and '..' from there climbs out of <home>/sysroots/.tmp-NAME-XXXX
        (tree / "usr" / "lib").mkdir(parents=True)
        os.symlink("../..", tree / "usr" / "lib" / "up")
        os.symlink("up/../../../" + outside.name, tree / "usr" / "lib" / "cgocheck-chain")

    def payload(tree: Path) -> None:
        for d in ("cgocheck-abs", "cgocheck-dots", "cgocheck-chain"):
            (tree / "usr" / "lib" / d).mkdir(parents=True)
            (tree / "usr" / "lib" / d / f"pwned-through-{d}").write_text("written through a symlink\n")

    # unpacked in name order: the three links first, then the files meant to go through them
    debs = [
        _deb(work, "cgocheck-evil-a-abs", "", absolute),
        _deb(work, "cgocheck-evil-b-dots", "", dots),
        _deb(work, "cgocheck-evil-c-chain", "", chain),
        _deb(work, "cgocheck-evil-d-file", "cgocheck-evil-a-abs, cgocheck-evil-b-dots, cgocheck-evil-c-chain", payload),
    ]
    stanzas = []
    for deb in debs:
        data = deb.read_bytes()
        (pool / deb.name).write_bytes(data)
        control = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True).stdout
        stanzas.append(
            control.rstrip("\n")
            + f"\nFilename: pool/main/c/cgocheck-evil/{deb.name}\nSize: {len(data)}\n"
            + f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
        )
    dist = root / "dists" / SUITE
    index = dist / "main" / f"binary-{ARCH}"
    index.mkdir(parents=True)
    packages = "\n".join(stanzas).encode()
    (index / "Packages").write_bytes(packages)
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    release = (
        f"Origin: cgocheck-tests\nSuite: {SUITE}\nCodename: {SUITE}\nDate: {date}\nArchitectures: {ARCH}\n"
        f"Components: main\nSHA256:\n {hashlib.sha256(packages).hexdigest()} {len(packages)} "
        f"main/binary-{ARCH}/Packages\n"
    )
    (dist / "Release").write_text(release)

    gnupg = top / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg)}
    gpg = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "cgocheck hostile archive <h@example.com>", "ed25519", "sign", "1d"],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*gpg, "--clearsign", "-o", str(dist / "InRelease"), str(dist / "Release")],
        env=env,
        check=True,
        capture_output=True,
    )
    keyring = top / "archive-key.gpg"
    keyring.write_bytes(subprocess.run([*gpg, "--export"], env=env, check=True, capture_output=True).stdout)
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True)
    return HostileArchive(root=root, keyring=keyring, outside=outside)
