"""cgocheck test: a Go module with cgo, made here, whose test binaries are built hermetically
for the target, checked statically, run under qemu-user inside the sysroot in their
package's folder, and reported one JUnit test case per Go test (pass, fail, skip, output),
with a D014 finding per failed test; matrix cells with test = true do the same."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from cgocheck.core.errors import CgocheckError
from tests.support.builder import GO_OLD
from tests.support.cli import cgocheck, one_error_line
from tests.support.need import need

pytestmark = pytest.mark.integration

CALC = """package calc

/*
#include <stdlib.h>
static int add(int a, int b) { return a + b; }
*/
import "C"

func Add(a, b int) int { return int(C.add(C.int(a), C.int(b))) }

func Abs(x int) int { return int(C.abs(C.int(x))) }
"""
CALC_TEST = """package calc

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestAdd(t *testing.T) {
	if Add(2, 3) != 5 {
		t.Fatal("2+3")
	}
}

func TestArch(t *testing.T) {
	if runtime.GOARCH != "GOARCH_WANT" {
		t.Fatalf("running as %s", runtime.GOARCH)
	}
}

func TestReadsTestdata(t *testing.T) { // go test runs a test binary in its package's folder
	b, err := os.ReadFile("testdata/input.txt")
	if err != nil || strings.TrimSpace(string(b)) != "forty-two" {
		t.Fatalf("testdata: %q %v", b, err)
	}
}

func TestAbsFails(t *testing.T) {
	if got := Abs(-4); got != 5 {
		t.Errorf("Abs(-4) = %d, want 5 (this test fails on purpose)", got)
	}
}

func TestSkipped(t *testing.T) {
	t.Skip("skipped on purpose")
}

func TestTable(t *testing.T) {
	for _, c := range []struct {
		name       string
		a, b, want int
	}{{"one", 1, 1, 2}, {"bad", 2, 2, 5}} {
		t.Run(c.name, func(t *testing.T) {
			if got := Add(c.a, c.b); got != c.want {
				t.Errorf("Add(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
			}
		})
	}
}
"""
OTHER = """package other

// #include <string.h>
import "C"

func Len(s string) int { return int(C.strlen(C.CString(s))) }
"""
OTHER_TEST = """package other

import "testing"

func TestLen(t *testing.T) {
	if Len("abc") != 3 {
		t.Fatal("len")
	}
}
"""
CRASH = """package crash

// #include <stdlib.h>
import "C"

func One() int { return int(C.abs(-1)) }
"""
CRASH_TEST = """package crash

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) { One(); os.Exit(3) }

