"""Nothing of the parent's secrets, and no absolute path of the user's home, in any report,
any format, any command, unless --show-paths is asked for.

HOME points at a test folder holding the project, the binaries and cgocheck's own cache
(~/.cache/cgocheck, sharing the real toolchains, Go build cache and sysroots by symlink).
The shell carries a canary secret in variables a CI runner would have (GITHUB_TOKEN ...)
and, for verify and the matrix, in the variables that would contaminate a build by hand
(CC, CGO_CFLAGS, PKG_CONFIG_PATH, GOFLAGS). Then verify, matrix (whole and one cell),
report merge, inspect, resolve, diff and doctor run for real, each writing every format
(--report FORMAT=PATH for all six, plus stdout), and every byte they print or write is
searched for the canary and for the home folder, plain and as JSON, HTML and URLs spell it.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from cgocheck.core import folders
from cgocheck.report.formats import BINARY_ONLY
from cgocheck.report.formats import names as format_names
from tests.support.cli import cgocheck
from tests.support.home import private_home
from tests.support.need import go, need, need_tool
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration

CANARY = "cgocheck-canary-" + secrets.token_hex(8)
SECRETS = {"CGOCHECK_CANARY_SECRET": CANARY, "GITHUB_TOKEN": CANARY, "AWS_SECRET_ACCESS_KEY": CANARY}
KNOBS = {  # contaminating in a shell build: must not reach the hermetic one (doctor reports them by design)
    "CC": f"/opt/{CANARY}/gcc",
    "CGO_CFLAGS": f"-I/{CANARY}",
    "CGO_LDFLAGS": f"-L/{CANARY}",
    "PKG_CONFIG_PATH": f"/{CANARY}/pkgconfig",
    "GOFLAGS": f"-tags={CANARY}",
}
FORMATS = format_names()
BINARY_COMMANDS = ("inspect", "resolve", "verify")  # the commands that also write an SBOM (cyclonedx)
GO = "1.19"  # Debian's, outside HOME: the Go build cache stays warm whatever HOME is
SYSROOT = "bookworm-arm64"


def forms(home: str) -> set[str]:
    """How a path can be spelled in the outputs: plain, JSON, HTML/XML, URL."""
    return {home, json.dumps(home)[1:-1], html.escape(home), quote(home)}


@dataclass
class Run:
    name: str
    proc: subprocess.CompletedProcess[str]
    files: dict[str, Path] = field(default_factory=dict)

    def texts(self) -> dict[str, str]:
        out = {f"{self.name} stdout": self.proc.stdout, f"{self.name} stderr": self.proc.stderr}
        for fmt, p in self.files.items():
            out[f"{self.name} {fmt}"] = p.read_text(encoding="utf-8")
        return out


@dataclass
class World:
    home: Path
    proj: Path
    out: Path
    env: dict[str, str]
    runs: dict[str, Run] = field(default_factory=dict)

    def run(
        self,
        name: str,
        *args: str,
        extra: dict[str, str] | None = None,
        reports: bool = True,
        cwd: Path | None = None,
        ok: tuple[int, ...] = (0, 1),
    ) -> Run:
        offered = [f for f in FORMATS if f != "json" and (args[0] in BINARY_COMMANDS or f not in BINARY_ONLY)]
        files = {f: self.out / f"{name}.{f}" for f in offered} if reports else {}
        argv = [*args, *(a for f, p in files.items() for a in ("--report", f"{f}={p}"))]
        proc = cgocheck(*argv, cwd=cwd or self.proj, env={**self.env, **(extra or {})})
        assert proc.returncode in ok, f"{name}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
        run = Run(name, proc, files)
        self.runs[name] = run
        return run


def make_home(top: Path, name: str) -> tuple[Path, dict[str, str]]:
    """HOME=top/name with cgocheck's cache at its default place in it (~/.cache/cgocheck)."""
    home = top / name
    private_home(home / ".cache" / "cgocheck", share=("go", "gocache", "sysroots"))
    real = folders.home()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CGOCHECK_", "XDG_")) and k not in KNOBS and k not in SECRETS
    }
    env["HOME"] = str(home)
    # the shell build of `doctor --build` uses Go's default cache under HOME: keep it warm
    env["GOCACHE"] = str(real / "gocache" / "shell-build")
    return home, env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    go(GO)
    need_tool("aarch64-linux-gnu-gcc")
    need((folders.sysroots() / SYSROOT / ".cgocheck" / "complete").is_file(), f"sysroot {SYSROOT}")
    top = tmp_path_factory.mktemp("leaks")
    home, env = make_home(top, "home")
    proj = home / "src" / "app"
    shutil.copytree(FIXTURES / "clean" / "zlib", proj)  # pkg-config, headers and a library from the sysroot
    (proj / "cgocheck.toml").write_text(
        f'go = ["{GO}"]\ntargets = ["linux/arm64"]\ncompilers = ["gcc"]\npackages = ["."]\n'
        f'[sysroots]\n"linux/arm64" = "{SYSROOT}"\n'
    )
    out = home / "out"
    out.mkdir()
    w = World(home, proj, out, env)
    dirty = {**SECRETS, **KNOBS}
    app = proj / "app"
    w.run(
        "verify",
        "verify",
        ".",
        "--target",
        "linux/arm64",
        "--sysroot",
        SYSROOT,
        "--go",
        GO,
        "--ldflags=-linkmode=external",
        "--keep",
        "-o",
        str(app),
        "--format",
        "json",
        extra=dirty,
    )
    w.run("matrix", "matrix", "--format", "json", extra=dirty)
    (cell,) = json.loads(w.run("list", "matrix", "--list", "--format", "json", reports=False).proc.stdout)
    w.run("cell", "matrix", "--cell", cell["id"], "-o", str(out / "cell.json"), extra=dirty)
    w.run("merge", "report", "merge", str(out / "cell.json"), "--format", "json", extra=dirty)
    w.run(
        "inspect",
        "inspect",
        str(app),
        "--target",
        "linux/arm64",
        "--sysroot",
        SYSROOT,
        "--format",
        "json",
        extra=SECRETS,
    )
    (out / "base.json").write_text(w.runs["inspect"].proc.stdout)
    w.run("resolve", "resolve", str(app), "--sysroot", SYSROOT, "--format", "json", extra=SECRETS)
    w.run(
        "diff", "diff", str(out / "base.json"), str(app), "--target", "linux/arm64", "--format", "json", extra=SECRETS
    )
    w.run(
        "doctor",
        "doctor",
        "--build",
        ".",
        "--target",
        "linux/arm64",
        "--sysroot",
        SYSROOT,
        "--go",
        GO,
        "--format",
        "json",
        extra=SECRETS,
    )
    w.run("error", "inspect", str(home / "no-such-binary"), reports=False, ok=(2,))
    return w


