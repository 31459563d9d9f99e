"""Builds that hang, runs that are interrupted or killed: real processes, real signals.

- `verify --timeout` stops a build whose C compiler hangs, with its whole process group
  (the compiler's own background children included), and says so in one finding;
- Ctrl-C (SIGINT to the `cgocheck matrix` process) while a cell hangs in the real C
  preprocessor: exit 130, the finished cells reported and kept in the cache, no worker,
  go or cc process left, and a rerun reuses the finished cells;
- SIGKILL of the `cgocheck matrix` process mid-run: the workers stop their builds and go,
  the cache stays consistent, a rerun re-runs only the unfinished cell;
- a verify killed with its whole process tree leaves a work folder that the next run sweeps;
- a writer SIGKILLed at random moments while it replaces result.json never leaves a torn
  one, and its temporary files are ignored, then removed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cgocheck.commands import matrix
from tests.support.cli import cgocheck, child_env
from tests.support.faults import (
    Lines,
    alive,
    descendants,
    hanging_compiler,
    hanging_module,
    in_group,
    proc_table,
    wait_until,
)
from tests.support.home import private_home
from tests.support.need import go, need_tool
from tests.support.paths import FIXTURES

pytestmark = pytest.mark.integration

ARM64_GCC = "aarch64-linux-gnu-gcc"


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    go("newest")
    need_tool(ARM64_GCC)
    home = private_home(tmp_path / "cgocheck-home", share=("go", "gocache", "sysroots"))
    return {**os.environ, "CGOCHECK_HOME": str(home)}


def test_verify_timeout_stops_the_whole_process_group(tmp_path: Path, home_env: dict[str, str]) -> None:
    cc, record = hanging_compiler(tmp_path, ARM64_GCC)
    t0 = time.monotonic()
    proc = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "--target",
        "linux/arm64",
        "--cc",
        "custom",
        "--cc-path",
        str(cc),
        "--timeout",
        "4",
        "--format",
        "json",
        "-o",
        str(tmp_path / "app"),
        cwd=tmp_path,
        env=home_env,
    )
    took = time.monotonic() - t0
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert took < 60, took
    report = json.loads(proc.stdout)
    assert report["build"]["timed_out"] is True
    (b001,) = [f for f in report["build_findings"] if f["rule"] == "B001"]
    assert "did not finish in time" in b001["message"]
    # the compiler was really running (it recorded itself), in the build's own session and
    # process group, not cgocheck's; nothing of that group, nor its sleeping children, is left
    rows = [line.split() for line in record.read_text().splitlines()]
    assert rows
    for pid, pgid, sid, c1, c2 in (tuple(map(int, r)) for r in rows):
        assert pgid == sid != os.getpgid(0)
        assert not in_group(pgid), in_group(pgid)
        assert not alive([pid, c1, c2])
    assert "Traceback" not in proc.stderr


def _matrix(mod: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    args = [
        "matrix",
        "--format",
        "json",
        "-j",
        "2",
        "--go",
        "newest",
        "--cc",
        "gcc",
        "-p",
        "./fast",
        "-p",
        "./hang",
        "-t",
        "linux/arm64",
        "-t",
        "linux/amd64",
        *extra,
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "cgocheck", *args],
        cwd=mod,
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a Ctrl-C test: a suite started in the background (`cmd &`) inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _until_hanging(proc: subprocess.Popen[str], err: Lines) -> dict[int, str]:
    """Wait until the two ./fast cells are done and the ./hang cell's C preprocessor blocks
    on its FIFO; return every process of the run at that moment."""

    def ready() -> bool:
        done = [line for line in err.lines if ": exit " in line and "_fast" in line]
        cc = [c for c in descendants(proc.pid).values() if c.startswith("cc1")]
        return len(done) == 2 and bool(cc)

    wait_until(ready, 300, "2 finished cells and a C compiler blocked on the FIFO\n" + err.text())
    time.sleep(0.5)
    procs = descendants(proc.pid)
    assert any(c in ("go", "cgo") for c in procs.values()), procs
    return procs


def _results(home: Path) -> dict[str, dict[str, object]]:
    out = {}
    for f in (home / "results").glob("*/result.json"):
        data = json.loads(f.read_text())  # never torn
        out[data["id"]] = data
    return out


def test_ctrl_c_stops_the_matrix_and_keeps_finished_cells(tmp_path: Path, home_env: dict[str, str]) -> None:
    mod = hanging_module(tmp_path)
    home = Path(home_env["CGOCHECK_HOME"])
    proc = _matrix(mod, home_env)
    err = Lines(proc.stderr)
    procs = _until_hanging(proc, err)
    t0 = time.monotonic()
    out_reader = Lines(proc.stdout)  # stderr has its own reader: no second reader of that pipe
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    stopped_in = time.monotonic() - t0
    out, stderr = out_reader.join(), err.join()
    assert proc.returncode == 130, stderr[-3000:]
    assert stopped_in < 30, stopped_in
    assert "interrupted; finished cells are kept in the cache" in stderr and "Traceback" not in stderr
    report = json.loads(out)
    cells = {c["id"]: c for c in report["cells"]}
    finished = {i for i, c in cells.items() if c["exit_code"] in (0, 1)}
    assert finished == {i for i in cells if "_fast" in i} and len(finished) == 2, cells
    assert all(cells[i]["exit_code"] == 130 and cells[i]["error"] == "interrupted" for i in cells if "_hang" in i)
    assert report["summary"]["exit_code"] == 130
    # no worker, go, cgo or cc left; nothing of the interrupted cells in the cache
    wait_until(lambda: not alive(procs), 10, f"the run's processes to end: {alive(procs)}")
    assert set(_results(home)) == finished
    assert not list((home / "results").glob("*/.tmp-*"))
    assert not list((home / "work").glob("verify-*"))
    # a rerun reuses the finished cells; the hanging one now meets a timeout (not cached)
    again = _matrix(mod, home_env, "--timeout", "5")
    out2, err2 = again.communicate(timeout=300)
    cells2 = {c["id"]: c for c in json.loads(out2)["cells"]}
    assert {i for i, c in cells2.items() if c["cached"]} == finished, err2
    hang = [c for i, c in cells2.items() if "_hang" in i]
    assert hang and all(c["exit_code"] == 1 and c["report"]["build"]["timed_out"] for c in hang)
    assert set(_results(home)) == finished
    assert not alive(descendants(again.pid)) and again.returncode == 1


def test_sigkill_of_the_matrix_leaves_a_consistent_cache(tmp_path: Path, home_env: dict[str, str]) -> None:
    mod = hanging_module(tmp_path)
    home = Path(home_env["CGOCHECK_HOME"])
    proc = _matrix(mod, home_env)
    err = Lines(proc.stderr)
    procs = _until_hanging(proc, err)
    proc.kill()  # SIGKILL: no handler runs in the parent
    proc.wait(timeout=60)
    # the workers learn of it from the kernel (parent-death signal) and stop their builds
    wait_until(lambda: not alive(procs), 30, f"the orphaned processes to end: {alive(procs)}")
    kept = _results(home)
    assert set(kept) == {i for i in kept if "_fast" in i} and len(kept) == 2
    assert not list((home / "results").glob("*/.tmp-*"))
    again = _matrix(mod, home_env, "--timeout", "5")
    out, errs = again.communicate(timeout=300)
    cells = {c["id"]: c for c in json.loads(out)["cells"]}
    assert {i for i, c in cells.items() if c["cached"]} == set(kept), errs
    assert {i for i, c in cells.items() if not c["cached"]} == {i for i in cells if "_hang" in i}


def test_killed_verify_work_folder_is_swept(tmp_path: Path, home_env: dict[str, str]) -> None:
    """A verify SIGKILLed with its whole tree (no handler anywhere) leaves its work folder;
    the next verify removes it, and never a live run's or a --keep one."""
    home = Path(home_env["CGOCHECK_HOME"])
    cc, record = hanging_compiler(tmp_path, ARM64_GCC)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cgocheck",
            "verify",
            str(FIXTURES / "clean" / "libc"),
            "--target",
            "linux/arm64",
            "--cc",
            "custom",
            "--cc-path",
            str(cc),
            "-o",
            str(tmp_path / "app"),
        ],
        cwd=tmp_path,
        env=child_env(home_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(lambda: record.is_file() and record.read_text().strip() != "", 120, "the hanging compiler")
    build_group = int(record.read_text().split()[1])
    os.killpg(proc.pid, signal.SIGKILL)  # cgocheck and everything in its group
    os.killpg(build_group, signal.SIGKILL)  # and the build's own group
    proc.wait(timeout=30)
    for pid, _ in descendants(proc.pid).items():  # nothing should be left; be sure for the test
        os.kill(pid, signal.SIGKILL)
    dead = list((home / "work").glob("verify-*"))
    assert len(dead) == 1 and (dead[0] / ".owner").is_file()
    kept = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "--target",
        "linux/arm64",
        "--keep",
        "-o",
        str(tmp_path / "app2"),
        "--format",
        "json",
        cwd=tmp_path,
        env=home_env,
    )
    assert kept.returncode in (0, 1), kept.stderr[-2000:]
    left = list((home / "work").glob("verify-*"))
    assert left == [Path(json.loads(kept.stdout)["build"]["work_dir"])]  # the dead one swept, the kept one kept
    again = cgocheck(
        "verify",
        str(FIXTURES / "clean" / "libc"),
        "--target",
        "linux/arm64",
        "-o",
        str(tmp_path / "app3"),
        cwd=tmp_path,
        env=home_env,
    )
    assert again.returncode in (0, 1)
    assert list((home / "work").glob("verify-*")) == left