func TestNever(t *testing.T) {}
"""
PASSING = "^(TestAdd|TestArch|TestReadsTestdata|TestSkipped|TestLen)$"
TARGETS = {"linux/arm64": ("bookworm-arm64", "arm64"), "linux/arm/v7": ("bookworm-armhf", "arm"),
           "linux/amd64": ("bookworm-amd64", "amd64")}


def module(tmp: Path, goarch: str) -> Path:
    mod = tmp / "gt"
    files = {
        "go.mod": "module example.com/gt\n\ngo 1.19\n",
        "calc/calc.go": CALC,
        "calc/calc_test.go": CALC_TEST.replace("GOARCH_WANT", goarch),
        "calc/testdata/input.txt": "forty-two\n",
        "other/other.go": OTHER,
        "other/other_test.go": OTHER_TEST,
        "notests/notests.go": "package notests\n\nfunc X() int { return 1 }\n",
        "crash/crash.go": CRASH,
        "crash/crash_test.go": CRASH_TEST,
    }
    for name, text in files.items():
        (mod / name).parent.mkdir(parents=True, exist_ok=True)
        (mod / name).write_text(text)
    return mod


def need_sysroot(name: str) -> None:
    from cgocheck.sysroot import find_sysroot

    try:
        find_sysroot(name)
    except CgocheckError as err:
        need(False, f"sysroot {name} ({err.message})")


def statuses(xml: str, package: str) -> dict[str, str]:
    root = ET.fromstring(xml)
    (suite,) = [s for s in root.iter("testsuite") if s.get("name") == f"go test {package}"]
    out = {}
    for case in suite.iter("testcase"):
        kind = "fail" if case.find("failure") is not None else "skip" if case.find("skipped") is not None else "pass"
        out[str(case.get("name"))] = kind
    return out


@pytest.mark.fires("D014")
@pytest.mark.parametrize("target", list(TARGETS))
def test_go_tests_run_on_the_target_and_junit_reports_each(tmp_path: Path, target: str) -> None:
    """./... has three packages with tests (one with cgo tests that pass, fail, skip, and a
    failing subtest; one that passes; one whose TestMain exits 3 is tested on its own) and one
    without: each test binary is built with go test -c, checked, run on the target, and the
    JUnit report has a test case per Go test; D014 names exactly the failed ones (the
    innermost). The clean twin: -- -test.run with only the passing tests, exit 0."""
    sysroot, goarch = TARGETS[target]
    need_sysroot(sysroot)
    mod = module(tmp_path, goarch)
    report = tmp_path / "report.json"
    args = ("test", "./calc", "./other", "--target", target, "--sysroot", sysroot)
    proc = cgocheck(*args, "--format", "junit", "--report", f"json={report}", cwd=mod, timeout=1200)
    assert proc.returncode == 1, proc.stderr
    calc = statuses(proc.stdout, "example.com/gt/calc")
    assert calc == {"TestAdd": "pass", "TestArch": "pass", "TestReadsTestdata": "pass", "TestAbsFails": "fail",
                    "TestSkipped": "skip", "TestTable": "fail", "TestTable/one": "pass", "TestTable/bad": "fail"}
    assert statuses(proc.stdout, "example.com/gt/other") == {"TestLen": "pass"}
    root = ET.fromstring(proc.stdout)
    fail = next(c for c in root.iter("testcase") if c.get("name") == "TestAbsFails")
    assert "want 5" in (fail.find("failure").text or "")  # type: ignore[union-attr]
    skip = next(c for c in root.iter("testcase") if c.get("name") == "TestSkipped")
    assert "skipped on purpose" in (skip.find("skipped").get("message") or "")  # type: ignore[union-attr]

    data = json.loads(report.read_text())
    jsonschema.validate(data, json.loads(resources.files("cgocheck.data").joinpath("report.schema.json").read_text()))
    assert data["command"] == "test" and data["build"]["argv"][1:3] == ["test", "-c"]
    d014 = sorted(f["evidence"][0] for fr in data["files"] for f in fr["findings"] if f["rule"] == "D014")
    assert d014 == ["TestAbsFails", "TestTable/bad"]
    errors = {f["rule"] for fr in data["files"] for f in fr["findings"] if f["severity"] == "error"}
    assert errors == {"D014"}  # every test binary passed the static checks and resolve
    assert {Path(fr["path"]).name for fr in data["files"]} == {"calc.test", "other.test"}
    assert all(fr["resolution"] for fr in data["files"])
    runs = {r["test_package"]: r for r in data["runs"]}
    assert set(runs) == {"example.com/gt/calc", "example.com/gt/other"}
    assert runs["example.com/gt/calc"]["cwd"] == str(mod / "calc")
    assert (runs["example.com/gt/calc"]["qemu"] is None) == (target == "linux/amd64")

    twin = cgocheck(*args, "--format", "junit", "--", "-test.run", PASSING, cwd=mod, timeout=1200)
    assert twin.returncode == 0, twin.stdout[-3000:]
    assert set(statuses(twin.stdout, "example.com/gt/calc").values()) <= {"pass", "skip"}
    assert ET.fromstring(twin.stdout).get("failures") == "0"  # the D014 test case passes too


def test_a_test_binary_that_exits_before_its_tests_is_d008(tmp_path: Path) -> None:
    need_sysroot("bookworm-arm64")
    mod = module(tmp_path, "arm64")
    proc = cgocheck("test", "./crash", "--target", "linux/arm64", "--sysroot", "bookworm-arm64", "--format", "json",
                    cwd=mod, timeout=900)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert {f["rule"] for f in data["files"][0]["findings"] if f["severity"] == "error"} == {"D008"}
    assert data["runs"][0]["returncode"] == 3 and data["runs"][0]["tests"] == []


def test_packages_without_tests_and_old_go(tmp_path: Path) -> None:
    """A package without test files is bad input; Go 1.19 tests one package at a time (its
    test binary speaks -test.v=true to test2json) and refuses several with the reason."""
    need_sysroot("bookworm-arm64")
    mod = module(tmp_path, "arm64")
    common = ("--target", "linux/arm64", "--sysroot", "bookworm-arm64")
    proc = cgocheck("test", "./notests", *common, cwd=mod, timeout=600)
    assert proc.returncode == 2 and "no package with test files" in one_error_line(proc)
    proc = cgocheck("test", "./calc", "./other", "--go", GO_OLD, *common, cwd=mod, timeout=600)
    assert proc.returncode == 2 and "Go 1.21" in one_error_line(proc)
    proc = cgocheck("test", "./calc", "--go", GO_OLD, *common, "--format", "json", cwd=mod, timeout=900)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    tests = {t["name"]: t["status"] for t in data["runs"][0]["tests"]}
    assert tests["TestAdd"] == "pass" and tests["TestAbsFails"] == "fail" and tests["TestSkipped"] == "skip"
    assert "-test.v=true" in data["runs"][0]["argv"]


def test_matrix_cells_test_instead_of_build(tmp_path: Path) -> None:
    """test = true in cgocheck.toml: each matrix cell builds and runs its package's tests."""
    need_sysroot("bookworm-arm64")
    mod = module(tmp_path, "arm64")
    (mod / "cgocheck.toml").write_text('targets = ["linux/arm64"]\npackages = ["./calc"]\ntest = true\n'
                                       '[sysroots]\n"linux/arm64" = "bookworm-arm64"\n[run]\ntimeout = 300\n')
    proc = cgocheck("matrix", "--format", "json", "--rebuild", cwd=mod, timeout=1200)
    assert proc.returncode == 1, proc.stderr
    (cell,) = json.loads(proc.stdout)["cells"]
    rep = cell["report"]
    assert rep["command"] == "test"
    assert {t["name"]: t["status"] for t in rep["runs"][0]["tests"]}["TestAbsFails"] == "fail"
    assert sorted(f["evidence"][0] for f in rep["files"][0]["findings"] if f["rule"] == "D014") == [
        "TestAbsFails", "TestTable/bad"]
