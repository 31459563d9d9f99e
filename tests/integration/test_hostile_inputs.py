"""Every input other than ELF files ends within 10 s and 1 GiB, in facts or in exactly one
`cgocheck: error:` line (exit 2 for bad input, 3 for the environment), never a traceback
or a hang: one test per class of hostile input, each made at test time from real inputs
(real sysroots copied from the cache, real binaries from the builder, files written here),
run as a user runs cgocheck, timed and measured in a process of its own.

- deep TOML and JSON: cgocheck.toml, a pyproject.toml whose unrelated [tool.black] is deep,
  a dotted key of 300,000 parts, a recipe, the baseline, diff and report merge inputs;
- files that never end or never open: /dev/zero and /dev/urandom as configuration or
  baseline, a FIFO as --config (under strace: neither is opened), a 4 GiB sparse file;
- a sysroot whose .cgocheck is a link out (info, check, resolve, list, create's reuse):
  refused, and nothing at the link's target is touched (strace);
- an ld.so.conf whose include glob, through four `x -> .` links, names 4^13 paths;
- a 1.3 KB .pc file whose variables double 20 times (a GiB when expanded);
- a loader with 16 MiB of '/' appended (the built-in folders' regex backtracked);
- 100,000 .pc files: the scan and the table bounded, what was left out counted;
- --timeout nan|inf|1e999|1e20, CGOCHECK_TIMEOUT=1e20 and timeout = inf in the file;
- paths holding a newline or a terminal escape: one line each;
- Ctrl-C of a matrix while its workers resolve with lief: no traceback, no "terminate called";
- a download killed mid-way: its .partial-* folder swept by the next create;
- a full disk (/dev/full, RLIMIT_FSIZE): the file and the operation named.

The properties around each cap and budget are tests/unit/test_hostile_input.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cgocheck.core import folders
from tests.support.builder import GO_NEW, Builder
from tests.support.faults import alive, descendants, hanging_module, wait_until
from tests.support.home import private_home
from tests.support.mirror import Mirror, bookworm_arm64, serve
from tests.support.need import need, need_tool
from tests.support.strace import DRIVER, bytes_read, traced_paths, under

pytestmark = pytest.mark.integration

LIMIT_S = 10.0
LIMIT_MIB = 1024
SAFETY_AS = 4 << 30  # address space of a run: code without its fix fails here, not the machine

# Runs the command as a child and reports its wall time and peak RSS (RUSAGE_CHILDREN of a
# process that ran nothing else); the child is killed past the timeout.
_MEASURE = f"""
import json, resource, signal, subprocess, sys, time
stats, timeout, fsize, argv = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def limits():
    resource.setrlimit(resource.RLIMIT_AS, ({SAFETY_AS}, {SAFETY_AS}))
    if fsize:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
t0 = time.monotonic()
try:
    rc = subprocess.run(argv, timeout=timeout, preexec_fn=limits).returncode
except subprocess.TimeoutExpired:
    rc = None
took = time.monotonic() - t0
use = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(stats, "w") as f:
    json.dump({{"seconds": took, "cpu": use.ru_utime + use.ru_stime, "maxrss_kib": use.ru_maxrss,
               "timed_out": rc is None, "load": __import__("os").getloadavg()[0]}}, f)