def test_no_secret_in_any_output_log_cache_or_binary(world: World) -> None:
    texts = {k: v for r in world.runs.values() for k, v in r.texts().items()}
    assert len(texts) >= 8 * 7  # 8 commands x (stdout, stderr, 5 report files) and more
    leaked = [k for k, v in texts.items() if CANARY in v]
    assert not leaked, leaked
    # the build's own records: work folder (--keep), the result cache, the binaries
    report = json.loads(world.runs["verify"].proc.stdout)
    work = Path(report["build"]["work_dir"].replace("~", str(world.home), 1))  # ~ is the test's HOME
    assert work.is_dir() and (work / "build.log").is_file()
    cache = world.home / ".cache" / "cgocheck"
    for f in [*work.rglob("*"), *(cache / "results").rglob("*"), world.proj / "app"]:
        if f.is_file():
            assert CANARY.encode() not in f.read_bytes(), f
    # the hermetic build got only variables cgocheck chose, none of the shell's knobs
    assert not set(report["build"]["env"]) & set(SECRETS)
    assert all(CANARY not in v for v in report["build"]["env"].values())


def test_no_home_path_in_any_output(world: World) -> None:
    home = str(world.home)
    bad = forms(home) | forms(os.path.realpath(home))
    for run in world.runs.values():
        for where, text in run.texts().items():
            hits = [b for b in bad if b in text]
            assert not hits, f"{where}: {hits}"
    # the paths were there, and are shown from ~
    assert json.loads(world.runs["inspect"].proc.stdout)["files"][0]["path"] == "~/src/app/app"
    assert json.loads(world.runs["verify"].proc.stdout)["build"]["source_dir"] == "~/src/app"
    assert "~/no-such-binary" in world.runs["error"].proc.stderr
    sarif = json.loads(world.runs["inspect"].files["sarif"].read_text())
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"] == {"uri": "src/app/", "uriBaseId": "HOME"}
    assert "uri" not in run["originalUriBaseIds"]["HOME"]
    for c in json.loads(world.runs["matrix"].proc.stdout)["cells"]:
        assert c["report"]["build"]["output"].startswith("~/.cache/cgocheck/results/")


def test_show_paths_shows_them(world: World) -> None:
    app = str(world.proj / "app")
    for how in (["--show-paths"], []):
        extra = {} if how else {"CGOCHECK_SHOW_PATHS": "1"}
        run = world.run("shown", "inspect", app, *how, "--format", "json", extra=extra)
        assert json.loads(run.proc.stdout)["files"][0]["path"] == app
        for fmt in ("table", "sarif", "junit"):
            assert str(world.home) in run.files[fmt].read_text() or fmt == "table"


def test_home_spelled_oddly(world: World, tmp_path: Path) -> None:
    """A home with a space and a non-ASCII letter (JSON escapes it, URLs encode it), reached
    through a symlink (its real path differs): no spelling of either survives."""
    real_home, env = make_home(tmp_path, "réal home")
    link = tmp_path / "link-home"
    os.symlink(real_home, link)
    env["HOME"] = str(link)
    bin_dir = real_home / "bin dir"
    bin_dir.mkdir()
    shutil.copy(world.proj / "app", bin_dir / "app")
    w = World(real_home, bin_dir, real_home, env)
    via_link = str(link / "bin dir" / "app")
    w.run("inspect", "inspect", via_link, "--target", "linux/arm64", "--format", "json")
    w.run("inspect-real", "inspect", str(bin_dir / "app"), "--target", "linux/arm64", "--format", "json")
    (real_home / "base.json").write_text(w.runs["inspect"].proc.stdout)
    w.run("resolve", "resolve", via_link, "--sysroot", SYSROOT, "--format", "json")
    w.run("diff", "diff", str(real_home / "base.json"), via_link, "--format", "json")
    bad = forms(str(link)) | forms(str(real_home)) | forms(os.path.realpath(real_home))
    for run in w.runs.values():
        for where, text in run.texts().items():
            hits = [b for b in bad if b in text]
            assert not hits, f"{where}: {hits}"
    assert json.loads(w.runs["inspect"].proc.stdout)["files"][0]["path"] == "~/bin dir/app"