WRITER = """
import sys, time
from pathlib import Path
from cgocheck.commands.matrix import _write_atomic
path = Path(sys.argv[1])
n = 0
while True:
    n += 1
    _write_atomic(path, {"n": n, "key": "k", "pad": "x" * (1 << 21)})
"""


def test_writer_killed_mid_write_never_tears_the_result(tmp_path: Path) -> None:
    """12 SIGKILLs at random moments of a loop that replaces a 2 MB result.json: after each,
    result.json is absent or whole; temporary files are left, ignored by readers, and
    removed by the next reader that can take the key's lock."""
    home = tmp_path / "home"
    folder = home / "results" / "k"
    env = {**os.environ, "CGOCHECK_HOME": str(home)}
    rng = random.Random(7)
    torn_chances = 0
    for _ in range(12):
        w = subprocess.Popen([sys.executable, "-c", WRITER, str(folder / "result.json")], env=child_env(env))
        time.sleep(0.3 + rng.random() * 0.4)
        w.kill()
        w.wait()
        torn_chances += len(list(folder.glob(".tmp-*")))
        data = json.loads((folder / "result.json").read_text())
        assert data["n"] >= 1 and len(data["pad"]) == 1 << 21
    assert torn_chances > 0, "no kill landed inside a write: the test proved nothing"
    # a reader of the cache (not a writer) ignores them and, holding the lock, cleans them
    os.environ["CGOCHECK_HOME"], saved = str(home), os.environ.get("CGOCHECK_HOME")
    try:
        (folder / "result.json").write_text(
            json.dumps(
                {
                    "cell": {"go": "1", "target": "linux/arm64", "compiler": "gcc", "package": "."},
                    "exit_code": 0,
                    "report": None,
                    "key": "k",
                }
            )
        )
        (folder / ".tmp-killed").write_text("{torn")
        got = matrix._read_cached(folder)
        assert got is not None and got.cached
        assert not list(folder.glob(".tmp-*"))
    finally:
        if saved is None:
            del os.environ["CGOCHECK_HOME"]
        else:
            os.environ["CGOCHECK_HOME"] = saved


def test_no_stray_process_of_this_module() -> None:
    """Belt and braces: nothing started by the tests above is running any more."""
    mine = descendants(os.getpid())
    assert not {p: c for p, c in mine.items() if c in ("go", "cgo", "cc1", "sleep", "hang-cc.sh")}, mine
    assert proc_table()
