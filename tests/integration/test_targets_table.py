"""Every row of cgocheck/data/targets.toml against a binary really cross-built here with
the row's own GNU triplet compiler, and run under the row's qemu-user binary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cgocheck.checks import check_file
from cgocheck.core.targets import all_arches, parse_target
from cgocheck.elf import read_elf
from tests.support.builder import GO_NEW, Builder
from tests.support.cli import run
from tests.support.need import need

pytestmark = pytest.mark.integration

# Debian cross compilers installed by scripts/bootstrap, per Debian architecture.
ROWS = [pytest.param(a.name, id=a.name.replace("/", "_")) for a in all_arches()]


@pytest.mark.parametrize("name", ROWS)
def test_glibc_row_matches_real_build(builder: Builder, name: str) -> None:
    target = parse_target(name)
    arch = target.arch
    built = builder.build("clean/libc", name, GO_NEW, "gcc")
    facts = read_elf(str(built.path))
    h = facts.header
    assert (h.machine, h.machine_code, h.elf_class, h.endian) == (
        arch.machine,
        arch.machine_code,
        arch.elf_class,
        arch.endian,
    )
    if arch.float_abi:
        assert h.float_abi == arch.float_abi
    assert facts.interpreter == target.loader
    assert facts.go is not None and facts.go.buildinfo is not None
    assert facts.go.buildinfo.setting("GOARCH") == arch.goarch
    if arch.goarm:
        assert (facts.go.buildinfo.setting("GOARM") or "").split(",")[0] == arch.goarm
    assert [f.rule for f in check_file(facts, target) if f.severity != "info"] == []
    # Run it. The x86 rows run natively on this x86_64 host (386 through its own loader:
    # qemu-i386 7.2 crashes Go's 386 runtime with "morestack on g0"); the others under the
    # row's qemu with the cross libc as root, which proves the loader path is real.
    libroot = Path("/usr") / target.triplet
    if arch.goarch == "amd64":
        cmd = [str(built.path)]
    elif arch.goarch == "386":
        need(libroot.is_dir(), f"libc6-dev cross package for {target.triplet}")
        cmd = [str(libroot / "lib" / Path(target.loader).name), "--library-path", str(libroot / "lib"), str(built.path)]
    else:
        qemu = shutil.which(arch.qemu)
        need(qemu is not None, arch.qemu)
        need(libroot.is_dir(), f"libc6-dev cross package for {target.triplet}")
        cmd = [str(qemu), "-L", str(libroot), str(built.path)]
    proc = run(cmd, timeout=120)
    assert proc.returncode == 0 and "pid>0=true" in proc.stdout, proc.stderr[-2000:]


def test_musl_row_amd64(builder: Builder) -> None:
    """The musl flavour's loader, with Debian's musl-gcc (x86_64 only)."""
    need(shutil.which("musl-gcc") is not None, "musl-gcc (musl-tools)")
    target = parse_target("linux/amd64/musl")
    built = builder.build("clean/libc", "linux/amd64", GO_NEW, "custom", cc="musl-gcc")
    facts = read_elf(str(built.path))
    assert facts.interpreter == target.loader
    assert [f.rule for f in check_file(facts, target) if f.severity != "info"] == []
    # and the same binary is wrong for the glibc flavour
    wrong = {f.rule for f in check_file(facts, parse_target("linux/amd64"))}
    assert {"A005", "A006"} <= wrong
    proc = run([str(built.path)], timeout=60)
    assert proc.returncode == 0 and "pid>0=true" in proc.stdout, proc.stderr
