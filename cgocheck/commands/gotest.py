"""`cgocheck test PACKAGES --target T --sysroot S`: Go tests on the target's ABI.

1. the packages' test binaries are built as verify builds (cgocheck.commands.verify with
   ``test``: `go test -c` under the same hermetic environment, traced, every test binary
   checked statically and resolved in the sysroot);
2. each test binary runs under the target's loader in the sysroot (cgocheck.commands.run)
   in its package's folder, as `go test` runs it: ``-test.v=test2json`` (Go 1.20+; older:
   ``-test.v=true``) and ``-test.paniconexit0``, stdout and stderr as one stream;
3. that stream becomes Go's test events with the toolchain's own ``go tool test2json``: one
   GoTestCase per test and subtest (pass, fail, skip, its output), a D014 finding per failed
   test, D008/D009/D010 when the binary itself failed, timed out or crashed.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Mapping

from cgocheck.build.packages import MainPackage
from cgocheck.build.toolchains import GoToolchain, version_key
from cgocheck.commands.run import RunOne, SysrootView
from cgocheck.commands.verify import VerifyOptions, VerifyResult, verify
from cgocheck.core import files
from cgocheck.loader.runmodel import GoTestCase, ProgramRun
from cgocheck.loader.runner import RunSpec, run_file
from cgocheck.results import FileReport
from cgocheck.settings import RunSettings
from cgocheck.sysroot.fsroot import FsRoot

DEFAULT_TIMEOUT = 600.0  # seconds per test binary
DEFAULT_MAX_OUTPUT = 32 << 20
MAX_TEST_OUTPUT = 16_000  # characters of one test's output kept in the report


def test_flags(go: GoToolchain) -> tuple[str, ...]:
    """What `go test` passes a test binary so that test2json can follow it."""
    v = version_key(go.version) or (0,)
    flags = ["-test.v=test2json" if v >= (1, 20) else "-test.v=true"]
    if v >= (1, 16):
        flags.append("-test.paniconexit0")
    return tuple(flags)


def test_runner(go: GoToolchain, env: Mapping[str, str], packages: Mapping[str, MainPackage]) -> RunOne:
    """A runner for cgocheck.commands.run.add_runs that runs test binaries and reads their events."""

    def run(fr: FileReport, root: FsRoot, spec: RunSpec, view: SysrootView) -> ProgramRun:
        pkg = packages.get(fr.facts.path)
        result, output = run_file(fr.facts, root, spec, resolution=fr.resolution, flavour=view.flavour,
                                  sysroot_loader=view.loader, extra_args=test_flags(go), merge_output=True,
                                  cwd=pkg.dir if pkg else None)
        name = pkg.import_path if pkg else fr.facts.path
        if not result.ran:
            return dataclasses.replace(result, test_package=name)
        tests, notes = events(go, env, output, name)
        return dataclasses.replace(result, tests=tests, test_package=name, notes=(*result.notes, *notes))

    return run


def events(go: GoToolchain, env: Mapping[str, str], output: bytes, package: str) -> tuple[tuple[GoTestCase, ...],
                                                                                       tuple[str, ...]]:
    """A test binary's output as Go's test events (go tool test2json -t -p PACKAGE), one
    GoTestCase per test; a test still running when the stream ended counts as failed."""
    try:
        proc = subprocess.run([str(go.go), "tool", "test2json", "-t", "-p", package], input=output,
                              capture_output=True, env=dict(env), timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return (), (f"go tool test2json failed: {exc}",)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        return (), (f"go tool test2json failed: {' '.join(tail) or proc.returncode}",)
    return parse_events(proc.stdout.decode(errors="replace"), package)


def parse_events(text: str, package: str) -> tuple[tuple[GoTestCase, ...], tuple[str, ...]]:
    order: list[str] = []
    status: dict[str, str] = {}
    seconds: dict[str, float] = {}
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        try:
            ev = files.loads_json(line, "go test -json", files.SMALL_JSON)
        except files.FileProblem:
            continue
        if not isinstance(ev, dict) or not ev.get("Test"):
            continue
        name = str(ev["Test"])
        if name not in out:
            order.append(name)
            out[name] = []
        action = ev.get("Action")
        if action == "output":
            out[name].append(str(ev.get("Output", "")))
        elif action in ("pass", "fail", "skip"):
            status[name] = str(action)
            seconds[name] = float(ev.get("Elapsed") or 0.0)
    notes: list[str] = []
    cases = []
    for name in order:
        text_out = "".join(out[name])
        st = status.get(name)
        if st is None:
            st = "fail"
            text_out += "\n(cgocheck: no result: the test binary ended while this test ran)\n"
            notes.append(f"{name}: no result (the test binary ended while it ran)")
        if len(text_out) > MAX_TEST_OUTPUT:
            text_out = "... (output cut)\n" + text_out[-MAX_TEST_OUTPUT:]
        cases.append(GoTestCase(package, name, st, round(seconds.get(name, 0.0), 3), text_out))
    return tuple(cases), tuple(notes)


def test_run_settings(cfg: RunSettings) -> RunSettings:
    """[run] for test binaries: always on, with the test defaults where it says nothing."""
    return dataclasses.replace(cfg, enabled=True, timeout=cfg.timeout or DEFAULT_TIMEOUT,
                               max_output=cfg.max_output or DEFAULT_MAX_OUTPUT)


def run_tests(opts: VerifyOptions) -> VerifyResult:
    """Build the test binaries (verify with test=True) and run them (its run step)."""
    res = verify(dataclasses.replace(opts, test=True))
    res.report.command = "test"
    return res
