"""JUnit XML: a <testsuite> per file (later: per matrix cell), a <testcase> per rule checked;
for `cgocheck test`, a <testsuite> per test binary with a <testcase> per Go test.

A rule with a finding at or above the failing severity is a <failure> (one per test case,
listing every such finding); findings below it go to <system-out>; a rule whose findings
were all suppressed (configuration or baseline) is <skipped> with the reason. Files that
could not be read form one more suite of <error> test cases. For `cgocheck diff`, one
suite per file pair and a test case per kind of change, failing on a regression.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from cgocheck.core.rules import Finding, rules
from cgocheck.policy import fails
from cgocheck.report.formats import (
    BUILD_LABEL,
    RenderContext,
    build_rules,
    checked_rules,
    display_path,
    suppressed_by_file,
)
from cgocheck.results import FileReport, Report

if TYPE_CHECKING:
    from cgocheck.loader.runmodel import ProgramRun
    from cgocheck.results.diff import Diff


def _finding_text(f: Finding) -> str:
    lines = [f"[{f.severity}] {f.rule} {f.name}: {f.message}"]
    if f.file:
        lines.append(f"  file: {f.file}")
    lines += [f"  evidence: {e}" for e in f.evidence]
    lines.append(f"  fix: {f.fix}")
    return "\n".join(lines)


def _suite(report: Report, fr: FileReport, ctx: RenderContext, parent: ET.Element) -> ET.Element:
    path = fr.facts.path
    props = [("path", path), ("machine", fr.facts.header.machine)]
    return _rule_suite(report, ctx, parent, display_path(path), path, list(fr.findings),
                       checked_rules(report, fr), props)


def _rule_suite(report: Report, ctx: RenderContext, parent: ET.Element, name: str, key: str,
                findings: list[Finding], ids: list[str], extra_props: list[tuple[str, str]]) -> ET.Element:
    suite = ET.SubElement(parent, "testsuite", name=name)
    props = ET.SubElement(suite, "properties")
    for k, v in (*extra_props, ("command", report.command), ("target", report.target or ""),
                 ("sysroot", report.sysroot or ""), ("fail_on", ctx.fail_on)):
        ET.SubElement(props, "property", name=k, value=v)
    sup = suppressed_by_file(ctx).get(key, [])
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    sup_by_rule: dict[str, list[str]] = {}
    for s in sup:
        sup_by_rule.setdefault(s.finding.rule, []).append(f"{s.finding.message} (suppressed: {s.reason}; {s.source})")
    tests = failures = skipped = 0
    table = rules()
    ids = ids + [r for r in sup_by_rule if r not in ids]
    for rid in ids:
        name = f"{rid} {table[rid].name}" if rid in table else rid
        case = ET.SubElement(suite, "testcase", classname=f"cgocheck.{report.command}", name=name, time="0")
        tests += 1
        found = by_rule.get(rid, [])
        bad = [f for f in found if fails(f, ctx.fail_on)]
        below = [f for f in found if not fails(f, ctx.fail_on)]
        if bad:
            failures += 1
            msg = bad[0].message + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
            el = ET.SubElement(case, "failure", message=msg, type=f"{rid}/{bad[0].severity}")
            el.text = "\n\n".join(_finding_text(f) for f in bad)
        elif not found and rid in sup_by_rule:
            skipped += 1
            ET.SubElement(case, "skipped", message="; ".join(sup_by_rule[rid]))
        out = [_finding_text(f) for f in below]
        if found:  # the rule also has suppressed findings: say so beside the live ones
            out += [f"suppressed: {m}" for m in sup_by_rule.get(rid, [])]
        if out:
            ET.SubElement(case, "system-out").text = "\n\n".join(out)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", "0")
    return suite


def _errors_suite(report: Report, parent: ET.Element) -> None:
    if not report.errors:
        return
    suite = ET.SubElement(parent, "testsuite", name="unreadable input", tests=str(len(report.errors)),
                          failures="0", errors=str(len(report.errors)), skipped="0", time="0")
    for err in report.errors:
        case = ET.SubElement(suite, "testcase", classname=f"cgocheck.{report.command}", name=err.path, time="0")
        ET.SubElement(case, "error", message=err.message, type="bad-input")


def _total(root: ET.Element) -> None:
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for s in root.iter("testsuite"))))
    root.set("time", "0")


def _dump(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_report(report: Report, ctx: RenderContext) -> str:
    title = f"cgocheck {report.command}" + (f" {report.target}" if report.target else "")
    root = ET.Element("testsuites", name=title)
    ids = build_rules(report)
    if ids:
        build = report.build
        props = [("package", build.package if build else ""), ("go", build.go_version if build else "")]
        _rule_suite(report, ctx, root, BUILD_LABEL, "", report.build_findings, ids, props)
    for fr in report.files:
        _suite(report, fr, ctx, root)
    for run in report.runs:
        if run.test_package is not None:
            _go_tests_suite(run, root)
    _errors_suite(report, root)
    _total(root)
    return _dump(root)


def _go_tests_suite(run: ProgramRun, parent: ET.Element) -> None:
    """cgocheck test: one test case per Go test of the test binary (pass, fail, skip, output)."""
    from cgocheck.report.runs import test_counts, verdict

    suite = ET.SubElement(parent, "testsuite", name=f"go test {run.test_package}")
    props = ET.SubElement(suite, "properties")
    for k, v in (("binary", run.file), ("run", verdict(run)), ("qemu", run.qemu.version if run.qemu else "native"),
                 ("sysroot", run.sysroot)):
        ET.SubElement(props, "property", name=k, value=v)
    for t in run.tests:
        case = ET.SubElement(suite, "testcase", classname=t.package, name=t.name, time=f"{t.seconds:.3f}")
        if t.status == "fail":
            last = next((ln.strip() for ln in reversed(t.output.splitlines()) if ln.strip()), "failed")
            ET.SubElement(case, "failure", message=last[:500], type="go-test-fail").text = t.output
        elif t.status == "skip":
            why = [ln.strip() for ln in t.output.splitlines()
                   if ln.strip() and not ln.strip().startswith(("=== ", "--- SKIP"))]
            ET.SubElement(case, "skipped", message=(why[-1] if why else "skipped")[:500])
        if t.output and t.status != "fail":
            ET.SubElement(case, "system-out").text = t.output
    c = test_counts(run.tests)
    for attr, n in (("tests", len(run.tests)), ("failures", c["fail"]), ("errors", 0), ("skipped", c["skip"])):
        suite.set(attr, str(n))
    suite.set("time", f"{sum(t.seconds for t in run.tests if '/' not in t.name):.3f}")


def render_diff(diff: Diff, ctx: RenderContext) -> str:
    from cgocheck.results.diff import CHANGE_KINDS

    root = ET.Element("testsuites", name=f"cgocheck diff {diff.base_label} {diff.head_label}")
    for pair in diff.pairs:
        suite = ET.SubElement(root, "testsuite", name=pair.name)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="base", value=pair.base or "")
        ET.SubElement(props, "property", name="head", value=pair.head or "")
        tests = failures = 0
        for kind, title in CHANGE_KINDS.items():
            changes = [c for c in diff.changes if c.file == pair.name and c.kind == kind]
            case = ET.SubElement(suite, "testcase", classname="cgocheck.commands.diff", name=title, time="0")
            tests += 1
            bad = [c for c in changes if c.regression]
            if bad:
                failures += 1
                el = ET.SubElement(case, "failure", message=bad[0].text() + (f" (and {len(bad) - 1} more)"
                                                                            if len(bad) > 1 else ""), type=kind)
                el.text = "\n".join(c.text() for c in bad)
            rest = [c.text() for c in changes if not c.regression]
            if rest:
                ET.SubElement(case, "system-out").text = "\n".join(rest)
        for attr, v in (("tests", tests), ("failures", failures), ("errors", 0), ("skipped", 0), ("time", 0)):
            suite.set(attr, str(v))
    _total(root)
    return _dump(root)
