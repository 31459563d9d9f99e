"""Every contamination scenario in fixtures/contaminated/: the rules its expect.toml names
fire on the contaminated verify build, and none of them fires (nor anything above info) on
the clean verify build of the same program.

expect.toml keys: description, program (a clean fixture; default: the scenario folder),
target, sysroot, go, cc, cc_path, glibc_floor, ldflags (default -linkmode=external),
extra_cflags, extra_ldflags, env, unset, expect; [clean] overrides for the clean build;
[archive] source (or sources, one member each)/output/cc/clean_cc, and cflags/clean_cflags
({cc_include}: the compiler's include folder, {sysroot:NAME}: a created sysroot): a static
archive built at test time (never committed; cc may carry arguments, "clang --target=...").
"{here}" in a value is the scenario's folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cgocheck.commands.verify import VerifyResult
from tests.support.contamination import load_scenario, run_scenario
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration

SCENARIOS = sorted(p.name for p in (FIXTURES / "contaminated").iterdir() if (p / "expect.toml").is_file())
RANK = {"info": 0, "warning": 1, "error": 2}


def fired(result: VerifyResult, at_least: str = "info") -> set[str]:
    return {f.rule for f in result.report.findings if RANK[f.severity] >= RANK[at_least]}


def describe(result: VerifyResult) -> list[str]:
    return [f"{f.severity} {f.rule} {f.message}" for f in result.report.findings]


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_fires(name: str, tmp_path: Path) -> None:
    expected = set(load_scenario(name)["expect"])
    result = run_scenario(name, tmp_path, clean=False)
    assert expected <= fired(result), f"{name}: expected {sorted(expected)}\n" + "\n".join(describe(result))


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_clean_twin_is_silent(name: str, tmp_path: Path) -> None:
    expected = set(load_scenario(name)["expect"])
    result = run_scenario(name, tmp_path, clean=True)
    assert result.record.ok, result.record.log_tail
    assert not (expected & fired(result)), f"{name} (clean): " + "\n".join(describe(result))
    assert fired(result, "warning") == set(), f"{name} (clean): " + "\n".join(describe(result))


def test_there_are_at_least_twelve_scenarios() -> None:
    assert len(SCENARIOS) >= 12
    for name in SCENARIOS:
        spec = load_scenario(name)
        assert spec["expect"] and spec.get("description"), name
