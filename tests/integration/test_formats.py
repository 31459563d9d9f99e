"""Every output format, on real reports of real builds: the JSON report is the reference and
each format is checked against it. SARIF is validated against the official SARIF 2.1.0
schema; JUnit is parsed and counted; the HTML page is rendered in headless Chromium, its
DOM searched for every finding and its screenshot decoded and checked for real content."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from cgocheck.core.rules import rules
from cgocheck.report.formats import names
from tests.support.builder import GO_NEW, Builder
from tests.support.cli import cgocheck, plain_env, workdir
from tests.support.formats import DomIndex, chromium_run, junit_counts, png_pixels, validate_sarif
from tests.support.need import need, need_tool

pytestmark = pytest.mark.integration

LIBC_ARM64 = "/usr/aarch64-linux-gnu/lib/libc.so.6"
RANK = {"info": 0, "warning": 1, "error": 2}


# --- helpers ------------------------------------------------------------------------------


def artifact_path(loc: dict[str, Any], base_ids: dict[str, Any]) -> str:
    art = loc["physicalLocation"]["artifactLocation"]
    uri = art["uri"]
    if "uriBaseId" in art:
        uri = base_ids[art["uriBaseId"]]["uri"] + uri
    parts = urlsplit(uri)
    assert parts.scheme == "file", uri
    return unquote(parts.path)


# --- the reports --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binaries(builder: Builder) -> dict[str, Path]:
    """Real builds whose arm64 findings span the severities: R002 (error), R001 (warning),
    and a C library (G007, info)."""
    need(Path(LIBC_ARM64).is_file(), "libc6-arm64-cross")
    return {
        "clean": builder.build("clean/libc", "linux/arm64", GO_NEW).path,
        "rpath-opt": builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c="-Wl,-rpath,/opt/vendor/lib").path,
        "rpath-tmp": builder.build("clean/libc", "linux/arm64", GO_NEW, ldflags_c="-Wl,-rpath,/tmp/build/lib").path,
        "libc": Path(LIBC_ARM64),
    }


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workdir(tmp_path_factory.mktemp("formats"))


@pytest.fixture(scope="module")
def outputs(binaries: dict[str, Path], run_dir: Path) -> dict[str, str]:
    """One inspect run per format, plus one run that writes every format with --report."""
    args = ["inspect", "--target", "linux/arm64", *(str(p) for p in binaries.values())]
    out: dict[str, str] = {}
    for fmt in names():
        proc = cgocheck(*args, "--format", fmt, cwd=run_dir, env=plain_env())
        assert proc.returncode == 1, proc.stderr
        out[fmt] = proc.stdout
    return out


@pytest.fixture(scope="module")
def reference(outputs: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(outputs["json"])
    schema = json.loads(resources.files("cgocheck.data").joinpath("report.schema.json").read_text())
    jsonschema.validate(data, schema)
    sev = Counter(f["severity"] for fr in data["files"] for f in fr["findings"])
    assert sev["error"] and sev["warning"] and sev["info"], sev  # the fixture must span the severities
    return data


def findings_of(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(fr["path"], f) for fr in data["files"] for f in fr["findings"]]


def test_every_format_is_registered_and_reachable(outputs: dict[str, str]) -> None:
    assert set(names()) == {"table", "json", "junit", "sarif", "markdown", "html", "cyclonedx"}
    assert all(outputs[f].strip() for f in names())


def test_report_option_writes_every_format_in_one_run(
    binaries: dict[str, Path], run_dir: Path, outputs: dict[str, str]
) -> None:
    out = run_dir / "multi"
    out.mkdir()
    specs = [f"{fmt}={out / ('r.' + fmt)}" for fmt in names()]
    proc = cgocheck(
        "inspect",
        "--target",
        "linux/arm64",
        *(str(p) for p in binaries.values()),
        *(x for s in specs for x in ("--report", s)),
        cwd=run_dir,
        env=plain_env(),
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == outputs["table"]
    for fmt in names():
        got, want = (out / f"r.{fmt}").read_text(), outputs[fmt]
        if fmt == "cyclonedx":  # when it was made differs between runs; nothing else may
            got, want = (re.sub(r'"timestamp": "[^"]*"', "", x) for x in (got, want))
        assert got == want, fmt
    bad = cgocheck("inspect", "--report", "pdf=x.pdf", str(binaries["clean"]), cwd=run_dir, env=plain_env())
    assert bad.returncode == 2 and bad.stderr.startswith("cgocheck: error: --report 'pdf=x.pdf'"), bad.stderr


# --- JUnit -----------------------------------------------------------------------------------


def test_junit_structure_and_counts(outputs: dict[str, str], reference: dict[str, Any]) -> None:
    root = junit_counts(outputs["junit"])
    suites = {
        s.find("properties/property[@name='path']").get("value"): s  # type: ignore[union-attr]
        for s in root.iter("testsuite")
    }
    assert set(suites) == {fr["path"] for fr in reference["files"]}
    for fr in reference["files"]:
        suite = suites[fr["path"]]
        cases = {c.get("name", "").split()[0]: c for c in suite.findall("testcase")}
        failing = {f["rule"] for f in fr["findings"] if RANK[f["severity"]] >= RANK["error"]}
        below = {f["rule"] for f in fr["findings"] if RANK[f["severity"]] < RANK["error"]}
        assert {r for r, c in cases.items() if c.find("failure") is not None} == failing
        for rule in below - failing:
            out = cases[rule].find("system-out")
            assert out is not None and rule in (out.text or "")
        # a test case per rule checked: with a target, every A, G and R rule
        assert {r for r in rules() if r[0] in "AGR"} <= set(cases)
        for f in fr["findings"]:
            case = cases[f["rule"]]
            text = "".join(case.itertext())
            assert f["message"] in text and all(e in text for e in f["evidence"])


def test_junit_fail_on_warning_turns_warnings_into_failures(
    binaries: dict[str, Path], run_dir: Path, reference: dict[str, Any]
) -> None:
    proc = cgocheck(
        "inspect",
        "--target",
        "linux/arm64",
        "--fail-on",
        "warning",
        "--format",
        "junit",
        *(str(p) for p in binaries.values()),
        cwd=run_dir,
        env=plain_env(),
    )
    assert proc.returncode == 1
    root = junit_counts(proc.stdout)
    want = {(fr["path"], f["rule"]) for fr in reference["files"] for f in fr["findings"] if f["severity"] != "info"}
    assert int(root.get("failures", "0")) == len(want)


# --- SARIF -----------------------------------------------------------------------------------


def test_sarif_validates_and_matches_the_report(
    outputs: dict[str, str], reference: dict[str, Any], run_dir: Path
) -> None:
    log = json.loads(outputs["sarif"])
    validate_sarif(log)
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(rules())
    for r in driver["rules"]:
        assert r["helpUri"].endswith(f"docs/rules.md#{r['id']}")
        assert (
            r["defaultConfiguration"]["level"]
            == {"error": "error", "warning": "warning", "info": "note"}[rules()[r["id"]].severity]
        )
    results = run["results"]
    expected = findings_of(reference)
    assert len(results) == len(expected)
    level = {"error": "error", "warning": "warning", "info": "note"}
    got = Counter(
        (artifact_path(r["locations"][0], run["originalUriBaseIds"]), r["ruleId"], r["level"]) for r in results
    )
    want = Counter((str(Path(f.get("file") or p).resolve()), f["rule"], level[f["severity"]]) for p, f in expected)
    assert got == want
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["partialFingerprints"]["cgocheckFinding/v1"]
    assert run["invocations"][0]["exitCode"] == 1
    # the schema really constrains: a wrong level, or a helpUri that is no URI, is rejected
    bad = json.loads(outputs["sarif"])
    bad["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError, match="fatal"):
        validate_sarif(bad)
    bad = json.loads(outputs["sarif"])
    bad["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "docs/rules.md#A001"
    with pytest.raises(AssertionError, match="uri"):
        validate_sarif(bad)


def test_sarif_relative_paths_and_stable_fingerprints(binaries: dict[str, Path], run_dir: Path, tmp_path: Path) -> None:
    rel = run_dir / "dist"
    rel.mkdir(exist_ok=True)
    shutil.copy(binaries["rpath-tmp"], rel / "app")
    elsewhere = tmp_path / "other" / "build"
    elsewhere.mkdir(parents=True)
    shutil.copy(binaries["rpath-tmp"], elsewhere / "app")
    a = json.loads(
        cgocheck("inspect", "-t", "linux/arm64", "--format", "sarif", "dist/app", cwd=run_dir, env=plain_env()).stdout
    )
    b = json.loads(
        cgocheck(
            "inspect", "-t", "linux/arm64", "--format", "sarif", str(elsewhere / "app"), cwd=run_dir, env=plain_env()
        ).stdout
    )
    validate_sarif(a)
    validate_sarif(b)
    (ra,), (rb,) = a["runs"], b["runs"]
    loc = ra["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "dist/app", "uriBaseId": "%SRCROOT%"}
    assert artifact_path(ra["results"][0]["locations"][0], ra["originalUriBaseIds"]) == str((rel / "app").resolve())
    other = rb["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert other == {"uri": (elsewhere / "app").as_uri()}  # outside the current folder: a file: URI
    # the same findings of the same file name in two build folders: the same fingerprints
    fa = sorted(r["partialFingerprints"]["cgocheckFinding/v1"] for r in ra["results"])
    fb = sorted(r["partialFingerprints"]["cgocheckFinding/v1"] for r in rb["results"])
    assert fa == fb and len(set(fa)) == len(fa)


def test_sarif_points_dwarf_evidence_at_the_go_source(tmp_path: Path) -> None:
    """A verify build whose cgo preamble read a host header (H003, from DWARF): the result's
    location is the Go file whose cgo C code (X.cgo2.c in DWARF) read it, at its #include
    line; the binary and the header are related locations."""
    from cgocheck.report.formats import RenderContext
    from cgocheck.report.sarif import render_report
    from tests.support.contamination import run_scenario

    need_tool("aarch64-linux-gnu-gcc")
    result = run_scenario("host-header-fallback", tmp_path, clean=False)
    log = json.loads(render_report(result.report, RenderContext(exit_code=1)))
    validate_sarif(log)
    (run,) = log["runs"]
    h003 = [r for r in run["results"] if r["ruleId"] == "H003"]
    assert h003, [r["ruleId"] for r in run["results"]]
    built = result.report.files[0].facts
    base = run["originalUriBaseIds"]
    for r in h003:
        header = next(e.split()[0] for e in r["properties"]["evidence"])
        units = [u for u in built.dwarf if header in u.files]
        assert units, header  # the evidence came from DWARF
        go_file = tmp_path / "dirty" / "src" / units[0].name.replace(".cgo2.c", ".go")
        assert artifact_path(r["locations"][0], base) == str(go_file)
        lines = go_file.read_text().splitlines()
        want = next(i for i, x in enumerate(lines, 1) if "#include" in x and f"<{Path(header).name}>" in x)
        assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == want
        related = [artifact_path(x, base) for x in r["relatedLocations"]]
        assert related == [str(Path(built.path).resolve()), header]


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_summary_table_and_details(outputs: dict[str, str], reference: dict[str, Any]) -> None:
    md = outputs["markdown"]
    lines = md.splitlines()
    assert lines[0].startswith("## ❌ cgocheck inspect · linux/arm64")
    c = reference["summary"]["findings"]
    assert f"🔴 {c['error']} error" in lines[2] and f"🟡 {c['warning']} warning" in lines[2]
    assert f"🔵 {c['info']} info" in lines[2] and f"**{len(reference['files'])} file(s)**" in lines[2]
    rows = [x for x in lines if x.startswith("| 🔴") or x.startswith("| 🟡") or x.startswith("| 🔵")]
    assert len(rows) == len(findings_of(reference))
    for row in rows:
        assert row.endswith("|") and row.count(" | ") >= 4
    for _, f in findings_of(reference):
        assert f"[{f['rule']}](" in md and f"#{f['rule']})" in md
    assert md.count("<details>") == md.count("</details>") == len(reference["files"])
    from cgocheck.report.markdown import esc

    for fr in reference["files"]:
        assert esc(Path(fr["path"]).name) in md


# --- HTML ------------------------------------------------------------------------------------


def test_html_is_self_contained(outputs: dict[str, str]) -> None:
    page = outputs["html"]
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", page, re.I)
    assert not re.search(r"\ssrc=", page)


def test_html_renders_in_chromium(outputs: dict[str, str], reference: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(outputs["html"])
    dom = chromium_run(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    idx = DomIndex()
    idx.feed(dom.stdout)
    want = Counter(("findings", f["rule"]) for _, f in findings_of(reference))
    assert Counter({k: v for k, v in idx.cards.items() if k[0] == "findings"}) == want
    text = " ".join(idx.text)
    for _, f in findings_of(reference):
        assert f["message"] in text and f["fix"] in text
        assert all(e in text for e in f["evidence"])
    for fr in reference["files"]:
        assert fr["facts"]["header"]["machine"] in text

    shot = tmp_path / "report.png"
    proc = chromium_run(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,1600")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 30_000, len(data)  # a blank page compresses to a few kB
    width, height, rows = png_pixels(data, rows=500)
    assert (width, height) == (1280, 1600)
    bpp = len(rows[0]) // width
    colours = Counter(r[i : i + 3] for r in rows for i in range(0, len(r), bpp))
    assert len(colours) > 50, len(colours)  # text, badges and tiles, not one flat colour
    _, n = colours.most_common(1)[0]
    assert n < 0.95 * width * len(rows)
    # the severity tiles are drawn: the error red background (#ffebe9) is on screen
    assert bytes.fromhex("ffebe9") in colours
