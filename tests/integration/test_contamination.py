"""Every contamination scenario in fixtures/contaminated/: the rules its expect.toml names
fire on the contaminated verify build, and none of them fires (nor anything above info) on
the clean verify build of the same program.

expect.toml keys: description, program (a clean fixture; default: the scenario folder),
target, sysroot, go, cc, cc_path, glibc_floor, ldflags (default -linkmode=external),
extra_cflags, extra_ldflags, env, unset, expect; [clean] overrides for the clean build;
[archive] source/output/cc/clean_cc: a static archive built at test time (never committed).
"{here}" in a value is the scenario's folder.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cgocheck.build.options import GoBuildOptions
from cgocheck.commands.verify import VerifyOptions, VerifyResult, verify
from cgocheck.core.errors import CgocheckError
from cgocheck.core.targets import parse_target
from tests.conftest import FIXTURES, go, need, need_tool

pytestmark = pytest.mark.integration

SCENARIOS = sorted(p.name for p in (FIXTURES / "contaminated").iterdir() if (p / "expect.toml").is_file())
RANK = {"info": 0, "warning": 1, "error": 2}


def load(name: str) -> dict[str, Any]:
    data = tomllib.loads((FIXTURES / "contaminated" / name / "expect.toml").read_text())
    here = str(FIXTURES / "contaminated" / name)

    def sub(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace("{here}", here)
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v

    return dict(sub(data))


def options_for(spec: dict[str, Any], src: Path, *, clean: bool) -> VerifyOptions:
    s = dict(spec)
    if clean:
        for k in ("env", "unset", "extra_cflags", "extra_ldflags", "glibc_floor_only"):
            s.pop(k, None)
        s.update(spec.get("clean", {}))
    tools: list[str] = []
    target = parse_target(s["target"])
    cc = s.get("cc", "gcc")
    if s.get("cc_path"):
        tools.append(s["cc_path"].split()[0])
    elif cc == "gcc":
        tools.append(f"{target.triplet}-gcc")
    elif cc == "clang":
        tools += ["clang", "ld.lld"]
    for k, v in dict(s.get("env", {})).items():
        if k == "CC":
            tools.append(v)
    for t in tools:
        need_tool(t)
    go(s.get("go", "newest"))
    return VerifyOptions(
        packages=(str(src),),
        target=target,
        go=s.get("go", "newest"),
        compiler=cc,
        cc_path=s.get("cc_path") or None,
        sysroot=s.get("sysroot"),
        glibc_floor=s.get("glibc_floor"),
        build=GoBuildOptions(ldflags=s.get("ldflags", "-linkmode=external") or None),
        extra_cflags=s.get("extra_cflags", ""),
        extra_ldflags=s.get("extra_ldflags", ""),
        env=tuple(dict(s.get("env", {})).items()),
        unset=tuple(s.get("unset", ())),
        output=src.parent / f"out-{'clean' if clean else 'dirty'}",
    )


def prepare(name: str, spec: dict[str, Any], tmp: Path, *, clean: bool) -> Path:
    """A copy of the program (so nothing is written into the repository)."""
    prog = spec.get("clean", {}).get("program") if clean else None
    prog = prog or spec.get("program")
    src_dir = FIXTURES / prog if prog else FIXTURES / "contaminated" / name
    dst = tmp / ("clean" if clean else "dirty") / "src"
    shutil.copytree(src_dir, dst, ignore=shutil.ignore_patterns("expect.toml", "pc", "*.sh"))
    arch = spec.get("archive")
    if arch:
        cc = arch["clean_cc"] if clean else arch["cc"]
        need_tool(cc)
        obj = dst / (Path(arch["source"]).stem + ".o")
        subprocess.run([cc, "-O2", "-c", str(dst / arch["source"]), "-o", str(obj)], check=True)
        ar = cc.replace("-gcc", "-ar")
        subprocess.run([shutil.which(ar) or "ar", "rcs", str(dst / arch["output"]), str(obj)], check=True)
        obj.unlink()
        (dst / arch["source"]).unlink()  # only the prebuilt archive is linked, as in a vendored tree
    return dst


def run(name: str, tmp: Path, *, clean: bool) -> VerifyResult:
    spec = load(name)
    src = prepare(name, spec, tmp, clean=clean)
    opts = options_for(spec, src, clean=clean)
    try:
        return verify(opts)
    except CgocheckError as err:
        need(False, err.message)
        raise


def fired(result: VerifyResult, at_least: str = "info") -> set[str]:
    return {f.rule for f in result.report.findings if RANK[f.severity] >= RANK[at_least]}


def describe(result: VerifyResult) -> list[str]:
    return [f"{f.severity} {f.rule} {f.message}" for f in result.report.findings]


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_fires(name: str, tmp_path: Path) -> None:
    expected = set(load(name)["expect"])
    result = run(name, tmp_path, clean=False)
    assert expected <= fired(result), f"{name}: expected {sorted(expected)}\n" + "\n".join(describe(result))


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_clean_twin_is_silent(name: str, tmp_path: Path) -> None:
    expected = set(load(name)["expect"])
    result = run(name, tmp_path, clean=True)
    assert result.record.ok, result.record.log_tail
    assert not (expected & fired(result)), f"{name} (clean): " + "\n".join(describe(result))
    assert fired(result, "warning") == set(), f"{name} (clean): " + "\n".join(describe(result))


def test_there_are_at_least_twelve_scenarios() -> None:
    assert len(SCENARIOS) >= 12
    for name in SCENARIOS:
        spec = load(name)
        assert spec["expect"] and spec.get("description"), name
