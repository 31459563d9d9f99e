"""`cgocheck resolve` and `cgocheck inspect --sysroot`: exit codes, formats, one-line errors.
The binary is the host's /bin/true; the sysroots are folders built from real host libraries."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from tests.support.cli import invoke
from tests.support.resolve_tree import HOST, HOST_OK, HOST_REASON, T, base_tree

pytestmark = pytest.mark.skipif(not HOST_OK, reason=HOST_REASON)
TRUE = str(HOST["exe"])


def test_clean_binary_exits_0_and_fail_on_info_exits_1(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    ok = invoke("resolve", TRUE, "--sysroot", str(root))
    assert ok.exit_code == 0, ok.output
    assert "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 [default]" in ok.output
    assert invoke("resolve", TRUE, "--sysroot", str(root), "--fail-on", "info").exit_code == 1


@pytest.mark.fires("L001")
def test_missing_library_exits_1_with_l001(tmp_path: Path) -> None:
    root = base_tree(tmp_path, libc_dir=None)
    res = invoke("resolve", TRUE, "--sysroot", str(root), "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert [f["rule"] for f in data["files"][0]["findings"] if f["severity"] != "info"] == ["L001"]
    assert data["summary"]["exit_code"] == 1 and data["command"] == "resolve"
    schema = json.loads(resources.files("cgocheck.data").joinpath("report.schema.json").read_text())
    jsonschema.validate(data, schema)


def test_glibc_floor_is_applied(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    res = invoke("resolve", TRUE, "--sysroot", str(root), "--glibc-floor", "2.17", "--format", "json")
    needs = json.loads(res.stdout)["files"][0]["resolution"]["glibc"]
    if needs["required"] and needs["above_floor"]:
        assert res.exit_code == 1 and "S003" in res.stdout
    else:
        assert res.exit_code == 0


def test_missing_sysroot_exits_3_naming_sysroot_create(tmp_path: Path) -> None:
    for value in (str(tmp_path / "nowhere"), "no-such-recipe-xyz"):
        res = invoke("resolve", TRUE, "--sysroot", value)
        assert res.exit_code == 3
        (line,) = [x for x in res.stderr.splitlines() if x.strip()]
        assert line.startswith("cgocheck: error: ") and "cgocheck sysroot create" in line


def test_bad_inputs_exit_2(tmp_path: Path) -> None:
    root = base_tree(tmp_path)
    text = tmp_path / "notelf"
    text.write_text("hello\n")
    assert invoke("resolve", str(text), "--sysroot", str(root)).exit_code == 2
    assert invoke("resolve", str(tmp_path / "missing"), "--sysroot", str(root)).exit_code == 2
    bad_floor = invoke("resolve", TRUE, "--sysroot", str(root), "--glibc-floor", "new")
    assert bad_floor.exit_code == 2 and "--glibc-floor" in bad_floor.stderr
    assert invoke("resolve", TRUE, "--sysroot", str(root), "--install-dir", "rel/dir").exit_code == 2


def test_inspect_with_sysroot_adds_the_resolution(tmp_path: Path) -> None:
    root = base_tree(tmp_path, libc_dir=None)
    res = invoke("inspect", TRUE, "--sysroot", str(root), "--format", "json")
    assert res.exit_code == 1
    f = json.loads(res.stdout)["files"][0]
    assert f["resolution"]["loader"] == "/lib64/ld-linux-x86-64.so.2"
    assert "L001" in {x["rule"] for x in f["findings"]}
    table = invoke("inspect", TRUE, "--sysroot", str(root))
    assert "search order" in table.output and "libc.so.6 (not-found" in table.output


def test_static_binary_has_nothing_to_resolve(tmp_path: Path) -> None:
    static = [p for p in ("/usr/bin/ldconfig", "/sbin/ldconfig") if os.path.exists(p)]
    if not static:
        pytest.skip("no static binary on this host")
    res = invoke("resolve", static[0], "--sysroot", str(base_tree(tmp_path)), "--format", "json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["files"][0]["resolution"]["setup"]["flavour"] == "static"
    assert T  # the host triplet the tree uses
