"""The clean set, verified: zero findings above info across targets, Go versions and
compiler presets (real builds, real sysroots). One cell per target x Go x compiler runs by
default (the fixture rotates so each appears); the whole matrix with --exhaustive."""

from __future__ import annotations

import itertools

import pytest

from cgocheck.build.options import GoBuildOptions
from cgocheck.commands.verify import VerifyOptions, verify
from cgocheck.core.errors import CgocheckError
from cgocheck.core.targets import parse_target
from tests.support.builder import GO_NEW, GO_OLD
from tests.support.need import go, need, need_tool
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration

FIXTURE_NAMES = ("libc", "netuser", "zlib", "sqlite3", "cshared")
TARGETS = {"linux/arm64": "bookworm-arm64", "linux/arm/v7": "bookworm-armhf", "linux/amd64": "bookworm-amd64"}
COMPILERS = ("gcc", "clang")
GOS = (GO_OLD, GO_NEW)

COMBOS = list(itertools.product(TARGETS, GOS, COMPILERS))
CELLS = []
for i, (t, g, c) in enumerate(COMBOS):
    for j, f in enumerate(FIXTURE_NAMES):
        default = j == i % len(FIXTURE_NAMES)
        marks = () if default else (pytest.mark.exhaustive,)
        CELLS.append(pytest.param(f, t, g, c, marks=marks, id=f"{f}-{t.replace('/', '_')}-go{g}-{c}"))


@pytest.mark.parametrize(("fixture", "target", "go_spec", "compiler"), CELLS)
def test_clean_fixture_verifies_clean(fixture: str, target: str, go_spec: str, compiler: str, tmp_path: object) -> None:
    tgt = parse_target(target)
    go(go_spec)
    if compiler == "gcc":
        need_tool(f"{tgt.triplet}-gcc")
    else:
        need_tool("clang")
        need_tool("ld.lld")
    opts = VerifyOptions(
        packages=(str(FIXTURES / "clean" / fixture),),
        target=tgt,
        go=go_spec,
        compiler=compiler,
        sysroot=TARGETS[target],
        build=GoBuildOptions(ldflags="-linkmode=external", buildmode="c-shared" if fixture == "cshared" else None),
        output=tmp_path / "out",  # type: ignore[operator]
    )
    try:
        result = verify(opts)
    except CgocheckError as err:
        need(False, err.message)
        raise
    rec = result.record
    assert rec.ok, rec.log_tail
    loud = [f"{f.severity} {f.rule} {f.message}" for f in result.report.findings if f.severity != "info"]
    assert loud == [], loud
    assert rec.c_units, "the C units carry DWARF"
    want = "GNU" if compiler == "gcc" else "clang"
    assert {u.compiler for u in rec.c_units} == {want}
    if fixture in ("zlib", "sqlite3"):
        (mod,) = rec.pkgconfig
        assert mod.in_sysroot and mod.version == mod.sysroot_version
