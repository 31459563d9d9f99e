"""The matrix report in every format, from one real run: JSON is the reference; SARIF is
validated against the SARIF 2.1.0 schema; JUnit counts are consistent; Markdown and the
HTML page (rendered in headless Chromium, screenshot checked) show every cell, every
finding and the cross-version table."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.builder import GO_NEW, GO_OLD
from tests.support.cli import cgocheck
from tests.support.formats import DomIndex, chromium_run, png_pixels, validate_sarif
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("mfmt")
    mod = tmp / "mod"
    shutil.copytree(FIXTURES / "clean" / "libc", mod)
    (mod / "cgocheck.toml").write_text("# defaults; the command line sets the matrix\n")
    # a run path into the build host: R002 (an error) in every cell
    main = (mod / "main.go").read_text().replace("/*\n", "/*\n#cgo LDFLAGS: -Wl,-rpath,/tmp/vendor/lib\n", 1)
    (mod / "main.go").write_text(main)
    out = {f: tmp / f"matrix.{f}" for f in ("json", "sarif", "junit", "markdown", "html")}
    args = [
        "matrix",
        "--go",
        GO_OLD,
        "--go",
        GO_NEW,
        "-t",
        "linux/arm64",
        "-t",
        "linux/arm/v7",
        "--format",
        "json",
        "-o",
        str(out["json"]),
    ]
    args += [f"--report={f}={p}" for f, p in out.items() if f != "json"]
    proc = cgocheck(*args, cwd=mod, timeout=1800)
    assert proc.returncode == 1, proc.stderr
    texts = {f: p.read_text() for f, p in out.items()}
    return {"texts": texts, "ref": json.loads(texts["json"]), "tmp": tmp}


def all_findings(ref: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for c in ref["cells"]:
        rep = c["report"] or {}
        out += [(c["id"], f) for f in rep.get("build_findings", [])]
        out += [(c["id"], f) for fr in rep.get("files", []) for f in fr["findings"]]
    return out


def test_reference_has_findings_and_cross_version_rows(run: dict[str, Any]) -> None:
    ref = run["ref"]
    assert len(ref["cells"]) == 4
    assert {f["rule"] for _, f in all_findings(ref)} >= {"R002"}
    assert len(ref["cross_version"]) == 2 and all(len(t["rows"]) == 2 for t in ref["cross_version"])


def test_json_matches_the_shipped_schemas(run: dict[str, Any]) -> None:
    from importlib import resources

    import jsonschema

    data = resources.files("cgocheck.data")
    matrix_schema = json.loads(data.joinpath("matrix.schema.json").read_text())
    report_schema = json.loads(data.joinpath("report.schema.json").read_text())
    ref = run["ref"]
    jsonschema.validate(ref, matrix_schema)
    for c in ref["cells"]:
        jsonschema.validate(c["report"], report_schema)
    broken = json.loads(json.dumps(ref))
    broken["cells"][0]["exit_code"] = 7
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, matrix_schema)


def test_sarif_validates_and_has_every_finding(run: dict[str, Any]) -> None:
    log = json.loads(run["texts"]["sarif"])
    validate_sarif(log)
    results = log["runs"][0]["results"]
    assert Counter((r["properties"]["cell"], r["ruleId"]) for r in results) == Counter(
        (cell, f["rule"]) for cell, f in all_findings(run["ref"])
    )


def test_junit_has_a_suite_per_cell_and_a_case_per_rule(run: dict[str, Any]) -> None:
    root: ET.Element = ET.fromstring(run["texts"]["junit"])
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    ref = run["ref"]
    assert set(suites) == {c["id"] for c in ref["cells"]}
    for c in ref["cells"]:
        rules = {f["rule"] for cell, f in all_findings(ref) if cell == c["id"]}
        names = {tc.get("name", "").split()[0] for tc in suites[c["id"]].findall("testcase")}
        assert names == {"verify", *rules}
        failed = {
            tc.get("name", "").split()[0]
            for tc in suites[c["id"]].findall("testcase")
            if tc.find("failure") is not None
        }
        assert failed == {f["rule"] for cell, f in all_findings(ref) if cell == c["id"] and f["severity"] == "error"}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for x in cases if x.find("failure") is not None)


def test_markdown_rows_and_versions(run: dict[str, Any]) -> None:
    md = run["texts"]["markdown"]
    ref = run["ref"]
    for c in ref["cells"]:
        assert f"| `{c['id']}` | fail |" in md
    for t in ref["cross_version"]:
        assert f"### Go versions: {t['group']}" in md
        for row in t["rows"][1:]:
            assert all(s in md for s in row["added"])
    assert md.count("<details>") == md.count("</details>") == len(ref["cells"])


def test_html_renders_in_chromium(run: dict[str, Any]) -> None:
    tmp: Path = run["tmp"]
    page = tmp / "matrix.html"
    dom = chromium_run(page, tmp, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    idx = DomIndex()
    idx.feed(dom.stdout)
    ref = run["ref"]
    assert Counter({k[1]: v for k, v in idx.cards.items() if k[0] == "cells"}) == Counter(
        f["rule"] for _, f in all_findings(ref)
    )
    text = " ".join(idx.text)
    for c in ref["cells"]:
        assert c["id"] in text
    for t in ref["cross_version"]:
        for row in t["rows"]:
            assert row["go_version"] in text and all(f"+{s}" in text for s in row["added"])
    shot = tmp / "matrix.png"
    proc = chromium_run(page, tmp, f"--screenshot={shot}", "--window-size=1280,1600")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 30_000
    width, _, rows = png_pixels(data, rows=500)
    bpp = len(rows[0]) // width
    colours = Counter(r[i : i + 3] for r in rows for i in range(0, len(r), bpp))
    assert len(colours) > 50 and bytes.fromhex("ffebe9") in colours  # the "cells fail" tile is drawn