sys.exit(124 if rc is None else rc if rc >= 0 else 128 - rc)
"""


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    cpu: float  # user + system seconds
    peak_mib: float
    timed_out: bool
    load: float  # the machine's 1-minute load average when it ended

    def __str__(self) -> str:
        return (f"cgocheck {' '.join(self.args)[:200]}: exit {self.returncode}, {self.seconds:.1f} s "
                f"({self.cpu:.1f} s CPU, load {self.load:.1f}), {self.peak_mib:.0f} MiB\n{self.stderr[-3000:]}")


def measured(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60,
             fsize: int = 0, stdout: int | None = None, tmp: Path) -> Run:
    stats = tmp / f"stats-{time.monotonic_ns()}.json"
    cmd = [sys.executable, "-c", _MEASURE, str(stats), str(timeout), str(fsize), sys.executable, "-m", "cgocheck",
           *args]
    proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout + 60, check=False,
                          stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE)
    s = json.loads(stats.read_text())
    out = proc.stdout.decode(errors="replace") if isinstance(proc.stdout, bytes) else ""
    return Run(args, proc.returncode, out, proc.stderr.decode(errors="replace"), s["seconds"], s["cpu"],
               s["maxrss_kib"] / 1024, s["timed_out"], s["load"])


def bounded(run: Run) -> None:
    """Ended, in time, in memory, without a traceback. The time is the CPU time the run took
    and its wall time; the machine is shared (2 cores, other sessions' tests), so the wall
    time may stretch with the load beyond the cores, the CPU time may not."""
    assert not run.timed_out, f"did not end: {run}"
    assert run.cpu < LIMIT_S, f"too slow: {run}"
    stretch = max(1.0, run.load / (os.cpu_count() or 1))
    assert run.seconds < LIMIT_S * stretch, f"too slow: {run}"
    assert run.peak_mib < LIMIT_MIB, f"too much memory: {run}"
    assert "Traceback" not in run.stderr and "terminate called" not in run.stderr, str(run)


def one_error(run: Run, code: int, *says: str) -> str:
    """Bounded, exactly one `cgocheck: error:` line and nothing else on stderr, exit CODE."""
    bounded(run)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("cgocheck: error: "), str(run)
    assert run.returncode == code, str(run)
    for s in says:
        assert s in lines[0], (s, lines[0])
    return lines[0]


def copy_sysroot(name: str, dst: Path) -> Path:
    """A private copy of a real sysroot of the cache (its files, not links to them: the tests
    change it, and the cache is shared)."""
    src = folders.home() / "sysroots" / name
    need((src / ".cgocheck" / "complete").is_file(), f"sysroot {name} (cgocheck sysroot create {name})")
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _safety() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (SAFETY_AS, SAFETY_AS))


def strace(args: list[str], log: Path, *, cwd: Path, env: dict[str, str] | None = None
           ) -> tuple[subprocess.CompletedProcess[str], list[tuple[str, str, str]]]:
    """Run cgocheck under strace (tests/integration/test_resolve_hostile.py's driver: every
    module imported before a marker); the (call, path, line) of each path-taking call after it."""
    need_tool("strace")
    driver = log.with_suffix(".py")
    more = ("import cgocheck.commands.resolve, cgocheck.settings, cgocheck.sysroot.info, cgocheck.sysroot.check\n"
            "try:\n    import cgocheck.core.files, cgocheck.core.schema, cgocheck.sysroot.meta\n"
            "except ImportError:\n    pass  # (code before the bounded reader)")
    driver.write_text(DRIVER.replace("import cgocheck.commands.resolve", more))
    proc = subprocess.run(["strace", "-f", "-qq", "-y", "-e", "trace=%file,read,pread64", "-o", str(log),
                           sys.executable, str(driver), *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=cwd, env={**os.environ, **(env or {})}, preexec_fn=_safety)
    return proc, traced_paths(log)[1]


def _all_gone(pids: set[int]) -> bool:
    return not alive(pids)


@pytest.fixture(scope="module")
def arm64_binary(builder: Builder) -> Path:
    return builder.build("clean/libc", "linux/arm64", GO_NEW, "gcc").path


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A CGOCHECK_HOME of the test's own, sharing the real one's toolchains, Go cache and
    sysroots through links (nothing of the real home is written)."""
    return {"CGOCHECK_HOME": str(private_home(tmp_path / "cgocheck-home", ("go", "gocache", "sysroots")))}


# --- deep TOML and JSON ---------------------------------------------------------------


@pytest.mark.parametrize("case", ["cgocheck.toml", "pyproject-black", "pyproject-cgocheck", "dotted-key", "recipe",
                                  "baseline", "diff", "report-merge"])
def test_deep_toml_and_json(tmp_path: Path, home: dict[str, str], case: str) -> None:
    """Nested 100,000 deep (tomllib and json recurse once per level): one line, exit 2."""
    work = tmp_path / "project"
    work.mkdir()
    (work / ".git").mkdir()  # the settings look no further up
    deep_json = work / "deep.json"
    deep_json.write_text("[" * 100_000 + "]" * 100_000)
    env = dict(home)
    if case == "cgocheck.toml":
        (work / "cgocheck.toml").write_text("go = " + "[" * 100_000 + "]" * 100_000 + "\n")
        run = measured("config", cwd=work, env=env, tmp=tmp_path)
        says = "cgocheck.toml: nested 100000 levels deep"
    elif case == "pyproject-black":
        # another tool's table, and nothing in the file can name cgocheck: never parsed, not an error
        (work / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.black]\nx = '
                                             + "{a = " * 50_000 + "1" + "}" * 50_000 + "\n")
        run = measured("config", cwd=work, env=env, tmp=tmp_path)
        bounded(run)
        assert run.returncode == 0 and not run.stderr.strip(), str(run)
        return
    elif case == "pyproject-cgocheck":
        (work / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.cgocheck]\ngo = '
                                             + "{a = " * 50_000 + "1" + "}" * 50_000 + "\n")
        run = measured("config", cwd=work, env=env, tmp=tmp_path)
        says = "pyproject.toml: nested 50000 levels deep"
    elif case == "dotted-key":
        (work / "cgocheck.toml").write_text("a" + ".a" * 300_000 + " = 1\n")
        run = measured("config", cwd=work, env=env, tmp=tmp_path)
        says = "a dotted key of more than 32 parts"
    elif case == "recipe":
        (work / "deep.toml").write_text('name = "deep"\npackages = ' + "[" * 100_000 + "]" * 100_000 + "\n")
        run = measured("sysroot", "create", str(work / "deep.toml"), cwd=work, env=env, tmp=tmp_path)
        says = "deep.toml: nested 100000 levels deep"
    elif case == "baseline":
        run = measured("config", cwd=work, env={**env, "CGOCHECK_BASELINE": str(deep_json)}, tmp=tmp_path)
        says = "baseline"
    elif case == "diff":
        run = measured("diff", str(deep_json), str(deep_json), cwd=work, env=env, tmp=tmp_path)
        says = "deep.json: neither an ELF file nor a JSON report (nested 100000 levels deep"
    else:
        run = measured("report", "merge", str(deep_json), cwd=work, env=env, tmp=tmp_path)
        says = "deep.json: not a cgocheck matrix result (nested 100000 levels deep"
    one_error(run, 2, says)


