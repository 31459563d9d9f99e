"""Every inspect rule: a real build that makes it fire, and the clean build of the same
program on which it stays silent. JSON output is validated against the shipped schema."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from cgocheck.checks import check_file
from cgocheck.core.rules import Finding
from cgocheck.core.targets import parse_target
from cgocheck.elf import read_elf
from tests.support.builder import GO_NEW, GO_OLD, Builder
from tests.support.cli import cgocheck

pytestmark = pytest.mark.integration


def findings_for(path: object, target: str, **opts: object) -> list[Finding]:
    facts = read_elf(str(path))
    return check_file(facts, parse_target(target), **opts)  # type: ignore[arg-type]


def rules_of(findings: list[Finding], at_least: str = "info") -> set[str]:
    order = ["info", "warning", "error"]
    return {f.rule for f in findings if order.index(f.severity) >= order.index(at_least)}


# (id, build kwargs, target to check against, rules that must fire)
SCENARIOS = [
    ("arm64-binary-for-armhf", dict(fixture="clean/libc", target="linux/arm64"), "linux/arm/v7", {"A001"}),
    ("amd64-binary-for-arm64", dict(fixture="clean/libc", target="linux/amd64"), "linux/arm64", {"A001"}),
    (
        "armhf-compiler-for-armel",
        dict(fixture="clean/libc", target="linux/arm/v5", cc="arm-linux-gnueabihf-gcc"),
        "linux/arm/v5",
        {"A004", "A005", "A008"},
    ),
    ("goarm7-for-armel", dict(fixture="clean/libc", target="linux/arm/v7"), "linux/arm/v5", {"A004", "A005", "G004"}),
    (
        "armv7-c-code-for-armel",
        dict(fixture="clean/libc", target="linux/arm/v5", cflags="-O2 -g -march=armv7-a"),
        "linux/arm/v5",
        {"A009"},
    ),
    ("glibc-binary-for-musl", dict(fixture="clean/libc", target="linux/arm64"), "linux/arm64/musl", {"A005", "A006"}),
    ("cgo-off", dict(fixture="clean/netuser", target="linux/arm64", cgo=False, link=""), "linux/arm64", {"G001"}),
    # With cgo, Go's internal linker takes the loader the C compiler reported
    # (//go:cgo_dynamic_linker), so only G006 fires, not A005.
    (
        "internal-link-armhf",
        dict(fixture="clean/libc", target="linux/arm/v7", link="internal"),
        "linux/arm/v7",
        {"G006"},
    ),
    (
        "rpath-tmp",
        dict(fixture="clean/libc", target="linux/arm64", ldflags_c="-Wl,-rpath,/tmp/build/lib"),
        "linux/arm64",
        {"R002"},
    ),
    (
        "rpath-opt",
        dict(fixture="clean/libc", target="linux/arm64", ldflags_c="-Wl,-rpath,/opt/vendor/lib"),
        "linux/arm64",
        {"R001"},
    ),
    (
        "old-dtags",
        dict(
            fixture="clean/libc", target="linux/arm64", ldflags_c="-Wl,--disable-new-dtags -Wl,-rpath,/opt/vendor/lib"
        ),
        "linux/arm64",
        {"R001", "R003"},
    ),
]


@pytest.mark.parametrize(
    ("build", "target", "expected"),
    [pytest.param(b, t, e, id=i, marks=pytest.mark.fires(*sorted(e))) for i, b, t, e in SCENARIOS],
)
def test_rule_fires(builder: Builder, build: dict[str, object], target: str, expected: set[str]) -> None:
    b = dict(build)
    built = builder.build(str(b.pop("fixture")), str(b.pop("target")), GO_NEW, **b)  # type: ignore[arg-type]
    got = rules_of(findings_for(built.path, target))
    assert expected <= got, f"expected {expected}, got {got}"


CLEAN = [
    pytest.param(f, t, g, c, id=f"{f.split('/')[-1]}-{t.replace('/', '_')}-go{g}-{c}")
    for f in ("clean/libc", "clean/netuser")
    for t in ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5", "linux/riscv64")
    for g in (GO_OLD, GO_NEW)
    for c in ("gcc", "clang")
]


@pytest.mark.parametrize(("fixture", "target", "go_spec", "compiler"), CLEAN)
def test_clean_build_is_silent(builder: Builder, fixture: str, target: str, go_spec: str, compiler: str) -> None:
    built = builder.build(fixture, target, go_spec, compiler)
    findings = findings_for(built.path, target)
    assert rules_of(findings, "warning") == set(), [f"{f.rule} {f.message}" for f in findings]


@pytest.mark.fires("G005")
def test_pre_118_binary_has_no_settings_to_check(builder: Builder) -> None:
    """Go 1.15 (pre-1.18 buildinfo layout) records no build settings: G005 says so."""
    old = builder.build("clean/libc", "linux/arm64", "1.15", "gcc", extra_env={"GO111MODULE": "on"})
    facts = read_elf(str(old.path))
    assert facts.go is not None and facts.go.buildinfo is not None and facts.go.buildinfo.layout == "pre-1.18"
    assert "G005" in rules_of(findings_for(old.path, "linux/arm64"))
    new = builder.build("clean/libc", "linux/arm64", GO_NEW, "gcc")
    assert "G005" not in rules_of(findings_for(new.path, "linux/arm64"))


def test_pure_go_build_is_fine_when_declared(builder: Builder) -> None:
    built = builder.build("clean/netuser", "linux/arm64", GO_NEW, cgo=False, link="")
    assert rules_of(findings_for(built.path, "linux/arm64", expect_cgo=False), "warning") == set()


def test_c_library_is_not_a_go_binary() -> None:
    libc = "/usr/aarch64-linux-gnu/lib/libc.so.6"
    got = findings_for(libc, "linux/arm64")
    assert rules_of(got, "warning") == set()


def test_json_report_matches_schema(builder: Builder) -> None:
    good = builder.build("clean/libc", "linux/arm/v7", GO_NEW).path
    bad = builder.build("clean/libc", "linux/arm64", GO_NEW).path
    proc = cgocheck("inspect", "--format", "json", "--target", "linux/arm/v7", str(good), str(bad), timeout=120)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    schema = json.loads(resources.files("cgocheck.data").joinpath("report.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["summary"]["exit_code"] == 1
    by_path = {f["path"]: {x["rule"] for x in f["findings"]} for f in data["files"]}
    assert "A001" in by_path[str(bad)] and not by_path[str(good)] - {"G005", "G007"}
    # a schema that accepts anything would prove nothing: break the report and see it fail
    data["files"][0]["findings"].append({"rule": "nope"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
