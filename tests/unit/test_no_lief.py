"""Commands that need no lief never import it (`import lief` alone takes ~0.6 s): lief is
the tests' second opinion on the dynamic view (cgocheck.elf.read_dynamic_both), nothing
else. Checked in new processes with `python -X importtime`, which names every module a
process imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import child_env, workdir

COMMANDS = [
    ("inspect", "/bin/true"),
    ("inspect", "--format", "json", "/bin/true"),
    ("resolve", "/bin/true", "--sysroot", "/"),
    ("inspect", "/bin/true", "--sysroot", "/"),
    ("sysroot", "list"),
    ("--version",),
    ("verify", "--help"),
    ("matrix", "--help"),
    ("run", "--help"),
]


@pytest.mark.skipif(not os.path.isfile("/bin/true"), reason="needs /bin/true")
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_no_command_imports_lief(args: tuple[str, ...], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "cgocheck", *args], capture_output=True,
                          text=True, env=child_env(), cwd=workdir(tmp_path), timeout=300, check=False)
    modules = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "cgocheck.cli" in modules, proc.stderr[-2000:]
    assert not [m for m in modules if m == "lief" or m.startswith("lief.")]
    # nor pyelftools: the header's and ARM tags' names are our own tables (cgocheck.elf.names)
    assert not [m for m in modules if m == "elftools" or m.startswith("elftools.")]


def _imported(args: tuple[str, ...], tmp_path: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "cgocheck", *args], capture_output=True,
                          text=True, env=child_env(), cwd=workdir(tmp_path), timeout=300, check=False)
    modules = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "cgocheck.cli" in modules, proc.stderr[-2000:]
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    # from cgocheck's own package on: what site imported before it (an editable install's
    # finder imports importlib.metadata) is not the command's
    return modules[modules.index("cgocheck"):]


def _under(modules: list[str], *packages: str) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


# What `inspect` without --sysroot never needs: the loader model, the sysroots, `cgocheck resolve`,
# lief, pyelftools (the header's names are our own tables: cgocheck.elf.names) and the build
# record; in JSON, importlib.metadata too (asked for by the renderers that link to the docs;
# the table's tabulate imports it for its own version).
NOT_FOR_PLAIN_INSPECT = ("cgocheck.loader", "cgocheck.commands.resolve", "cgocheck.sysroot", "lief", "elftools",
                         "cgocheck.build.record")


@pytest.mark.skipif(not os.path.isfile("/bin/true"), reason="needs /bin/true")
@pytest.mark.parametrize("args", [
    ("inspect", "/bin/true"),
    ("inspect", "--format", "json", "/bin/true"),
    ("inspect", "--format", "json", "--target", "linux/amd64", "/bin/true"),
], ids=lambda a: " ".join(a))
def test_plain_inspect_imports_no_loader(args: tuple[str, ...], tmp_path: Path) -> None:
    modules = _imported(args, tmp_path)
    assert "cgocheck.commands.inspect" in modules
    assert not _under(modules, *NOT_FOR_PLAIN_INSPECT)
    if "json" in args:
        assert not _under(modules, "importlib.metadata", "tabulate")


@pytest.mark.skipif(not os.path.isfile("/bin/true"), reason="needs /bin/true")
def test_inspect_with_a_sysroot_still_resolves(tmp_path: Path) -> None:
    # the other side of the lazy imports: --sysroot brings the loader and resolve in
    modules = _imported(("inspect", "--format", "json", "/bin/true", "--sysroot", "/"), tmp_path)
    assert "cgocheck.commands.resolve" in modules
    assert _under(modules, "cgocheck.loader")
    assert not _under(modules, "lief")
