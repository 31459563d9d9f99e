"""The wheel is the product: built from this checkout, installed into a fresh venv outside
it, and run from another folder, cgocheck finds its shipped recipes, creates, checks and
describes a sysroot, verifies and inspects a build, and writes nothing into the installed
package. A project's own sysroots/ recipes are found before the shipped ones."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import run
from tests.support.home import private_home
from tests.support.install import build_wheel, fresh_venv
from tests.support.need import need, need_tool
from tests.support.paths import FIXTURES, REPO

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv with the wheel of this checkout (and its dependencies) installed."""
    top = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(top / "dist")
    bin_dir = fresh_venv(top / "venv")
    inst = run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)])
    need(inst.returncode == 0, f"the wheel's dependencies from PyPI ({inst.stderr[-500:]})")
    return bin_dir


def site_files(bin_dir: Path) -> set[str]:
    site = next((bin_dir.parent / "lib").glob("python3*/site-packages"))
    return {str(p.relative_to(site)) for p in site.rglob("*") if "__pycache__" not in p.parts}


def test_the_installed_wheel_does_the_main_job(installed: Path, tmp_path: Path) -> None:
    need_tool("apt-get")
    need_tool("aarch64-linux-gnu-gcc")
    # the real home's toolchains and Go build cache are downloads and Go's own cache; the
    # sysroots are made afresh by the installed code
    home = private_home(tmp_path / "cgocheck-home", share=("downloads", "apt", "go", "gocache"))
    work = tmp_path / "elsewhere"  # no cgocheck.toml, pyproject.toml or go.mod above it
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CGOCHECK_", "PYTHON"))}
    env.update(CGOCHECK_HOME=str(home), PATH=f"{installed}:{env.get('PATH', '/usr/bin:/bin')}")
    before = site_files(installed)

    def cg(*args: str) -> subprocess.CompletedProcess[str]:
        proc = run([str(installed / "cgocheck"), *args], cwd=work, env=env)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    origin = run([str(installed / "python"), "-c", "import cgocheck; print(cgocheck.__file__)"], cwd=work, env=env)
    assert str(installed.parent) in origin.stdout and str(REPO) not in origin.stdout  # not the checkout

    listed = cg("sysroot", "list", "--all", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    names = {r["name"] for r in json.loads(listed.stdout)}
    shipped = {p.stem for p in (REPO / "sysroots").glob("*.toml")}
    assert names == shipped

    made = cg("sysroot", "create", "bookworm-arm64", "--write-lock", "--format", "json")
    assert made.returncode == 0, made.stderr
    res = json.loads(made.stdout)
    assert not res["reused"]
    assert res["lock_written"] == str(home / "locks" / "bookworm-arm64.lock.json")  # never into the package
    assert Path(res["lock_written"]).is_file()
    assert cg("sysroot", "check", "bookworm-arm64").returncode == 0
    info = cg("sysroot", "info", "bookworm-arm64", "--format", "json")
    assert info.returncode == 0 and json.loads(info.stdout)["libc_version"] == "2.36"
    locked = cg("sysroot", "create", "bookworm-arm64", "--locked", "--force", "--format", "json")
    assert locked.returncode == 0, locked.stderr  # reads the lock it wrote
    assert json.loads(locked.stdout)["digest"] == res["digest"]

    out = work / "zlib-arm64"
    verify = cg(
        "verify",
        str(FIXTURES / "clean" / "zlib"),
        "-t",
        "linux/arm64",
        "--sysroot",
        "bookworm-arm64",
        "-o",
        str(out),
        "--format",
        "json",
    )
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr
    report = json.loads(verify.stdout)
    assert report["files"][0]["facts"]["header"]["machine"] == "EM_AARCH64"
    inspect = cg("inspect", str(out), "--target", "linux/arm64", "--sysroot", "bookworm-arm64")
    assert inspect.returncode == 0, inspect.stdout[-2000:] + inspect.stderr
    assert site_files(installed) == before  # nothing written into the installed package


def test_a_projects_own_recipes_come_first(installed: Path, tmp_path: Path) -> None:
    home = private_home(tmp_path / "cgocheck-home", share=("downloads", "apt"))
    project = tmp_path / "project"
    (project / "sysroots").mkdir(parents=True)
    (project / "go.mod").write_text("module example.com/p\n\ngo 1.21\n")
    # same name as a shipped recipe, other packages: the project's wins
    (project / "sysroots" / "bookworm-arm64.toml").write_text(
        'name = "bookworm-arm64"\nsuite = "bookworm"\narch = "arm64"\nlibc = "glibc"\npackages = ["libc6-dev"]\n'
    )
    (project / "sysroots" / "mine-arm64.toml").write_text(
        'name = "mine-arm64"\nsuite = "bullseye"\narch = "arm64"\nlibc = "glibc"\npackages = ["libc6-dev"]\n'
    )
    sub = project / "cmd" / "app"
    sub.mkdir(parents=True)
    env = {**os.environ, "CGOCHECK_HOME": str(home)}
    env.pop("CGOCHECK_RECIPES", None)
    proc = run([str(installed / "cgocheck"), "sysroot", "list", "--all", "--format", "json"], cwd=sub, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert "mine-arm64" in rows and "bullseye-armhf" in rows  # the project's and the shipped ones
    made = run(
        [str(installed / "cgocheck"), "sysroot", "create", "mine-arm64", "--write-lock", "--format", "json"],
        cwd=sub,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["lock_written"] == str(project / "sysroots" / "mine-arm64.lock.json")
    shadow = run(
        [str(installed / "cgocheck"), "sysroot", "create", "bookworm-arm64", "--format", "json"], cwd=sub, env=env
    )
    assert shadow.returncode == 0, shadow.stderr
    meta = json.loads((home / "sysroots" / "bookworm-arm64" / ".cgocheck" / "meta.json").read_text())
    assert meta["requested"] == ["libc6-dev"]  # the project's recipe, not the shipped one (zlib, sqlite3...)
