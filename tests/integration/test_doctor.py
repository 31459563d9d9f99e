"""`cgocheck doctor`: the current shell's contaminating variables, misspelled knobs, go env
file settings, and (--build) a shell build against the hermetic one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cgocheck
from tests.support.need import go, need_tool
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return cgocheck("doctor", "--format", "json", *args, env=env, cwd=FIXTURES.parent)


def base_env(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home)}


def rules(data: dict[str, Any]) -> set[str]:
    return {str(f["rule"]) for f in data["findings"]}


def test_clean_shell_is_quiet(tmp_path: Path) -> None:
    go("newest")
    proc = doctor(base_env(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert rules(json.loads(proc.stdout)) == set()


@pytest.mark.fires("B004", "B005")
def test_variables_and_misspellings(tmp_path: Path) -> None:
    go("newest")
    env = base_env(tmp_path) | {
        "CC": "gcc",
        "CGO_FLAGS": "-O2",
        "CGO_LDFLAG": "-lz",
        "PKG_CONFIG_DIR": "/x",
        "LD_LIBRARY_PATH": "/opt/lib",
    }
    proc = doctor(env)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    msgs = {f["message"] for f in data["findings"]}
    assert {"B004", "B005"} <= rules(data)
    assert any("CGO_FLAGS" in m and "CGO_CFLAGS" in m for m in msgs)
    assert any("CGO_LDFLAG " in m and "CGO_LDFLAGS" in m for m in msgs)
    assert any(m.startswith("LD_LIBRARY_PATH") for m in msgs)


@pytest.mark.fires("B006")
def test_go_env_file_setting(tmp_path: Path) -> None:
    gt = go("newest")
    env = base_env(tmp_path)
    subprocess.run([str(gt.go), "env", "-w", "CGO_ENABLED=0"], env=env | {"GOROOT": str(gt.goroot)}, check=True)
    proc = doctor(env)
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and "B006" in rules(data), data
    assert any("CGO_ENABLED" in f["message"] for f in data["findings"])


@pytest.mark.fires("B007")
def test_build_as_the_shell_would(tmp_path: Path) -> None:
    """CGO_ENABLED=0 in the shell: its arm64 build has no cgo; the hermetic one has."""
    go("newest")
    need_tool("aarch64-linux-gnu-gcc")
    env = base_env(tmp_path) | {"CGO_ENABLED": "0"}
    proc = doctor(env, "--build", "fixtures/clean/netuser", "--target", "linux/arm64")
    data = json.loads(proc.stdout)
    assert proc.returncode == 1, proc.stderr
    assert {"B004", "B007"} <= rules(data)
    diff = {d["fact"]: (d["shell"], d["hermetic"]) for d in data["build_diff"]}
    assert diff["cgo"] == ("not linked", "linked")
    assert diff["CGO_ENABLED"] == ("0", "1")
