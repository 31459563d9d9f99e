"""The shipped examples stay in step with the command line: every `cgocheck` call in the
GitHub Actions workflow and in the pre-commit hooks names a command and options that exist."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cgocheck
from tests.support.need import need
from tests.support.paths import REPO

WORKFLOW = REPO / "examples" / "github-actions.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
_CALL = re.compile(r"(?<![\w$./-])cgocheck\s+([a-z][\w-]*)((?:[ \t]+[^\s|;&<>()]+)*)")


def yaml_load(path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        need(False, "PyYAML (pip install pyyaml)")
        raise
    return yaml.safe_load(path.read_text())


@cache
def help_text(*words: str) -> str:
    proc = cgocheck(*words, "--help", timeout=60, cwd=REPO)
    assert proc.returncode == 0, f"cgocheck {' '.join(words)}: {proc.stderr}"
    return proc.stdout


def check_call(command: str, args: list[str]) -> None:
    words = [command]
    text = help_text(*words)
    if "Commands:" in text and args and not args[0].startswith("-"):
        words.append(args.pop(0))
        text = help_text(*words)
    for i, a in enumerate(args):
        if a.startswith("-") and a not in ("-", "--"):
            opt = a.split("=", 1)[0]
            assert re.search(rf"(^|[\s,]){re.escape(opt)}([\s,=]|$)", text, re.M), f"cgocheck {' '.join(words)} {opt}"
        if a == "--format":
            assert re.search(rf"[\[|]{re.escape(args[i + 1])}[|\]]", text), f"cgocheck {words} --format {args[i + 1]}"


def shell_calls(script: str) -> list[tuple[str, list[str]]]:
    joined = re.sub(r"\\\n\s*", " ", script)
    calls = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line)  # comments
        for m in _CALL.finditer(line):
            calls.append((m.group(1), m.group(2).split()))
    return calls


def test_workflow_calls_exist() -> None:
    flow = yaml_load(WORKFLOW)
    assert set(flow["permissions"]) >= {"security-events"}
    steps = flow["jobs"]["cgocheck"]["steps"]
    calls = [c for s in steps for c in shell_calls(s.get("run", ""))]
    assert {c for c, _ in calls} >= {"verify", "diff", "toolchains", "sysroot"}
    for command, args in calls:
        check_call(command, list(args))
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
    assert uploads and uploads[0]["with"]["sarif_file"] == "cgocheck.sarif"
    assert any("--format sarif > cgocheck.sarif" in s.get("run", "") for s in steps)
    assert any("GITHUB_STEP_SUMMARY" in s.get("run", "") and "--format markdown" in s.get("run", "") for s in steps)


def test_workflow_fan_out_jobs_call_real_commands() -> None:
    jobs = yaml_load(WORKFLOW)["jobs"]
    assert jobs["matrix-cell"]["needs"] == "matrix-list" and jobs["matrix-report"]["needs"] == "matrix-cell"
    calls = [
        c
        for j in ("matrix-list", "matrix-cell", "matrix-report")
        for s in jobs[j]["steps"]
        for c in shell_calls(s.get("run", ""))
    ]
    assert {(c, a[0] if a else "") for c, a in calls} >= {
        ("matrix", "--list"),
        ("matrix", "--cell"),
        ("report", "merge"),
    }
    for command, args in calls:
        check_call(command, list(args))


@pytest.mark.parametrize("hook", [h["id"] for h in yaml_load(HOOKS)] if HOOKS.is_file() else [])
def test_pre_commit_hooks_call_real_commands(hook: str) -> None:
    (h,) = [x for x in yaml_load(HOOKS) if x["id"] == hook]
    assert set(h) >= {"id", "name", "entry", "language"}
    assert h["language"] == "python"  # installs this package, whose console script is `cgocheck`
    entry = h["entry"].split()
    assert entry[0] == "cgocheck"
    re.compile(h.get("files", ""))
    check_call(entry[1], [*entry[2:], *h.get("args", [])])
