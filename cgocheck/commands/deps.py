"""`cgocheck deps BINARY --sysroot S`: the Debian Depends a binary needs, from the symbols and
shlibs files of the sysroot's packages (cgocheck.loader.shlibdeps), its libraries found where
the target's loader finds them (cgocheck.loader.resolve)."""

from __future__ import annotations

from cgocheck.core.errors import EnvironmentProblem
from cgocheck.core.targets import Target
from cgocheck.elf import read_shared_object
from cgocheck.loader.resolve import resolve
from cgocheck.loader.shlibdeps import DepsResult, compute
from cgocheck.sysroot import require
from cgocheck.sysroot.dpkgdb import open_db
from cgocheck.sysroot.fsroot import FsRoot


def deps(binary: str, sysroot: str, *, target: Target | None = None, install_dir: str | None = None) -> DepsResult:
    root = FsRoot(require(sysroot))
    db = open_db(root)
    if db is None:
        raise EnvironmentProblem(
            f"sysroot {root.top} has no package database (.cgocheck/dpkg or /var/lib/dpkg); a sysroot made by an "
            f"older cgocheck gets one when re-made: cgocheck sysroot create {root.top.name} --force"
        )
    facts = read_shared_object(binary)
    res = resolve(binary, root, exe=facts, target=target, install_dir=install_dir)
    return compute(facts, res, db, sysroot=str(root.top))
