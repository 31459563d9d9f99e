"""`resolve --sysroot /`: the host itself as the sysroot, $ORIGIN expanded as for any other
sysroot (it used to be taken as unknown there). Real host files whose run paths use
$ORIGIN (glibc's gconv modules, the JDK's launchers, numpy's extension modules where they
are installed), each compared with what the host's own loader loads (`ld.so --list`)."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cgocheck.core.errors import CgocheckError
from cgocheck.core.targets import parse_target
from cgocheck.elf import read_elf
from cgocheck.loader.resolve import resolve
from cgocheck.sysroot.fsroot import FsRoot
from tests.support.need import need

pytestmark = pytest.mark.integration

LOADER = "/lib64/ld-linux-x86-64.so.2"
AMD64 = parse_target("linux/amd64")


def origin_files() -> list[str]:
    found: list[str] = []
    patterns = ["/usr/lib/x86_64-linux-gnu/gconv/*.so", "/usr/lib/jvm/*/bin/*"]
    for base in {sysconfig.get_paths()["platlib"], sysconfig.get_paths()["purelib"], sys.base_prefix}:
        patterns.append(f"{base}/**/numpy/**/*.so")
    for pat in patterns:
        for f in sorted(glob.glob(pat, recursive=True))[:400]:
            if os.path.isfile(f) and not os.path.islink(f):
                try:
                    facts = read_elf(f, dwarf=False, go=False)
                except CgocheckError:  # not every file of a JDK folder is an ELF file
                    continue
                if any("ORIGIN" in p for p in (*facts.rpath, *facts.runpath)) and facts.header.machine_code == 62:
                    found.append(f)
    return found


def loader_list(path: str) -> dict[str, str]:
    """NEEDED name -> real path of what the host's loader loads for PATH."""
    proc = subprocess.run([LOADER, "--list", path], capture_output=True, text=True, timeout=60, check=False)
    out: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*(\S+) => (\S+) \(0x", line)
        if m:
            out[m.group(1)] = os.path.realpath(m.group(2))
    return out


def test_origin_is_expanded_for_the_host_as_sysroot() -> None:
    need(os.path.exists(LOADER), "an x86_64 host")
    files = origin_files()
    assert any("/gconv/" in f for f in files), files  # Debian's libc6 ships these
    root = FsRoot("/")
    compared = 0
    for f in files:
        want = loader_list(f)
        res = resolve(f, root, target=AMD64)
        assert not res.missing_libraries, (f, [m.name for m in res.missing_libraries])
        got = {lib.name: os.path.realpath(lib.real_path) for lib in res.libraries if lib.name in want}
        assert got == {k: v for k, v in want.items() if k in got}, f
        assert set(want) - {"linux-vdso.so.1"} <= set(got) | {Path(LOADER).name}, (f, want, got)
        compared += 1
    assert compared >= 5
    print(f"resolve --sysroot / against ld.so --list: {compared} files with $ORIGIN run paths agree")


def test_the_cli_gives_no_l001_for_origin_libraries() -> None:
    need(os.path.exists("/usr/lib/x86_64-linux-gnu/gconv/EUC-KR.so"), "glibc's gconv modules")
    for sysroot in ("/", "//", "/."):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "cgocheck",
                "resolve",
                "/usr/lib/x86_64-linux-gnu/gconv/EUC-KR.so",
                "--sysroot",
                sysroot,
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
        assert '"L001"' not in proc.stdout
