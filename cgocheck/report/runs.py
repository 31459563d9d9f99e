"""A run under the target's loader (Report.runs) as the renderers show it: key/value rows
(table, Markdown, HTML), a one-line verdict, and the Go tests of a test binary."""

from __future__ import annotations

import shlex

from cgocheck.loader.runmodel import MODE_NATIVE, MODE_TRACE, GoTestCase, ProgramRun

TEST_STATUSES = ("fail", "pass", "skip")


def how(run: ProgramRun) -> str:
    if run.mode == MODE_NATIVE:
        return "natively, through the sysroot's loader" if run.loader else "natively (statically linked)"
    via = f"{run.qemu.binary} {run.qemu.version}" if run.qemu else "qemu"
    return f"traced by the loader under {via}" if run.mode == MODE_TRACE else f"under {via}"


def verdict(run: ProgramRun) -> str:
    """One line: how the run ended."""
    if not run.ran:
        return "not run: " + "; ".join(run.notes)
    if run.timed_out:
        return f"stopped after {run.timeout:g} s (timeout), with every process it started"
    if run.output_capped:
        return f"stopped when its output passed {run.output_limit} bytes"
    if not run.started:
        return f"the loader refused it ({'exit ' + str(run.returncode) if run.signal is None else run.signal})"
    if run.signal:
        return f"ended by {run.signal} after {run.seconds:.2f} s"
    what = "traced" if run.mode == MODE_TRACE else "exit"
    return f"{what} {run.returncode} in {run.seconds:.2f} s"


def test_counts(tests: tuple[GoTestCase, ...]) -> dict[str, int]:
    c = dict.fromkeys(TEST_STATUSES, 0)
    for t in tests:
        c[t.status] = c.get(t.status, 0) + 1
    return c


def _lines(text: str, n: int) -> list[str]:
    lines = [ln for ln in text.rstrip().splitlines()]
    return lines if n <= 0 else lines[-n:]


def run_rows(run: ProgramRun, *, verbose: bool = False) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("run", f"{run.file} {how(run)}"), ("result", verdict(run))]
    if run.test_package:
        rows.append(("test package", run.test_package))
    if run.argv:
        cmd = shlex.join(run.argv)
        rows.append(("command", cmd if verbose or len(cmd) <= 400 else cmd[:400] + " ..."))
    rows.append(("environment", " ".join(f"{k}={v}" for k, v in run.env) if verbose
                 else ", ".join(k for k, _ in run.env) + " (nothing else)"))
    if run.cwd:
        rows.append(("folder", run.cwd))
    if run.loader:
        said = "started the program" if run.started else "refused it"
        rows.append(("loader", f"{run.loader}: {said}" if run.mode != MODE_TRACE else
                     f"{run.loader}: {'loaded and bound it' if run.started else 'could not load it'}"))
    for m in run.loader_messages:
        rows.append(("  loader said", m.text))
    if run.bindings is not None:
        outside = sum(1 for b in run.bindings if b.provider_real is None or b.requester_real is None)
        rows.append(("bindings", f"{len(run.bindings)} made by the loader (LD_DEBUG=bindings), compared with resolve"
                     + (f"; {outside} with an object from outside the sysroot" if outside else "")))
    rows.append(("output", f"{run.output_bytes} bytes (cap {run.output_limit})"))
    n = 0 if verbose else 6
    for name, text in (("stdout", run.stdout_tail), ("stderr", run.stderr_tail)):
        for i, line in enumerate(_lines(text, n)):
            rows.append((name if i == 0 else "", line))
    if run.tests:
        c = test_counts(run.tests)
        rows.append(("go tests", f"{len(run.tests)}: {c['pass']} passed, {c['fail']} failed, {c['skip']} skipped"))
        for t in run.tests:
            if verbose or t.status == "fail":
                rows.append((f"  {t.status}", f"{t.name} ({t.seconds:.2f} s)"))
    for note in run.notes:
        rows.append(("note", note))
    return rows
