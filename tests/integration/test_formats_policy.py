"""Suppressions and the baseline on real reports: suppressed findings leave the findings
(and the exit code) but every format still shows them with their reason."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.builder import GO_NEW, Builder
from tests.support.cli import cgocheck, plain_env, workdir
from tests.support.formats import validate_sarif

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def apps(builder: Builder) -> dict[str, Path]:
    return {
        "clean": builder.build("clean/libc", "linux/arm64", GO_NEW).path,
        "tmp": builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c="-Wl,-rpath,/tmp/build/lib").path,
        "opt": builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c="-Wl,-rpath,/opt/vendor/lib").path,
    }


def inspect_json(
    cwd: Path, *paths: Path, extra: tuple[str, ...] = (), env: dict[str, str] | None = None, code: int | None = None
) -> dict[str, Any]:
    proc = cgocheck(
        "inspect", "--target", "linux/arm64", "--format", "json", *extra, *map(str, paths), cwd=cwd, env=plain_env(env)
    )
    data: dict[str, Any] = json.loads(proc.stdout)
    if code is not None:
        assert proc.returncode == code, proc.stderr
    return data


def rules_in(data: dict[str, Any]) -> list[str]:
    return sorted(f["rule"] for fr in data["files"] for f in fr["findings"])


def test_suppression_by_rule_and_path(apps: dict[str, Path], tmp_path: Path) -> None:
    cwd = workdir(tmp_path)
    before = inspect_json(cwd, apps["tmp"], apps["opt"], code=1)
    assert rules_in(before) == ["R001", "R002"]
    name = apps["tmp"].name
    (cwd / "cgocheck.toml").write_text(f"""
[[suppress]]
rule = "R002"
path = "{name}"
reason = "staging build, rpath stripped at install (ticket 42)"
expires = 2999-12-31
""")
    after = inspect_json(cwd, apps["tmp"], apps["opt"], code=0)
    assert rules_in(after) == ["R001"]
    (s,) = after["suppressed"]
    assert s["finding"]["rule"] == "R002" and s["path"] == str(apps["tmp"])
    assert s["reason"] == "staging build, rpath stripped at install (ticket 42)"
    assert s["source"] == "suppression cgocheck.toml:2" and s["expires"] == "2999-12-31"
    assert after["summary"]["exit_code"] == 0 and after["summary"]["findings"]["error"] == 0

    # every format shows the suppressed finding and its reason
    for fmt in ("table", "markdown", "html", "junit"):
        out = cgocheck(
            "inspect", "--target", "linux/arm64", "--format", fmt, str(apps["tmp"]), cwd=cwd, env=plain_env()
        ).stdout
        assert "ticket 42" in out, fmt
    junit = ET.fromstring(
        cgocheck("inspect", "-t", "linux/arm64", "--format", "junit", str(apps["tmp"]), cwd=cwd, env=plain_env()).stdout
    )
    skipped = [c for c in junit.iter("testcase") if c.find("skipped") is not None]
    assert [c.get("name", "").split()[0] for c in skipped] == ["R002"]
    log = json.loads(
        cgocheck("inspect", "-t", "linux/arm64", "--format", "sarif", str(apps["tmp"]), cwd=cwd, env=plain_env()).stdout
    )
    validate_sarif(log)
    (res,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "R002"]
    assert res["suppressions"][0]["justification"].endswith("(ticket 42)")

    # --fail-on on the command line beats the file; the environment beats the file too
    (cwd / "cgocheck.toml").write_text('fail-on = "warning"\n')
    inspect_json(cwd, apps["opt"], code=1)
    inspect_json(cwd, apps["opt"], extra=("--fail-on", "error"), code=0)
    inspect_json(cwd, apps["opt"], env={"CGOCHECK_FAIL_ON": "error"}, code=0)


def test_symbol_glob_must_match_every_evidence_item(apps: dict[str, Path], tmp_path: Path) -> None:
    cwd = workdir(tmp_path)
    (cwd / "cgocheck.toml").write_text(
        '[[suppress]]\nrule = "R002"\nsymbol = "/tmp/build/*"\nreason = "known"\n'
        '[[suppress]]\nrule = "R001"\nsymbol = "/srv/*"\nreason = "does not match /opt"\n'
    )
    data = inspect_json(cwd, apps["tmp"], apps["opt"], code=0)
    assert rules_in(data) == ["R001"]
    assert [s["finding"]["rule"] for s in data["suppressed"]] == ["R002"]


def test_baseline_accepts_known_findings_only(apps: dict[str, Path], tmp_path: Path) -> None:
    cwd = workdir(tmp_path)
    base = inspect_json(cwd, apps["tmp"], code=1)
    (cwd / "baseline.json").write_text(json.dumps(base))
    (cwd / "cgocheck.toml").write_text('baseline = "baseline.json"\n')
    again = inspect_json(cwd, apps["tmp"], code=0)
    assert rules_in(again) == [] and [s["finding"]["rule"] for s in again["suppressed"]] == ["R002"]
    assert again["suppressed"][0]["source"] == "baseline baseline.json"
    # a new finding (another run path) is not in the baseline
    both = inspect_json(cwd, apps["tmp"], apps["opt"], extra=("--fail-on", "warning"), code=1)
    assert rules_in(both) == ["R001"]
    # the baseline can also come from the environment, relative to where cgocheck runs
    (cwd / "cgocheck.toml").unlink()
    inspect_json(cwd, apps["tmp"], env={"CGOCHECK_BASELINE": "baseline.json"}, code=0)


def test_expired_suppression_is_an_error(apps: dict[str, Path], tmp_path: Path) -> None:
    cwd = workdir(tmp_path)
    (cwd / "cgocheck.toml").write_text(
        '# accepted for the 1.0 release\n[[suppress]]\nrule = "R002"\nreason = "release 1.0"\nexpires = 2020-01-01\n'
    )
    proc = cgocheck("inspect", "--target", "linux/arm64", str(apps["tmp"]), cwd=cwd, env=plain_env())
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "cgocheck: error: cgocheck.toml:5: suppress[0].expires: the suppression of R002 expired on 2020-01-01 "
        "(reason given: release 1.0): fix the finding, or extend the date if it still holds"
    ]
