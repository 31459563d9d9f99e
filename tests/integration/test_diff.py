"""`cgocheck diff` on real builds. Every expectation is computed from the two binaries'
own facts (read with the ELF façade), never written down: what Go 1.19 and the newest Go
need from glibc depends on the toolchains and sysroots installed."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cgocheck.core.glibc import key as glibc_key
from cgocheck.elf import read_elf
from cgocheck.elf.model import ElfFacts
from cgocheck.report.formats import BINARY_ONLY, names
from tests.support.builder import GO_NEW, GO_OLD, Builder
from tests.support.cli import cgocheck, plain_env, workdir
from tests.support.formats import junit_counts, validate_sarif
from tests.support.need import sysroot

pytestmark = pytest.mark.integration


def symbols(facts: ElfFacts) -> set[str]:
    return {s.name + (f"@{s.version}" if s.version else "") for s in facts.undefined}


def diff_json(base: Path | str, head: Path | str, cwd: Path, *extra: str, code: int | None = None) -> dict[str, Any]:
    proc = cgocheck("diff", str(base), str(head), "--format", "json", *extra, cwd=cwd, env=plain_env())
    assert proc.returncode in (0, 1), proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert data["summary"]["exit_code"] == proc.returncode
    if code is not None:
        assert proc.returncode == code, json.dumps(data["changes"], indent=1)[:4000]
    return data


def changes(data: dict[str, Any], kind: str, change: str | None = None) -> list[dict[str, Any]]:
    return [c for c in data["changes"] if c["kind"] == kind and (change is None or c["change"] == change)]


@pytest.fixture(scope="module")
def cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workdir(tmp_path_factory.mktemp("diff"))


# --- Go 1.19 against the newest Go, linux/arm64 ---------------------------------------------------


@pytest.mark.parametrize(
    ("base_root", "head_root"),
    [
        pytest.param("bullseye-arm64", "bullseye-arm64", id="same-sysroot"),
        pytest.param("bullseye-arm64", "bookworm-arm64", id="go-and-sysroot-upgrade"),
    ],
)
def test_go_upgrade(builder: Builder, cwd: Path, base_root: str, head_root: str) -> None:
    old = builder.build("clean/libc", "linux/arm64", GO_OLD, sysroot=sysroot(base_root)).path
    new = builder.build("clean/libc", "linux/arm64", GO_NEW, sysroot=sysroot(head_root)).path
    fo, fn = read_elf(str(old)), read_elf(str(new))
    data = diff_json(old, new, cwd, "--target", "linux/arm64")

    # symbols: exactly the set differences of name@version
    added = {c["subject"] for c in changes(data, "symbol", "added")}
    removed = {c["subject"] for c in changes(data, "symbol", "removed")}
    assert added == symbols(fn) - symbols(fo)
    assert removed == symbols(fo) - symbols(fn)
    # the scenario's premise: the newer runtime/cgo calls more pthread functions
    assert {s.split("@")[0] for s in added if s.startswith("pthread_")} - {s.split("@")[0] for s in symbols(fo)}

    # the GLIBC floor: raised exactly when the newest Go's highest GLIBC_x.y is higher
    (vo, _), (vn, forcing) = fo.max_glibc(), fn.max_glibc()
    floor = changes(data, "glibc")
    if vn and (vo is None or glibc_key(vn) > glibc_key(vo)):
        assert len(floor) == 1 and floor[0]["change"] == "raised" and floor[0]["regression"]
        assert (floor[0]["before"], floor[0]["after"]) == (vo, vn)
        assert all(s in floor[0]["detail"] for s in forcing)
    else:
        assert not [c for c in floor if c["change"] == "raised"]

    # libraries: the set differences of DT_NEEDED; a new one is a regression
    lib_added = {c["subject"] for c in changes(data, "library", "added")}
    assert lib_added == set(fn.needed) - set(fo.needed)
    assert {c["subject"] for c in changes(data, "library", "removed")} == set(fo.needed) - set(fn.needed)

    # the exit code follows from the regressions, and they from the facts
    regressions = [c for c in data["changes"] if c["regression"]]
    assert (data["summary"]["exit_code"] == 1) == bool(regressions)
    assert {c["kind"] for c in regressions} <= {"glibc", "library", "finding"}
    expect_regression = (
        bool(lib_added) or any(c["change"] == "raised" for c in floor) or bool(changes(data, "finding", "added"))
    )
    assert bool(regressions) == expect_regression
    go = {c["subject"]: c for c in changes(data, "go")}
    assert go["Go version"]["before"].startswith("go1.19") and not go["Go version"]["regression"]

    # --strict: new symbols are regressions too
    if added:
        strict = diff_json(old, new, cwd, "--target", "linux/arm64", "--strict", code=1)
        assert all(c["regression"] for c in changes(strict, "symbol", "added"))


def test_identical_inputs_have_no_change(builder: Builder, cwd: Path) -> None:
    app = builder.build("clean/libc", "linux/arm64", GO_NEW).path
    data = diff_json(app, app, cwd, "--target", "linux/arm64", code=0)
    assert data["changes"] == [] and data["summary"]["text"] == "no change"


# --- a binary against the same one with an added -Wl,-rpath ----------------------------------------


@pytest.mark.parametrize(
    ("rpath", "rule", "regress_by_default"),
    [
        ("/tmp/build/lib", "R002", True),  # error: a regression at the default fail-on
        ("/opt/vendor/lib", "R001", False),  # warning: the finding is new, a regression with --fail-on warning
    ],
)
def test_added_rpath(builder: Builder, cwd: Path, rpath: str, rule: str, regress_by_default: bool) -> None:
    base = builder.build("clean/libc", "linux/arm64", GO_NEW).path
    head = builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c=f"-Wl,-rpath,{rpath}").path
    fb, fh = read_elf(str(base)), read_elf(str(head))
    data = diff_json(base, head, cwd, "--target", "linux/arm64", code=1)
    runpaths = changes(data, "runpath", "added")
    want = {f"DT_RUNPATH {p}" for p in set(fh.runpath) - set(fb.runpath)} | {
        f"DT_RPATH {p}" for p in set(fh.rpath) - set(fb.rpath)
    }
    assert {c["subject"] for c in runpaths} == want and want
    assert all(c["regression"] for c in runpaths)
    (new,) = changes(data, "finding", "added")
    assert new["rule"] == rule and new["regression"] is regress_by_default
    assert any(rpath in e for e in new["evidence"])
    assert not changes(data, "finding", "removed") and not changes(data, "symbol")
    warn = diff_json(base, head, cwd, "--target", "linux/arm64", "--fail-on", "warning", code=1)
    assert changes(warn, "finding", "added")[0]["regression"] is True
    # without a target only the run path checks run; they still see it
    bare = diff_json(base, head, cwd, code=1)
    assert [c["rule"] for c in changes(bare, "finding")] == [rule] and changes(bare, "runpath", "added")


def test_abi_and_interpreter_changes(builder: Builder, cwd: Path) -> None:
    arm64 = builder.build("clean/libc", "linux/arm64", GO_NEW).path
    armhf = builder.build("clean/libc", "linux/arm/v7", GO_NEW).path
    fa, fh = read_elf(str(arm64)), read_elf(str(armhf))
    data = diff_json(arm64, armhf, cwd, code=1)
    abi = {c["subject"]: (c["before"], c["after"]) for c in changes(data, "abi")}
    assert abi["machine"] == (fa.header.machine, fh.header.machine)
    assert abi["ELF class"] == (f"{fa.header.elf_class}-bit", f"{fh.header.elf_class}-bit")
    assert abi["float ABI"] == (fa.header.float_abi or "-", fh.header.float_abi or "-")
    (interp,) = changes(data, "interpreter")
    assert (interp["before"], interp["after"]) == (fa.interpreter, fh.interpreter) and interp["regression"]


# --- JSON reports, mixed inputs, formats, configuration, bad input -----------------------------------


def test_json_reports_give_the_same_diff_as_binaries(builder: Builder, cwd: Path, tmp_path: Path) -> None:
    base = builder.build("clean/libc", "linux/arm64", GO_NEW).path
    head = builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c="-Wl,-rpath,/tmp/build/lib").path
    saved = []
    for i, b in enumerate((base, head)):
        proc = cgocheck("inspect", "--target", "linux/arm64", "--format", "json", str(b), cwd=cwd, env=plain_env())
        p = tmp_path / f"{i}.json"
        p.write_text(proc.stdout)
        saved.append(p)
    direct = diff_json(base, head, cwd, "--target", "linux/arm64")
    from_json = diff_json(saved[0], saved[1], cwd)
    mixed = diff_json(saved[0], head, cwd, "--target", "linux/arm64")
    assert direct["changes"] == from_json["changes"] == mixed["changes"]
    assert direct["summary"]["exit_code"] == from_json["summary"]["exit_code"] == 1


def test_diff_in_every_format(builder: Builder, cwd: Path) -> None:
    base = builder.build("clean/libc", "linux/arm64", GO_NEW).path
    head = builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c="-Wl,-rpath,/tmp/build/lib").path
    ref = diff_json(base, head, cwd, "--target", "linux/arm64", code=1)
    regressions = [c for c in ref["changes"] if c["regression"]]
    out: dict[str, str] = {}
    for fmt in (n for n in names() if n not in BINARY_ONLY):  # an SBOM describes binaries, not a diff
        proc = cgocheck(
            "diff", str(base), str(head), "--target", "linux/arm64", "--format", fmt, cwd=cwd, env=plain_env()
        )
        assert proc.returncode == 1, (fmt, proc.stderr)
        out[fmt] = proc.stdout
    log = json.loads(out["sarif"])
    validate_sarif(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results if r["properties"]["regression"]} == {"R002", "diff/new-run-path"}
    assert all(r["baselineState"] == "new" for r in results if r["properties"]["change"] == "added")
    root = junit_counts(out["junit"])
    assert int(root.get("failures", "0")) == len({c["kind"] for c in regressions})
    failures = [ET.tostring(f, encoding="unicode") for f in root.iter("failure")]
    assert any("/tmp/build/lib" in f for f in failures)
    assert out["markdown"].startswith("## ❌ cgocheck diff:")
    assert out["markdown"].count("| ❌ |") == len(regressions)
    assert "REGRESSION" in out["table"] and "DT_RUNPATH /tmp/build/lib" in out["table"]
    page = out["html"]
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert f"Regressions ({len(regressions)})" in page


def test_config_suppression_applies_to_head(builder: Builder, tmp_path: Path) -> None:
    cwd = workdir(tmp_path)
    base = builder.build("clean/libc", "linux/arm64", GO_NEW).path
    head = builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c="-Wl,-rpath,/tmp/build/lib").path
    (cwd / "cgocheck.toml").write_text(
        '[[suppress]]\nrule = "R002"\nsymbol = "/tmp/build/*"\nreason = "staging rpath, removed at install"\n'
    )
    data = diff_json(base, head, cwd, "--target", "linux/arm64", code=1)
    assert not changes(data, "finding")
    assert [s["finding"]["rule"] for s in data["suppressed"]] == ["R002"]
    assert data["suppressed"][0]["reason"] == "staging rpath, removed at install"
    # the run path itself is still a change of what the loader does
    assert [c["kind"] for c in data["changes"] if c["regression"]] == ["runpath"]


def test_bad_inputs_exit_2(cwd: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    proc = cgocheck("diff", str(text), str(text), cwd=cwd, env=plain_env())
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"cgocheck: error: {text}: neither an ELF file nor a JSON report")
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    proc = cgocheck("diff", str(other), str(other), cwd=cwd, env=plain_env())
    assert proc.returncode == 2 and "not a cgocheck JSON report" in proc.stderr
    proc = cgocheck("diff", str(tmp_path / "missing"), str(other), cwd=cwd, env=plain_env())
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_folders_pair_by_name(builder: Builder, cwd: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "old", tmp_path / "new"
    a.mkdir()
    b.mkdir()
    shutil.copy(builder.build("clean/libc", "linux/arm64", GO_NEW).path, a / "app")
    shutil.copy(builder.build("clean/netuser", "linux/arm64", GO_NEW).path, a / "tool")
    shutil.copy(builder.build("clean/libc", "linux/arm64", GO_NEW).path, b / "app")
    shutil.copy(builder.build("clean/netuser", "linux/arm64", GO_NEW).path, b / "tool2")
    data = diff_json(a, b, cwd, "--target", "linux/arm64", code=0)
    pairs = {
        (p["name"], Path(p["base"]).name if p["base"] else None, Path(p["head"]).name if p["head"] else None)
        for p in data["pairs"]
    }
    assert pairs == {("app", "app", "app"), ("tool2", None, "tool2"), ("tool", "tool", None)}
    assert {(c["change"], c["subject"]) for c in changes(data, "file")} == {("added", "tool2"), ("removed", "tool")}
