"""What the target's dynamic loader would do with a binary, worked out statically in a sysroot.

The model follows glibc's ld.so (elf/dl-load.c, dl-deps.c, dl-lookup.c, dl-version.c) and,
for musl targets, musl's ldso/dynlink.c. Every file in the sysroot is reached through
FsRoot, so links are re-rooted and nothing outside the sysroot is ever opened.

Loading (glibc)
  The loader named by PT_INTERP is mapped first; its names are the PT_INTERP string and its
  DT_SONAME. DT_NEEDED entries are loaded breadth-first: the executable's in order, then
  those of each library in the order the libraries were loaded; a name that matches an
  object already loaded (a name it was requested by, its DT_SONAME, its path) or a file
  already loaded (same device and inode) is not loaded again. The loader joins the symbol
  scope where the first DT_NEEDED names it (libc.so.6 does), as ld.so puts it back there.
  For each name without a '/', the folders are tried in this order:
    1. DT_RPATH of the requesting object, then of the object that loaded it, and so on up
       to the executable; skipped entirely when the requester has DT_RUNPATH (and an
       object's DT_RPATH is ignored whenever it has a DT_RUNPATH of its own);
    2. LD_LIBRARY_PATH: not used. resolve models a clean environment (no LD_LIBRARY_PATH,
       LD_PRELOAD, /etc/ld.so.preload or audit modules), as a service or container starts;
    3. DT_RUNPATH of the requesting object only (it is not inherited);
    4. the ld.so.cache stage, modelled by the folders of /etc/ld.so.conf and its includes
       (see cgocheck/loader/ldconf.py): what ldconfig builds the target's cache from;
    5. the loader's built-in folders, read from the sysroot's own ld.so (glibc compiles
       them in as one string: Debian's are /lib/<triplet>, /usr/lib/<triplet>, /lib,
       /usr/lib) or, when the loader is missing, assumed from the sysroot's layout.
  $ORIGIN is the folder of the path an object was found by (links not followed), and for
  the executable the folder it will be installed in (--install-dir; by default where it
  lies when it lies inside the sysroot, else unknown). $LIB is what this loader expands it
  to (Debian: lib/<triplet>; else lib64 or lib). $PLATFORM is the kernel's AT_PLATFORM,
  which depends on the CPU: it is expanded only where one value is certain (x86_64,
  aarch64, i686); elsewhere, and on riscv64 where the kernel gives none (as glibc then
  does), a path element using it is dropped and a note says so. CPU-specific
  subfolders (glibc-hwcaps/*, tls/, platform folders) are not searched; a note names any
  variant of a loaded library found there.
  A candidate file is skipped, as ld.so skips it, when it is an ELF of the other class,
  another machine or (ARM, RISC-V) another float ABI; the search stops with an error at a
  candidate that is not an ELF file, has the other byte order, is too short, damaged, not a
  regular file (a FIFO would block the real loader), or a link loop.

Binding
  Every undefined dynamic symbol of every loaded object (and every copy relocation of the
  executable, which ld.so looks up from the first object after the executable) is looked
  up in the global scope, executable first then the libraries in load order; the first
  object with a matching definition wins. A versioned reference ``sym@V`` matches a
  definition of version V, default (``@@V``) or not (``@V``); an unversioned reference
  matches an unversioned definition, the library's oldest version, or its one default
  version (dl-lookup.c's check_match). Version needs (Verneed) are checked first, as ld.so
  does before relocating: the library named must define the version node, or the program
  does not start ("version `GLIBC_2.34' not found (required by ...)").

Not modelled (noted where they matter): ld.so.cache contents themselves, DF_1_NODEFLIB,
DT_SYMBOLIC, DT_FILTER/DT_AUXILIARY, VER_FLG_WEAK version needs, preloading, dlopen.
"""

from __future__ import annotations

import os

from cgocheck.core import glibc as glibcver
from cgocheck.core.errors import BadInput
from cgocheck.core.targets import Target
from cgocheck.elf import read_shared_object
from cgocheck.elf.model import SharedObjectFacts
from cgocheck.loader import index as libindex
from cgocheck.loader.binding import finish
from cgocheck.loader.index import LibraryIndex
from cgocheck.loader.model import GlibcNeed, Resolution, SearchSetup
from cgocheck.loader.search import Resolver
from cgocheck.sysroot.fsroot import FsRoot