def test_real_reports_still_read(arm64_binary: Path, tmp_path: Path, home: dict[str, str]) -> None:
    """The twin: real reports (from inspecting a real binary) pass the caps and the schema."""
    report = tmp_path / "a.json"
    made = measured("inspect", str(arm64_binary), "--target", "linux/arm64", "--format", "json", env=home,
                    tmp=tmp_path, cwd=tmp_path)
    assert made.returncode == 0, str(made)
    report.write_text(made.stdout)
    again = measured("diff", str(report), str(report), "--format", "json", env=home, tmp=tmp_path, cwd=tmp_path)
    bounded(again)
    assert again.returncode == 0 and json.loads(again.stdout)["changes"] == [], str(again)
    base = measured("inspect", str(arm64_binary), "--target", "linux/arm64", env={**home, "CGOCHECK_BASELINE":
                                                                                  str(report)}, tmp=tmp_path,
                    cwd=tmp_path)
    bounded(base)
    assert base.returncode == 0, str(base)


# --- files that never end or never open ------------------------------------------------


def test_devices_fifos_and_sparse_files(tmp_path: Path, home: dict[str, str]) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    sparse = tmp_path / "sparse.toml"
    with sparse.open("wb") as f:
        f.write(b'fail-on = "error"\n')
        f.truncate(4 << 30)
    for args, env, says in (
        (["config", "--config", "/dev/zero"], {}, "/dev/zero: a character device, not a regular file"),
        (["config"], {"CGOCHECK_CONFIG": "/dev/urandom"}, "/dev/urandom: a character device, not a regular file"),
        (["config"], {"CGOCHECK_BASELINE": "/dev/zero"}, "baseline: /dev/zero is not a JSON report"),
        (["config", "--config", str(fifo)], {}, "fifo.toml: a FIFO, not a regular file"),
        (["config", "--config", str(sparse)], {}, f"{4 << 30} bytes, larger than the 1 MiB"),
        (["diff", str(fifo), str(fifo)], {}, "fifo.toml: neither an ELF file nor a JSON report (a FIFO"),
        (["report", "merge", "/dev/zero"], {}, "/dev/zero: not a cgocheck matrix result"),
    ):
        one_error(measured(*args, env={**home, **env}, cwd=tmp_path, tmp=tmp_path), 2, says)


def test_devices_and_fifos_are_never_opened(tmp_path: Path, home: dict[str, str]) -> None:
    """Under strace: /dev/zero, /dev/urandom and the FIFO are stat()ed, never opened or read."""
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for args, env, trap in ((["config", "--config", "/dev/zero"], {}, "/dev/zero"),
                            (["config"], {"CGOCHECK_CONFIG": "/dev/urandom"}, "/dev/urandom"),
                            (["config"], {"CGOCHECK_BASELINE": "/dev/zero"}, "/dev/zero"),
                            (["config", "--config", str(fifo)], {}, str(fifo))):
        proc, after = strace(args, tmp_path / "strace.log", cwd=tmp_path, env={**home, **env})
        assert proc.returncode == 2 and proc.stderr.count("cgocheck: error:") == 1, proc.stderr
        touched = [line for _, p, line in after if p == trap]
        assert touched, f"{trap} was not even looked at"
        assert not [ln for ln in touched if re.match(r"^\d+\s+(open|openat|openat2)\(", ln)], touched
        assert bytes_read(tmp_path / "strace.log").get(trap, 0) == 0


