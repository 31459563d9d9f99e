"""A hostile sysroot, generated at test time, for `cgocheck resolve`.

A real executable (built by the host's C compiler) needs a dozen libraries whose files in
the sysroot are traps: absolute links to the build host's /etc, /usr and /dev, '..'
escapes, link loops, a text file, a truncated ELF, a FIFO (the real loader would block on
it), a directory, 8 GiB and 1 GiB sparse files, an ld.so.conf whose includes loop and
climb, run paths that climb out. The real loader and libc are copied in, so everything
else resolves for real. Nothing here is written outside the folder given.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.host import HOST_LIBC, HOST_LOADER, HOST_TRIPLET

# name -> what the file in the sysroot is, and the rule resolve must report for it.
TRAPS: dict[str, str] = {
    "libetc.so.1": "L001",  # absolute link to /etc/passwd: re-rooted, absent in the sysroot
    "libusr.so.1": "L001",  # link to a link to the host's /usr/lib/<triplet>/libz.so.1 (exists there)
    "libescape.so.1": "L001",  # ../../../../../../../etc/passwd: clamped at the top
    "libdev.so.1": "L001",  # absolute link to /dev/zero (endless on the host)
    "libproc.so.1": "L001",  # absolute link to /proc/self/exe
    "libloop.so.1": "L003",  # libloop.so.1 -> libloop2.so.1 -> libloop.so.1
    "libtext.so.1": "L003",  # a text file (a linker script)
    "libtrunc.so.1": "L003",  # the first 4 KiB of a real library
    "libfifo.so.1": "L003",  # a FIFO
    "libdir.so.1": "L003",  # a directory
    "libhuge.so.1": "L003",  # 8 GiB sparse file with a real ELF header
    "libsparse.so.1": "L003",  # 1 GiB sparse file with a real ELF header
    "libzero.so.1": "L003",  # 8 GiB sparse file of zeros
    # A DT_NEEDED path through a folder link to the host's '/': re-rooted, absent.
    f"/usr/lib/{HOST_TRIPLET}/evil/etc/shadow": "L001",
}
# Paths on the build host that the traps point at: none may ever be touched.
HOST_BAIT = (
    "/etc/passwd",
    f"/usr/lib/{HOST_TRIPLET}/libz.so.1",
    "/dev/zero",
    "/proc/self/exe",
    "/etc/shadow",
)


@dataclass(frozen=True)
class Hostile:
    root: Path
    binary: Path
    traps: dict[str, str]


def _cc(cc: str, *args: str, cwd: Path) -> None:
    proc = subprocess.run([cc, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{cc} {' '.join(args)} failed:\n{proc.stderr}")


def build(top: Path, cc: str = "gcc") -> Hostile:
    """Build the hostile sysroot under TOP/sysroot and the binary under TOP/build."""
    build_dir = top / "build"
    root = top / "sysroot"
    build_dir.mkdir(parents=True)
    root.mkdir()
    # Stub libraries only to give the executable its DT_NEEDED names.
    (build_dir / "stub.c").write_text("int cgocheck_stub(void) { return 0; }\n")
    libs = []
    for i, name in enumerate(TRAPS):
        file = name if "/" not in name else f"libpath{i}.so"
        _cc(cc, "-shared", "-fPIC", "-o", file, f"-Wl,-soname,{name}", "stub.c", cwd=build_dir)
        libs.append(f"-l:{file}")
    (build_dir / "main.c").write_text(
        '#include <stdio.h>\nint cgocheck_stub(void);\nint main(void) { puts("hi"); return cgocheck_stub(); }\n'
    )
    runpath = "/opt/../../../../usr/lib/" + HOST_TRIPLET + ":$ORIGIN/../../../../..:/proc/self/cwd"
    _cc(
        cc,
        "-o",
        "prog",
        "main.c",
        "-L.",
        "-Wl,--no-as-needed",
        *libs,
        f"-Wl,-rpath,{runpath}",
        "-Wl,--enable-new-dtags",
        cwd=build_dir,
    )

    lib = root / "usr" / "lib" / HOST_TRIPLET
    lib.mkdir(parents=True)
    shutil.copy2(HOST_LIBC, lib / "libc.so.6")
    shutil.copy2(os.path.realpath(HOST_LOADER), lib / "ld-linux-x86-64.so.2")
    # Debian's own absolute links, re-rooted by resolve: /lib -> /usr/lib, /lib64/ld -> /lib/...
    os.symlink("/usr/lib", root / "lib")
    (root / "lib64").mkdir()
    os.symlink(f"/lib/{HOST_TRIPLET}/ld-linux-x86-64.so.2", root / "lib64" / "ld-linux-x86-64.so.2")

    os.symlink("/etc/passwd", lib / "libetc.so.1")
    os.symlink(f"/usr/lib/{HOST_TRIPLET}/libz.so.1", lib / "libusr.so.1.real")
    os.symlink("libusr.so.1.real", lib / "libusr.so.1")
    os.symlink("../../../../../../../etc/passwd", lib / "libescape.so.1")
    os.symlink("/dev/zero", lib / "libdev.so.1")
    os.symlink("/proc/self/exe", lib / "libproc.so.1")
    os.symlink("libloop2.so.1", lib / "libloop.so.1")
    os.symlink("libloop.so.1", lib / "libloop2.so.1")
    (lib / "libtext.so.1").write_text("/* GNU ld script */\nGROUP ( /lib/libc.so.6 )\n")
    (lib / "libtrunc.so.1").write_bytes(HOST_LIBC.read_bytes()[:4096])
    os.mkfifo(lib / "libfifo.so.1")
    (lib / "libdir.so.1").mkdir()
    head = HOST_LIBC.read_bytes()[:4096]
    for name, size, data in (
        ("libhuge.so.1", 8 << 30, head),
        ("libsparse.so.1", 1 << 30, head),
        ("libzero.so.1", 8 << 30, b""),
    ):
        with open(lib / name, "wb") as f:
            f.write(data)
            f.truncate(size)

    etc = root / "etc"
    (etc / "ld.so.conf.d").mkdir(parents=True)
    (etc / "ld.so.conf").write_text(
        "# hostile\ninclude /etc/ld.so.conf.d/*.conf\ninclude ../../../../../../etc/*.conf\n"
        "include /proc/self/root/etc/ld.so.conf\n/../../../../usr/lib/" + HOST_TRIPLET + "\nhwcap 0 nosegneg\n"
    )
    (etc / "ld.so.conf.d" / "again.conf").write_text("include /etc/ld.so.conf\n/usr/local/lib\n")
    os.symlink("loop.conf", etc / "ld.so.conf.d" / "loop.conf")
    os.symlink("/etc", etc / "ld.so.conf.d" / "host.conf")
    # A folder link to the host's top, and a path NEEDED through it would read the host.
    os.symlink("/", lib / "evil")
    return Hostile(root=root, binary=build_dir / "prog", traps=dict(TRAPS))