def resolve(
    binary: str,
    root: FsRoot,
    *,
    exe: SharedObjectFacts | None = None,
    interpreter: str | None = None,
    static: bool | None = None,
    target: Target | None = None,
    install_dir: str | None = None,
    glibc_floor: str | None = None,
    glibcxx_floor: str | None = None,
    index: LibraryIndex | bool | None = True,
) -> Resolution:
    """Resolve BINARY's libraries and symbols as the target's loader would, inside ROOT.

    ``exe``/``interpreter``/``static`` may be passed when the caller has read the binary
    already (ElfFacts gives PT_INTERP, SharedObjectFacts the defined symbols); otherwise
    the binary is read here. Raises BadInput when the binary itself is unreadable.

    ``index``: the sysroot's library index to read libraries' facts from (True: ROOT's own,
    cgocheck.loader.index.for_root; False or None: every library parsed).
    """
    try:
        floor_key = glibcver.parse_floor(glibc_floor) if glibc_floor else None
    except ValueError as exc:
        raise BadInput(f"--glibc-floor: {exc}") from None
    try:
        cxx_floor_key = glibcver.parse_floor(glibcxx_floor, "GLIBCXX_") if glibcxx_floor else None
    except ValueError as exc:
        raise BadInput(f"--glibcxx-floor: {exc}") from None
    if exe is None or (interpreter is None and static is None):
        from cgocheck.elf import read_elf

        facts = read_elf(binary, dwarf=False, go=False)
        interpreter, static = facts.interpreter, facts.static
        if exe is None:
            exe = read_shared_object(binary)
    if install_dir is None:
        real = os.path.realpath(binary)
        if root.contains(real):
            rel = os.path.relpath(os.path.dirname(real), root.top)
            install_dir = "/" if rel == "." else "/" + rel.replace(os.sep, "/")
    elif not install_dir.startswith("/"):
        raise BadInput(f"--install-dir {install_dir!r} must be an absolute path on the target")
    idx = libindex.for_root(root.top) if index is True else (index or None)
    r = Resolver(root, exe, interpreter=interpreter, exe_path=binary, install_dir=install_dir, target=target,
                 index=idx)
    if install_dir is None and any("ORIGIN" in p for p in (*exe.rpath, *exe.runpath, *exe.needed)):
        r.notes.append(
            f"{binary} lies outside the sysroot: its $ORIGIN is unknown; pass --install-dir (its folder on the target)"
        )
    if static and not exe.needed:
        setup = SearchSetup("static", (), "", (), (), "lib", None, install_dir, ())
        return Resolution(
            binary,
            str(root.top),
            None,
            None,
            None,
            setup,
            (),
            (),
            (),
            (),
            (),
            (),
            (),
            (),
            (),
            GlibcNeed(None, (), None, None, glibcver.fmt(floor_key) if floor_key else None, False, False),
        )
    r.setup()
    r.load_all()
    return finish(r, binary, root, floor_key, cxx_floor_key)




COMMON_LIBRARIES = ("libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "libstdc++.so.6", "libgcc_s.so.1")


def warm_up(root: FsRoot, target: Target, libraries: tuple[str, ...] = ()) -> int:
    """Fill ROOT's library index with what a program for TARGET is likely to load: the loader,
    the common libraries (libc, libm, libpthread, libdl, libstdc++, libgcc_s; musl: its
    loader) and LIBRARIES (names as DT_NEEDED spells them, or ``libfoo.so`` for ``-lfoo``),
    each with its own closure, found as the loader finds them. Returns how many libraries
    were loaded; what is missing is simply not indexed. For verify, while go builds."""
    from cgocheck.elf.model import ElfHeader

    idx = libindex.for_root(root.top)
    if idx is None:
        return 0
    a = target.arch
    header = ElfHeader(a.machine, a.machine_code, a.elf_class, a.endian, "ELFOSABI_SYSV", "pie", 0, (), "", 0)
    names = COMMON_LIBRARIES if target.libc == "glibc" else ()
    exe = SharedObjectFacts("/cgocheck-warm-up", header, None, tuple(dict.fromkeys((*names, *libraries))), (), (),
                            (), (), (), ())
    r = Resolver(root, exe, interpreter=a.loaders[target.libc], exe_path="/cgocheck-warm-up", install_dir=None,
                 target=target, index=idx)
    r.setup()
    r.load_all()
    return len(r.loaded) - 1