# --- .cgocheck as a link out of the sysroot ---------------------------------------------


def _linked_meta(top: Path, outside: Path, creator: str = "0" * 16) -> None:
    """TOP's .cgocheck replaced by a link to OUTSIDE, a folder that says 'complete'."""
    outside.mkdir(parents=True)
    (outside / "complete").write_text("x\n")
    (outside / "meta.json").write_text(json.dumps({"creator": creator, "digest": "d" * 64, "packages": 1,
                                                    "suite": "elsewhere", "arch": "arm64", "libc": "glibc"}))
    (outside / "lock.json").write_text("{}")
    (outside / "digest").write_text("d" * 64 + "\n")
    shutil.rmtree(top / ".cgocheck", ignore_errors=True)
    os.symlink(outside, top / ".cgocheck")


def test_metadata_link_out_of_the_sysroot(arm64_binary: Path, tmp_path: Path, home: dict[str, str]) -> None:
    root = copy_sysroot("bookworm-arm64", tmp_path / "sysroot")
    outside = tmp_path / "outside" / ".cgocheck"
    _linked_meta(root, outside)
    for args in (["sysroot", "info", str(root)], ["sysroot", "check", str(root)],
                 ["resolve", str(arm64_binary), "--sysroot", str(root)],
                 ["inspect", str(arm64_binary), "--target", "linux/arm64", "--sysroot", str(root)]):
        one_error(measured(*args, env=home, cwd=tmp_path, tmp=tmp_path), 3, ".cgocheck is a symbolic link")
    # in cgocheck's own folder: not listed, not found by name
    sysroots = tmp_path / "home2" / "sysroots"
    sysroots.mkdir(parents=True)
    os.rename(root, sysroots / "mine")
    env = {"CGOCHECK_HOME": str(tmp_path / "home2")}
    listed = measured("sysroot", "list", "--format", "json", env=env, cwd=tmp_path, tmp=tmp_path)
    bounded(listed)
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], str(listed)
    one_error(measured("sysroot", "info", "mine", env=env, cwd=tmp_path, tmp=tmp_path), 2)
    # and nothing at the link's target is looked at, not even stat()ed
    proc, after = strace(["sysroot", "info", str(sysroots / "mine")], tmp_path / "strace.log", cwd=tmp_path,
                         env=env)
    assert proc.returncode == 3, proc.stderr
    assert not [line for _, p, line in after if under(p, str(outside))], "the link was followed"


def test_create_does_not_reuse_a_sysroot_whose_metadata_is_a_link(tmp_path: Path) -> None:
    """create's reuse test: a complete-looking .cgocheck that is a link (even one naming this
    cgocheck's creation code) is not a made sysroot: create makes it (and here fails at its
    first step, the recipe's mirror being closed), it does not answer 'already created'."""
    env = {"CGOCHECK_HOME": str(tmp_path / "home")}
    digest = subprocess.run([sys.executable, "-c", "from cgocheck.sysroot.creator import creation_digest as d;"
                             "print(d())"], capture_output=True, text=True, check=True).stdout.strip()
    dest = tmp_path / "home" / "sysroots" / "t-linked"
    (dest / "usr" / "lib").mkdir(parents=True)
    _linked_meta(dest, tmp_path / "outside" / ".cgocheck", creator=digest)
    recipe = tmp_path / "t-linked.toml"
    recipe.write_text('name = "t-linked"\nsuite = "bookworm"\narch = "arm64"\nlibc = "glibc"\npackages = ["libc6"]\n'
                      '[source]\nuris = ["http://127.0.0.1:9/debian"]\ncomponents = ["main"]\n')
    run = measured("sysroot", "create", str(recipe), "--format", "json", env=env, cwd=tmp_path, tmp=tmp_path,
                   timeout=120)
    assert "already created" not in run.stdout and '"reused": true' not in run.stdout, str(run)
    assert run.returncode == 3 and "Traceback" not in run.stderr, str(run)
    assert (tmp_path / "outside" / ".cgocheck" / "complete").read_text() == "x\n"  # untouched


# --- the loader's configuration ---------------------------------------------------------


