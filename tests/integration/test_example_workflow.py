"""examples/github-actions.yml works as written: its shell steps run in order on this machine,
as GitHub's runner would run them (bash -eo pipefail, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
RUNNER_TEMP, ${{ }} expressions), on a small Go repository made here with two commits (the
pull request and its base). The `uses:` actions are left out; a wheel of this checkout stands
in for `pip install cgocheck`. Every expression the workflow uses must be one this runner
knows, so the example cannot drift from what is tested."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.home import private_home
from tests.support.install import build_wheel, fresh_venv
from tests.support.need import need, need_tool
from tests.support.paths import FIXTURES, REPO

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

WORKFLOW = REPO / "examples" / "github-actions.yml"
CGOCHECK_TOML = """\
go = ["newest"]
targets = ["linux/arm64"]
compilers = ["gcc"]
packages = ["./cmd/app"]

[sysroots]
"linux/arm64" = "bookworm-arm64"
"""


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=True)
    return proc.stdout.strip()


def make_repo(top: Path) -> tuple[Path, str]:
    """A module with cmd/app (zlib through pkg-config), a cgocheck.toml; base commit, head commit."""
    repo = top / "repo"
    (repo / "cmd" / "app").mkdir(parents=True)
    (repo / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    shutil.copy(FIXTURES / "clean" / "zlib" / "main.go", repo / "cmd" / "app" / "main.go")
    (repo / "cgocheck.toml").write_text(CGOCHECK_TOML)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    main = repo / "cmd" / "app" / "main.go"
    main.write_text(main.read_text() + "\n// a change in the pull request\n")
    git(repo, "commit", "-q", "-am", "head")
    return repo, base


class Runner:
    def __init__(self, repo: Path, env: dict[str, str], context: dict[str, str]) -> None:
        self.repo, self.env, self.context = repo, env, context
        self.outputs: dict[str, dict[str, str]] = {}
        self.ran: list[str] = []

    def expr(self, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            key = m.group(1).strip()
            if key.startswith("steps."):
                _, step, _, name = key.split(".")
                return self.outputs[step][name]
            if key.startswith("env."):
                return self.env[key[4:]]
            assert key in self.context, f"the workflow uses ${{{{ {key} }}}}, which this runner does not know"
            return self.context[key]

        return re.sub(r"\$\{\{(.*?)\}\}", sub, text)

    def condition(self, cond: str | None, event: str) -> bool:
        if cond is None:
            return True
        c = cond.strip()
        if c == "always()":
            return True
        known = {
            "github.event_name == 'pull_request'": event == "pull_request",
            "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'": event == "schedule",
        }
        assert c in known, f"condition {c!r} is not one this runner evaluates"
        return known[c]

    def job(self, jobs: dict[str, Any], name: str, event: str, matrix: dict[str, str] | None = None) -> None:
        job = jobs[name]
        if not self.condition(job.get("if"), event):
            return
        saved = dict(self.context)
        for k, v in (matrix or {}).items():
            self.context[f"matrix.{k}"] = v
        for step in job["steps"]:
            if "run" not in step or not self.condition(step.get("if"), event):
                continue
            out = self.repo.parent / f"output-{len(self.ran)}"
            out.write_text("")
            env = {**self.env, "GITHUB_OUTPUT": str(out)}
            script = self.expr(step["run"])
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=self.repo,
                env=env,
                capture_output=True,
                text=True,
                timeout=1800,
            )
            label = f"{name}: {step.get('name', step.get('id', script.splitlines()[0]))}"
            self.ran.append(label)
            tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            assert proc.returncode == 0, f"{label} failed ({proc.returncode})\n{tail}"
            assert "Traceback" not in proc.stderr, proc.stderr
            if "id" in step:
                self.outputs[step["id"]] = dict(
                    line.split("=", 1) for line in out.read_text().splitlines() if "=" in line
                )
        self.context = saved


def test_the_example_workflow_runs_as_written(tmp_path: Path) -> None:
    need_tool("git")
    need_tool("apt-get")
    need(os.geteuid() == 0 or shutil.which("sudo") is not None, "root or sudo (the workflow installs packages)")
    wheel = build_wheel(tmp_path / "dist")
    bin_dir = fresh_venv(tmp_path / "venv")
    shims = tmp_path / "shims"
    shims.mkdir()
    if os.geteuid() == 0:  # as GitHub's runner user can, run sudo's commands
        (shims / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
        (shims / "sudo").chmod(0o755)
    repo, base = make_repo(tmp_path)
    home = private_home(tmp_path / "cgocheck-home", share=("downloads", "apt", "go", "gocache"))
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    summary = tmp_path / "summary.md"
    summary.write_text("")
    doc = yaml.safe_load(WORKFLOW.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CGOCHECK_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({k: str(v) for k, v in doc["env"].items()})
    env.update(
        CGOCHECK=str(wheel),
        CGOCHECK_HOME=str(home),
        RUNNER_TEMP=str(runner_temp),
        GITHUB_STEP_SUMMARY=str(summary),
        PATH=f"{bin_dir}:{shims}:{env.get('PATH', '/usr/bin:/bin')}",
        DEBIAN_FRONTEND="noninteractive",
    )
    runner = Runner(repo, env, {"github.event.pull_request.base.sha": base})
    jobs = doc["jobs"]

    runner.job(jobs, "cgocheck", "pull_request")
    assert runner.outputs["verify"]["code"] == "0"
    assert (repo / "dist" / "app").is_file()
    json.loads((repo / "cgocheck.sarif").read_text())  # a SARIF log was written
    text = summary.read_text()
    assert "linux/arm64" in text and "diff" in text.lower()

    runner.job(jobs, "matrix-list", "schedule")
    cells = json.loads(runner.outputs["list"]["cells"])
    assert cells["include"], cells
    for cell in cells["include"]:
        runner.job(jobs, "matrix-cell", "schedule", {k: str(v) for k, v in cell.items()})
    for cell in cells["include"]:
        result = json.loads((repo / f"cell-{cell['cell']}.json").read_text())
        assert [c["exit_code"] for c in result["cells"]] == [0], result["cells"][0].get("error")
    before = len(summary.read_text())
    runner.job(jobs, "matrix-report", "schedule")
    merged = summary.read_text()[before:]
    assert "cgocheck matrix: pass" in merged and f"{len(cells['include'])} cell(s)" in merged, merged[:2000]
    assert (repo / "matrix.html").is_file() and json.loads((repo / "matrix.sarif").read_text())["runs"]
    # every shell step of every job ran: none was skipped by a condition this runner misread
    wanted = sum(1 for j in ("cgocheck", "matrix-list", "matrix-report") for s in jobs[j]["steps"] if "run" in s)
    wanted += len(cells["include"]) * sum(1 for s in jobs["matrix-cell"]["steps"] if "run" in s)
    assert len(runner.ran) == wanted, runner.ran