def test_ld_so_conf_glob_through_self_links(arm64_binary: Path, tmp_path: Path, home: dict[str, str]) -> None:
    """include /etc/ld.so.conf.d/*/*/.../*.conf (14 levels) with four `x -> .` links: 4^13
    paths. resolve ends with its facts and a note naming the budget; nothing outside the
    sysroot is touched (strace)."""
    root = copy_sysroot("bookworm-arm64", tmp_path / "sysroot")
    confd = root / "etc" / "ld.so.conf.d"
    for name in "abcd":
        os.symlink(".", confd / name)
    conf = root / "etc" / "ld.so.conf"
    conf.unlink(missing_ok=True)
    conf.write_text("include /etc/ld.so.conf.d/" + "*/" * 13 + "*.conf\n")
    run = measured("resolve", str(arm64_binary), "--sysroot", str(root), "--format", "json", env=home, cwd=tmp_path,
                   tmp=tmp_path)
    bounded(run)
    assert run.returncode in (0, 1), str(run)
    notes = json.dumps(json.loads(run.stdout)["files"][0]["resolution"])
    assert "budget of glob paths" in notes, notes[:2000]
    proc, after = strace(["resolve", str(arm64_binary), "--sysroot", str(root), "--format", "json"],
                         tmp_path / "strace.log", cwd=tmp_path, env=home)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    real = os.path.realpath(root)
    code = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.abspath(json.__file__)))}
    import cgocheck

    code.add(os.path.dirname(cgocheck.__file__))
    allowed = [real, str(arm64_binary), str(tmp_path), *code]
    outside = [line for _, p, line in after
               if not any(under(p, a) for a in allowed) and not under(real, p) and not under(str(arm64_binary), p)]
    assert not [ln for ln in outside if "cgocheck.toml" not in ln and "pyproject.toml" not in ln
                and ".git" not in ln], "\n".join(outside[:30])


def test_pc_variables_that_double(tmp_path: Path, home: dict[str, str]) -> None:
    """A 1.3 KB .pc file whose variables double 20 times (a GiB expanded): info and check
    end fast, in little memory, with a warning naming the budget."""
    root = copy_sysroot("bookworm-arm64", tmp_path / "sysroot")
    lines = ["a=" + "x" * 1000] + [f"v{i}=${{{'a' if i == 0 else f'v{i - 1}'}}}${{{'a' if i == 0 else f'v{i - 1}'}}}"
                                   for i in range(20)]
    text = "\n".join([*lines, "Name: bomb", "Description: doubles", "Version: 1", "Libs: ${v19}"]) + "\n"
    assert len(text) < 1500
    (root / "usr" / "lib" / "aarch64-linux-gnu" / "pkgconfig" / "bomb.pc").write_text(text)
    info = measured("sysroot", "info", str(root), "--format", "json", env=home, cwd=tmp_path, tmp=tmp_path)
    bounded(info)
    assert info.returncode == 0, str(info)
    data = json.loads(info.stdout)
    assert "bomb" in [m["module"] for m in data["pkgconfig"]]
    check = measured("sysroot", "check", str(root), "--format", "json", env=home, cwd=tmp_path, tmp=tmp_path)
    bounded(check)
    assert check.returncode == 1, str(check)
    problems = json.loads(check.stdout)["problems"]
    assert any(p["path"].endswith("/bomb.pc") and "expands to more than" in p["message"] for p in problems), problems


T_ARM64 = "aarch64-linux-gnu"
SYSTEM_DIRS = f"/lib/{T_ARM64}/\0/usr/lib/{T_ARM64}/\0/lib/\0/usr/lib/\0".encode()


@pytest.mark.parametrize("builtin", ["kept", "gone"])
def test_loader_with_16_mib_of_slashes(arm64_binary: Path, tmp_path: Path, home: dict[str, str],
                                       builtin: str) -> None:
    """A loader with 16 MiB of '/' appended, its built-in folders' string kept (they are
    still read from it) or gone, as in a loader that is not glibc's (the scan then reads
    the whole of it, where the regex backtracked for minutes): resolve ends in no time."""
    root = copy_sysroot("bookworm-arm64", tmp_path / "sysroot")
    clean = measured("resolve", str(arm64_binary), "--sysroot", str(root), "--format", "json", env=home,
                     cwd=tmp_path, tmp=tmp_path)
    loader = root / "usr" / "lib" / T_ARM64 / "ld-linux-aarch64.so.1"
    data = loader.read_bytes()
    assert SYSTEM_DIRS in data
    if builtin == "gone":  # the same bytes, one string: no run of folders any more
        data = data.replace(SYSTEM_DIRS, SYSTEM_DIRS[:-1].replace(b"\0", b"x") + b"\0")
    loader.unlink()
    loader.write_bytes(data + b"/" * (16 << 20))
    run = measured("resolve", str(arm64_binary), "--sysroot", str(root), "--format", "json", env=home, cwd=tmp_path,
                   tmp=tmp_path)
    bounded(run)
    assert run.returncode == clean.returncode, str(run)

    def dirs(r: Run) -> tuple[list[str], str]:
        setup = json.loads(r.stdout)["files"][0]["resolution"]["setup"]
        return setup["default_dirs"], setup["default_dirs_source"]

    assert dirs(clean)[1].startswith("built into")
    if builtin == "kept":
        assert dirs(run) == dirs(clean)
    else:
        assert dirs(run) == (dirs(clean)[0], "assumed (Debian multiarch layout)"), dirs(run)


def test_a_hundred_thousand_pc_files(tmp_path: Path, home: dict[str, str]) -> None:
    root = copy_sysroot("bookworm-arm64", tmp_path / "sysroot")
    pc = root / "usr" / "share" / "pkgconfig"
    pc.mkdir(parents=True, exist_ok=True)
    for i in range(100_000):
        (pc / f"m{i:06d}.pc").write_text(f"Name: m{i}\nDescription: d\nVersion: {i}\n")
    table = measured("sysroot", "info", str(root), env=home, cwd=tmp_path, tmp=tmp_path)
    bounded(table)
    assert table.returncode == 0, str(table)
    assert len(table.stdout) < 100_000 and "more modules (--format json lists them)" in table.stdout, \
        table.stdout[-500:]
    js = measured("sysroot", "info", str(root), "--format", "json", env=home, cwd=tmp_path, tmp=tmp_path)
    bounded(js)
    data = json.loads(js.stdout)
    real = 9  # bookworm-arm64's own
    assert len(data["pkgconfig"]) == 5000 and data["pkgconfig_left_out"] == 100_000 + real - 5000
    assert any("more .pc files not read" in w for w in data["warnings"])
    check = measured("sysroot", "check", str(root), "--format", "json", env=home, cwd=tmp_path, tmp=tmp_path)
    bounded(check)
    assert check.returncode == 1 and any("more than 5000" in p["message"] for p in json.loads(check.stdout)[
        "problems"]), str(check)


def test_two_hundred_thousand_dangling_links(tmp_path: Path, home: dict[str, str]) -> None:
    """sysroot check walks at most 200,000 entries, keeps the first 1,000 problems and counts
    the rest: the verdict in seconds, the output in kilobytes."""
    root = tmp_path / "sysroot"
    junk = root / "usr" / "lib" / "junk"
    junk.mkdir(parents=True)
    for i in range(210_000):
        os.symlink(f"nothing-{i}", junk / f"l{i:06d}")
    run = measured("sysroot", "check", str(root), "--format", "json", env=home, cwd=tmp_path, tmp=tmp_path)
    bounded(run)
    assert run.returncode == 1 and len(run.stdout) < 1_000_000, str(run)
    data = json.loads(run.stdout)
    assert len(data["problems"]) == 1000 and data["problems_left_out"] > 195_000
    table = measured("sysroot", "check", str(root), env=home, cwd=tmp_path, tmp=tmp_path)
    bounded(table)
    assert "more than 200000 entries: not a sysroot" in table.stdout or data["problems_left_out"], str(table)
    assert len(table.stdout) < 100_000 and "more problems (--format json lists the first 1000)" in table.stdout


# --- timeouts ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cli", "env", "file"])
@pytest.mark.parametrize("value", ["nan", "inf", "1e999", "1e20"])
def test_timeout_values(tmp_path: Path, home: dict[str, str], how: str, value: str) -> None:
    src = Path(__file__).resolve().parents[2] / "fixtures" / "clean" / "libc"
    args = ["verify", str(src), "--target", "linux/arm64", "-o", str(tmp_path / "app")]
    env = dict(home)
    if how == "cli":
        args += ["--timeout", value]
    elif how == "env":
        env["CGOCHECK_TIMEOUT"] = value
    else:
        toml = {"nan": "nan", "inf": "inf", "1e999": "inf", "1e20": "1e20"}[value]
        (tmp_path / "cgocheck.toml").write_text(f"timeout = {toml}\n")
        args += ["--config", str(tmp_path / "cgocheck.toml")]
    one_error(measured(*args, env=env, cwd=tmp_path, tmp=tmp_path), 2, "seconds")


# --- one line whatever a path holds -----------------------------------------------------


def test_paths_with_newlines_and_escapes(arm64_binary: Path, tmp_path: Path, home: dict[str, str]) -> None:
    empty = tmp_path / "a\nb"
    empty.write_bytes(b"")
    ansi = tmp_path / "x\x1b[31mred\rz"
    shutil.copy(arm64_binary, ansi)
    for args, says in ((["inspect", str(empty)], "a\\nb: an empty file"),
                       (["inspect", str(tmp_path / "no\nsuch")], "no\\nsuch: no such file"),
                       (["diff", str(tmp_path / "no\nsuch"), str(empty)], "no\\nsuch: no such file"),
                       (["config", "--config", str(tmp_path / "c\nd.toml")], "c\\nd.toml"),
                       (["sysroot", "info", str(tmp_path / "s\nx")], "s\\nx")):
        line = one_error(measured(*args, env=home, cwd=tmp_path, tmp=tmp_path), 2, says)
        assert "\x1b" not in line and "\r" not in line
    both = measured("inspect", str(ansi), str(empty), "--format", "json", env=home, cwd=tmp_path, tmp=tmp_path)
    one_error(both, 2, "a\\nb: an empty file")
    assert [f["path"] for f in json.loads(both.stdout)["files"]] == [str(ansi)]  # the facts of the good one


# --- Ctrl-C of a matrix ----------------------------------------------------------------


def test_ctrl_c_of_a_matrix_while_workers_resolve(tmp_path: Path, home: dict[str, str]) -> None:
    """SIGINT to the whole process group (as a terminal sends it) while a worker is past its
    build, resolving with lief: exit 130 and the parent's one line; no worker's traceback,
    no "terminate called", no process, work folder or temporary result left."""
    need_tool("aarch64-linux-gnu-gcc")
    need_tool("arm-linux-gnueabihf-gcc")
    mod = hanging_module(tmp_path)
    env = {**os.environ, **home}
    cmd = [sys.executable, "-m", "cgocheck", "matrix", "--format", "json", "-j", "2", "--rebuild", "--go", "newest",
           "-p", "./fast", "-t", "linux/arm64", "-t", "linux/arm/v7", "--sysroot", "linux/arm64=bookworm-arm64",
           "--sysroot", "linux/arm/v7=bookworm-armhf"]
    need((folders.home() / "sysroots" / "bookworm-armhf" / ".cgocheck" / "complete").is_file(), "bookworm-armhf")
    interrupted = 0
    for _attempt in range(4):
        proc = subprocess.Popen(cmd, cwd=mod, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True,  # SIGINT as a terminal's, even under `cmd &`:
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        built: set[int] = set()  # workers seen running a go build
        workers: set[int] = set()
        hit = False
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            for w, comm in descendants(proc.pid).items():
                if not comm.startswith("python"):
                    continue
                workers.add(w)
                if descendants(w):
                    built.add(w)
                elif w in built:  # its build is over: it is inspecting and resolving (lief)
                    hit = True
            if hit:
                os.killpg(proc.pid, signal.SIGINT)
                break
            time.sleep(0.005)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err and "terminate called" not in err, err[-3000:]
        if not (hit and proc.returncode == 130):
            continue  # the cells ended first: try again
        interrupted += 1
        assert err.strip().splitlines()[-1] == "cgocheck: interrupted; finished cells are kept in the cache", err
        wait_until(functools.partial(_all_gone, workers), 30, "the workers to end")
        work = Path(home["CGOCHECK_HOME"]) / "work"
        assert not list(work.glob("verify-*")), list(work.glob("verify-*"))
        assert not list((Path(home["CGOCHECK_HOME"]) / "results").glob("*/.tmp-*"))
    assert interrupted, "no attempt was interrupted while a worker resolved"


# What a matrix worker does, alone: set up as the pool sets a worker up, then read a real
# sysroot's libraries with lief (importing it first, as a worker's first resolve does) in a
# loop, inside the handling a cell gets; the test stops it with SIGTERM, as the parent does.
_WORKER = """
import os, sys
from cgocheck.commands import matrix
matrix._worker_init(os.getppid())
matrix._busy = True  # (the code before the fix raised from the handler only while a cell ran)
from cgocheck.elf import read_shared_object
libs = sys.argv[1:]
print("ready", flush=True)
try:
    while True:
        for lib in libs:
            read_shared_object(lib)
except KeyboardInterrupt:
    os._exit(130)  # how a stopped cell ended before the fix
"""


def test_a_stopped_worker_ends_quietly_whatever_it_is_in(tmp_path: Path) -> None:
    """SIGTERM at moments spread over a worker's first lief import and reads (lief calls back
    into Python through nanobind): exit 130 and nothing on stderr, every time."""
    root = folders.home() / "sysroots" / "bookworm-arm64"
    need((root / ".cgocheck" / "complete").is_file(), "sysroot bookworm-arm64")
    libs = sorted(str(p) for p in (root / "usr" / "lib" / T_ARM64).glob("lib*.so.*") if p.is_file())[:12]
    for delay in (0.0, 0.02, 0.05, 0.08, 0.12, 0.16, 0.2, 0.25, 0.3, 0.4, 0.6, 0.9):
        proc = subprocess.Popen([sys.executable, "-c", _WORKER, *libs], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and err == "", (delay, proc.returncode, err[-3000:])


# --- a download killed mid-way -----------------------------------------------------------


@pytest.fixture(scope="module")
def mirror() -> Mirror:
    return bookworm_arm64()


def _release(fifo: Path) -> None:
    """Let a reader blocked opening FIFO go (it reads an empty file); nothing if none waits."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def stalled(mirror: Mirror, tmp_path: Path) -> Iterator[tuple[Mirror, Path]]:
    """The mirror, with libc6's .deb served from a FIFO: its download hangs until released."""
    name = next(n for n in mirror.debs if n.startswith("libc6_") and n.endswith("_arm64.deb"))
    fifo = tmp_path / name
    os.mkfifo(fifo)
    m = dataclasses.replace(mirror, debs={**mirror.debs, name: fifo}, faults={}, requests=[])
    with serve(m) as served:
        try:
            yield served, fifo
        finally:
            _release(fifo)


def test_killed_download_leaves_nothing_for_long(stalled: tuple[Mirror, Path], mirror: Mirror, tmp_path: Path
                                                 ) -> None:
    served, fifo = stalled
    home = tmp_path / "home"
    env = {**os.environ, "CGOCHECK_HOME": str(home)}
    recipe = tmp_path / "t-libc.toml"
    recipe.write_text(served.recipe("t-libc", ["libc6"], "2.36"))
    proc = subprocess.Popen([sys.executable, "-m", "cgocheck", "sysroot", "create", str(recipe)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    debs = home / "downloads" / "debs"
    wait_until(lambda: bool(list(debs.glob(".partial-*"))) or proc.poll() is not None, 120, "the download to start")
    wait_until(lambda: "http" in descendants(proc.pid).values() or proc.poll() is not None, 30, "apt's http method")
    time.sleep(1)  # it connects, asks, and waits for bytes that do not come
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGKILL)  # as the OOM killer or a cancelled CI job would
    proc.wait(timeout=30)
    _release(fifo)
    left = list(debs.glob(".partial-*"))
    assert left, "nothing was left to sweep"
    # the next create, against the whole mirror: the partial folder is swept, the sysroot made
    with serve(dataclasses.replace(mirror, faults={}, requests=[])) as whole:
        recipe.write_text(whole.recipe("t-libc", ["libc6"], "2.36"))
        run = subprocess.run([sys.executable, "-m", "cgocheck", "sysroot", "create", str(recipe)], env=env,
                             capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert not list(debs.glob(".partial-*")), list(debs.glob(".partial-*"))


# --- a full disk ----------------------------------------------------------------------


def test_full_disk_names_the_file_and_the_operation(arm64_binary: Path, tmp_path: Path, home: dict[str, str]
                                                     ) -> None:
    need(Path("/dev/full").exists(), "/dev/full")
    args = ["inspect", str(arm64_binary), "--target", "linux/arm64"]
    one_error(measured(*args, "--report", "json=/dev/full", env=home, cwd=tmp_path, tmp=tmp_path), 3,
              "cannot write the report /dev/full: No space left on device")
    with open("/dev/full", "wb") as full:
        run = measured(*args, "--format", "json", env=home, cwd=tmp_path, tmp=tmp_path, stdout=full.fileno())
    one_error(run, 3, "cannot write the standard output: No space left on device")
    # a file system that takes 1 KiB and no more (RLIMIT_FSIZE: EFBIG, as a quota would)
    out = tmp_path / "report.sarif"
    one_error(measured(*args, "--report", f"sarif={out}", env=home, cwd=tmp_path, tmp=tmp_path, fsize=1024), 3,
              f"cannot write the report {out}: File too large")


def test_no_stray_process_of_this_module() -> None:
    mine = [c for c in descendants(os.getpid()).values() if c not in ("strace",)]
    assert not mine, mine

