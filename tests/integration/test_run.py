"""cgocheck run: real binaries run on the target's ABI under qemu-user (natively through the
sysroot's loader on x86_64) inside real sysroots, and the target's own loader's verdict
against resolve's.

- every clean fixture runs and passes on arm64, armhf, armel, riscv64 and amd64, and with
  --bindings the loader's LD_DEBUG=bindings agrees with resolve (no D finding at all);
- each D rule fires on a binary or sysroot that really has the problem (a bookworm build on
  bullseye, a library missing, damaged, of the other class or without a symbol, a missing
  loader, an exit status, a signal, a hang, endless output, a library from outside the
  sysroot), each beside its clean twin;
- a hanging program is stopped at --timeout with nothing left running (/proc is read), an
  endless writer is capped, a binary for another machine is refused up front, qemu's known
  limit (Go 386 under qemu-i386 7.2) is exit 3.

Small C programs and libraries are compiled here with Debian's cross gcc; minimal sysroots
(the loader and libc of a real one, plus what a case needs) are made in tmp_path.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import time
import uuid
from importlib import resources
from pathlib import Path, PurePosixPath

import jsonschema
import pytest

from cgocheck.commands.run import run_report
from cgocheck.core.errors import BadInput, CgocheckError, EnvironmentProblem
from cgocheck.core.targets import parse_target
from cgocheck.loader.runmodel import ProgramRun
from cgocheck.loader.runner import RunSpec
from cgocheck.results import Report
from tests.support.builder import GO_NEW, Builder
from tests.support.cli import cgocheck, one_error_line
from tests.support.need import need, need_tool

pytestmark = pytest.mark.integration

ARM64 = "linux/arm64"


def sysroot(name: str) -> Path:
    """A created Debian sysroot by recipe name, or a plain folder (Debian's cross libc)."""
    if name.startswith("/"):
        need(Path(name, "lib").is_dir(), f"{name} (Debian's cross libc6 package)")
        return Path(name)
    from cgocheck.sysroot import find_sysroot

    try:
        return find_sysroot(name)
    except CgocheckError as err:
        need(False, f"sysroot {name} ({err.message})")
        raise


def rules(report: Report) -> set[str]:
    return {f.rule for f in report.findings}


def d_rules(report: Report) -> set[str]:
    return {r for r in rules(report) if r.startswith("D")}


def only_run(report: Report) -> ProgramRun:
    assert len(report.runs) == 1, report.runs
    return report.runs[0]


def run(binary: Path, root: Path | str, target: str | None = ARM64, **spec: object) -> Report:
    return run_report(str(binary), str(root), RunSpec(**spec),  # type: ignore[arg-type]
                      target=parse_target(target) if target else None, glibc_floor=None)


# --- minimal sysroots ------------------------------------------------------------------


def replicate(src_top: Path, dst_top: Path, guest: str) -> None:
    """Copy the file at GUEST of one sysroot into another, with every link on the way
    (usrmerge's /lib -> usr/lib, the loader's link) made again as the same link."""
    parts = PurePosixPath(guest).parts[1:]
    s_dir, d_dir = src_top, dst_top
    for i, part in enumerate(parts):
        s, d = s_dir / part, d_dir / part
        if s.is_symlink():
            target = os.readlink(s)
            if not os.path.lexists(d):
                os.symlink(target, d)
            here = "/" + str(s_dir.relative_to(src_top)).strip(".")
            base = target if target.startswith("/") else posixpath.normpath(posixpath.join(here, target))
            replicate(src_top, dst_top, posixpath.join(base, *parts[i + 1:]))
            return
        if i == len(parts) - 1:
            if not d.exists():
                shutil.copy2(s, d)
        else:
            d.mkdir(exist_ok=True)
        s_dir, d_dir = s, d


def mini_root(tmp: Path, base: str, target: str, *extra: str) -> Path:
    """A sysroot of the loader and libc (and EXTRA guest paths) of BASE."""
    t = parse_target(target)
    src = sysroot(base)
    root = tmp / f"mini-{base}"
    root.mkdir(exist_ok=True)
    for guest in (t.loader, f"/lib/{t.triplet}/libc.so.6", *extra):
        replicate(src, root, guest)
    return root


def lib_dir(root: Path, target: str) -> Path:
    """The root's /usr/lib/<triplet> (where the loader looks by default)."""
    d = root / "usr" / "lib" / parse_target(target).triplet
    d.mkdir(parents=True, exist_ok=True)
    return d


# --- small C programs, compiled for real ---------------------------------------------

def cc(target: str, tmp: Path, name: str, source: str, *flags: str, sysroot_for: str | None = None) -> Path:
    """Compile SOURCE with the target's Debian cross gcc (against a sysroot's libc if given)."""
    t = parse_target(target)
    gcc = need_tool(f"{t.triplet}-gcc")
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / name
    extra: list[str] = []
    if sysroot_for is not None:
        sr = sysroot(sysroot_for)
        lib = sr / "usr" / "lib" / t.triplet
        extra = [f"--sysroot={sr}", f"-B{lib}/", f"-L{lib}"]
    proc = subprocess.run([gcc, *extra, str(src), "-o", str(out), *flags], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


DEMO = """
int demo_old(void) { return 1; }
#ifdef NEW
int demo_new(void) { return 2; }
#endif
"""
DEMO_MAIN = """
#include <stdio.h>
int demo_old(void); int demo_new(void);
int main(void) { printf("demo %d\\n", demo_old() + demo_new()); return 0; }
"""


def demo_lib(target: str, tmp: Path, tag: str, *flags: str, sysroot_for: str | None = None) -> Path:
    d = tmp / tag
    d.mkdir(exist_ok=True)
    return cc(target, d, "libdemo.so.1", DEMO, "-shared", "-fPIC", "-Wl,-soname,libdemo.so.1", *flags,
              sysroot_for=sysroot_for)


def demo_program(target: str, tmp: Path, lib: Path, name: str, sysroot_for: str | None = None) -> Path:
    return cc(target, tmp, name, DEMO_MAIN, f"-L{lib.parent}", "-l:libdemo.so.1", sysroot_for=sysroot_for)


# --- every clean fixture, every target -------------------------------------------------

# target -> the sysroot it is built against and runs in (riscv64: Debian's cross libc; no
# riscv64 sysroot with zlib or SQLite can be made here, see scripts/bootstrap)
TARGET_ROOTS = {
    "linux/arm64": "bookworm-arm64",
    "linux/arm/v7": "bookworm-armhf",
    "linux/arm/v5": "bookworm-armel",
    "linux/riscv64": "/usr/riscv64-linux-gnu",
    "linux/amd64": "bookworm-amd64",
}
FIXTURE_SAYS = {"libc": "pid>0=true", "netuser": "lookup localhost: true", "zlib": "zlib 1.", "sqlite3": "sqlite 3.",
                "cshared": "libc.so.6 =>"}
CLEAN = [pytest.param(f, t, id=f"{f}-{t.replace('/', '_')}") for t in TARGET_ROOTS for f in FIXTURE_SAYS]


def root_for(fixture: str, target: str) -> str:
    root = TARGET_ROOTS[target]
    if fixture in ("zlib", "sqlite3") and root.startswith("/"):
        if sysroot_or_none("trixie-riscv64") is None:
            pytest.skip(f"{fixture} needs a {target} sysroot with its -dev package: Debian's cross libc has none, "
                        "and trixie-riscv64 cannot be created here (scripts/bootstrap, TEST_SYSROOTS)")
        root = "trixie-riscv64"
    return root


def build_fixture(builder: Builder, fixture: str, target: str, root: str) -> Path:
    """Built against ROOT (Debian's cross libc: the cross compiler's own, no --sysroot)."""
    flags = ("-buildmode=c-shared",) if fixture == "cshared" else ()
    sr = None if root.startswith("/usr/") else sysroot(root)
    return builder.build(f"clean/{fixture}", target, GO_NEW, go_flags=flags, sysroot=sr).path


def sysroot_or_none(name: str) -> Path | None:
    from cgocheck.sysroot import find_sysroot

    try:
        return find_sysroot(name)
    except CgocheckError:
        return None


@pytest.mark.parametrize(("fixture", "target"), CLEAN)
def test_clean_fixture_runs_and_passes_and_the_loader_agrees(builder: Builder, fixture: str, target: str) -> None:
    """Run in the sysroot it was built against, with --bindings: it starts, exits 0, prints
    what it should, and every binding the loader makes agrees with resolve's: no D finding."""
    root = root_for(fixture, target)
    binary = build_fixture(builder, fixture, target, root)
    report = run(binary, sysroot(root), target, bindings=True)
    r = only_run(report)
    assert r.started and r.returncode == 0 and r.signal is None, (r.stderr_tail, r.loader_messages)
    assert FIXTURE_SAYS[fixture] in r.stdout_tail, r.stdout_tail
    assert r.mode == ("trace" if fixture == "cshared" else ("native" if target == "linux/amd64" else "qemu"))
    assert (r.qemu is None) == (target == "linux/amd64")
    assert r.bindings is not None and len(r.bindings) > 20
    assert all(b.provider_real is not None and b.requester_real is not None for b in r.bindings)
    assert r.stdout_tail.count("\n") < 40
    assert not d_rules(report), [f.message + str(f.evidence) for f in report.findings if f.rule.startswith("D")]
    assert not [f for f in report.findings if f.severity == "error"], report.findings
    # the environment is the allowlist and nothing else
    assert {k for k, _ in r.env} <= {"PATH", "HOME", "TMPDIR", "LANG", "LD_BIND_NOW", "LD_DEBUG", "LD_DEBUG_OUTPUT",
                                     "LD_TRACE_LOADED_OBJECTS", "LD_WARN"}
    assert dict(r.env)["LD_BIND_NOW"] == "1"


# --- the loader's verdicts as findings -----------------------------------------------


@pytest.mark.fires("D002")
def test_bookworm_build_on_bullseye_is_refused_by_the_loader_as_resolve_says(builder: Builder, tmp_path: Path) -> None:
    """Built against bookworm (glibc 2.36), run in bullseye-arm64 (2.31) from the command
    line: the loader prints "version `GLIBC_2.34' not found", cgocheck exits 1 with D002 for
    exactly the version nodes resolve's S002 names; on bookworm (the clean twin) it runs."""
    bad = builder.build("clean/netuser", ARM64, GO_NEW, sysroot=sysroot("bookworm-arm64")).path
    out = tmp_path / "run.json"
    proc = cgocheck("run", str(bad), "--sysroot", "bullseye-arm64", "--target", ARM64, "--format", "json",
                    "--report", f"junit={tmp_path / 'run.xml'}", "--", "ignored", "args", timeout=300)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    schema = json.loads(resources.files("cgocheck.data").joinpath("report.schema.json").read_text())
    jsonschema.validate(data, schema)
    (run_,) = data["runs"]
    assert run_["started"] is False and run_["args"] == ["ignored", "args"]
    assert "version `GLIBC_2.34' not found (required by" in run_["stderr_tail"]
    assert run_["qemu"]["binary"] == "qemu-aarch64" and run_["qemu"]["version"].startswith(("7.", "8.", "9."))
    findings = data["files"][0]["findings"]
    s002 = {re.search(r"`([^']+)'", f["message"])[1] for f in findings if f["rule"] == "S002"}  # type: ignore[index]
    d002 = [f for f in findings if f["rule"] == "D002"]
    assert "GLIBC_2.34" in s002 and {re.search(r"`([^']+)'", f["message"])[1] for f in d002} == s002  # type: ignore[index]
    assert all("resolve agrees (S002)" in f["message"] for f in d002)
    out.write_text(proc.stdout)
    xml = (tmp_path / "run.xml").read_text()
    assert 'name="D002 loader-version-not-found"' in xml and "GLIBC_2.34" in xml

    twin = run(bad, sysroot("bookworm-arm64"))
    assert only_run(twin).started and only_run(twin).returncode == 0 and not d_rules(twin)


@pytest.mark.fires("D001", "D004")
def test_missing_damaged_and_foreign_libraries(builder: Builder, tmp_path: Path) -> None:
    """The zlib fixture in a sysroot of only the loader and libc: "cannot open shared object
    file" (D001, as resolve's L001); with a text file as libz.so.1: "file too short" (D004,
    L003); with armhf's libz.so.1: "wrong ELF class: ELFCLASS32" (D004, L002). The clean
    twin: the sysroot it was built against."""
    binary = builder.build("clean/zlib", ARM64, GO_NEW, sysroot=sysroot("bookworm-arm64")).path
    root = mini_root(tmp_path, "bookworm-arm64", ARM64)
    missing = run(binary, root)
    (d001,) = [f for f in missing.findings if f.rule == "D001"]
    assert "libz.so.1" in d001.message and "resolve agrees (L001)" in d001.message
    assert "cannot open shared object file" in d001.evidence[0]
    assert not only_run(missing).started and "L001" in rules(missing)

    (lib_dir(root, ARM64) / "libz.so.1").write_text("not a library\n")
    damaged = run(binary, root)
    (d004,) = [f for f in damaged.findings if f.rule == "D004"]
    assert "file too short" in d004.evidence[0] and "resolve agrees (L002/L003)" in d004.message
    assert "L003" in rules(damaged) and "D001" not in rules(damaged)

    armhf = sysroot("bookworm-armhf") / "usr/lib/arm-linux-gnueabihf"
    (lib_dir(root, ARM64) / "libz.so.1").unlink()
    shutil.copy(next(armhf.glob("libz.so.1.*")), lib_dir(root, ARM64) / "libz.so.1")
    foreign = run(binary, root)
    (d004,) = [f for f in foreign.findings if f.rule == "D004"]
    assert "wrong ELF class: ELFCLASS32" in d004.evidence[0] and "L002" in rules(foreign)

    twin = run(binary, sysroot("bookworm-arm64"))
    assert not d_rules(twin) and only_run(twin).returncode == 0


@pytest.mark.fires("D005")
def test_loader_missing_from_the_sysroot(builder: Builder) -> None:
    """A glibc binary in a musl sysroot: qemu cannot open PT_INTERP (D005, as resolve's L004)."""
    binary = builder.build("clean/libc", ARM64, GO_NEW, sysroot=sysroot("bookworm-arm64")).path
    report = run(binary, sysroot("bookworm-arm64-musl"), None)
    (d005,) = [f for f in report.findings if f.rule == "D005"]
    assert "/lib/ld-linux-aarch64.so.1" in d005.message and "resolve agrees (L004)" in d005.message
    assert "Could not open '/lib/ld-linux-aarch64.so.1'" in d005.evidence[0]
    twin = run(binary, sysroot("bookworm-arm64"))
    assert not d_rules(twin)


@pytest.mark.fires("D003")
def test_symbol_missing_from_the_library_is_a_lookup_error_at_start(tmp_path: Path) -> None:
    """Linked against libdemo with demo_new, run with the libdemo without it: LD_BIND_NOW=1
    makes the loader fail at start ("symbol lookup error", D003, as resolve's S001)."""
    new = demo_lib(ARM64, tmp_path, "v2", "-DNEW")
    old = demo_lib(ARM64, tmp_path, "v1")
    app = demo_program(ARM64, tmp_path, new, "app")
    root = mini_root(tmp_path, "bookworm-arm64", ARM64)
    shutil.copy(old, lib_dir(root, ARM64) / "libdemo.so.1")
    report = run(app, root, bindings=True)
    (d003,) = [f for f in report.findings if f.rule == "D003"]
    assert "demo_new" in d003.message and "resolve agrees (S001)" in d003.message
    assert "symbol lookup error" in d003.evidence[0] and "S001" in rules(report)
    shutil.copy(new, lib_dir(root, ARM64) / "libdemo.so.1")
    twin = run(app, root, bindings=True)
    assert not d_rules(twin) and "demo 3" in only_run(twin).stdout_tail


VERSIONED = "DEMO_1.0 { global: *; };\n"


@pytest.mark.fires("D006")
def test_library_without_version_information_warns(tmp_path: Path) -> None:
    """Linked against a versioned libdemo (DEMO_1.0), run with a libdemo.so.1 that has no
    version information and gets its symbols from a library it needs (libimpl, split off):
    the loader warns "no version information available" (D006, as resolve's S007) and the
    program runs. The twin: the versioned library."""
    (tmp_path / "v.map").write_text(VERSIONED)
    versioned = demo_lib(ARM64, tmp_path, "vv", "-DNEW", f"-Wl,--version-script={tmp_path / 'v.map'}")
    (tmp_path / "impl").mkdir()
    impl = cc(ARM64, tmp_path / "impl", "libimpl.so.1", DEMO, "-DNEW", "-shared", "-fPIC", "-Wl,-soname,libimpl.so.1")
    (tmp_path / "split").mkdir()
    stub = cc(ARM64, tmp_path / "split", "libdemo.so.1", "int demo_stub;\n", "-shared", "-fPIC",
              "-Wl,-soname,libdemo.so.1", "-Wl,--no-as-needed", f"-L{impl.parent}", "-l:libimpl.so.1")
    app = demo_program(ARM64, tmp_path, versioned, "appv")
    root = mini_root(tmp_path, "bookworm-arm64", ARM64)
    shutil.copy(stub, lib_dir(root, ARM64) / "libdemo.so.1")
    shutil.copy(impl, lib_dir(root, ARM64) / "libimpl.so.1")
    report = run(app, root, bindings=True)
    (d006,) = [f for f in report.findings if f.rule == "D006"]
    assert d006.severity == "warning" and "resolve agrees (S007)" in d006.message
    assert "no version information available" in d006.evidence[0]
    r = only_run(report)
    assert r.started and r.returncode == 0 and "demo 3" in r.stdout_tail
    assert not {"D012", "D013"} & rules(report)  # and resolve bound demo_* to libimpl, as the loader did
    shutil.copy(versioned, lib_dir(root, ARM64) / "libdemo.so.1")
    twin = run(app, root)
    assert not d_rules(twin)


@pytest.mark.fires("D007", "D013")
def test_glibc_236_asserts_where_resolve_only_warns(tmp_path: Path) -> None:
    """The same unversioned library under bookworm's loader (glibc 2.36): it stops on its own
    assertion ("Inconsistency detected by ld.so", D007) where resolve predicted a start with a
    warning (S007): the loader refutes the static verdict (D013). The twin: versioned."""
    (tmp_path / "v.map").write_text(VERSIONED)
    versioned = demo_lib(ARM64, tmp_path, "vv", "-DNEW", f"-Wl,--version-script={tmp_path / 'v.map'}")
    plain = demo_lib(ARM64, tmp_path, "plain", "-DNEW")
    app = demo_program(ARM64, tmp_path, versioned, "appv")
    root = mini_root(tmp_path, "bookworm-arm64", ARM64)
    shutil.copy(plain, lib_dir(root, ARM64) / "libdemo.so.1")
    report = run(app, root)
    assert "S007" in rules(report)
    (d007,) = [f for f in report.findings if f.rule == "D007"]
    assert "Inconsistency detected by ld.so" in d007.evidence[0]
    (d013,) = [f for f in report.findings if f.rule == "D013"]
    assert "resolve said it starts" in d013.message
    shutil.copy(versioned, lib_dir(root, ARM64) / "libdemo.so.1")
    twin = run(app, root)
    assert not d_rules(twin) and only_run(twin).returncode == 0


# --- how the program ends -----------------------------------------------------------

ENDS = """
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "ok";
    printf("asked: %s\\n", how);
    fflush(stdout);
    if (!strcmp(how, "exit3")) return 3;
    if (!strcmp(how, "segv")) raise(SIGSEGV);
    if (!strcmp(how, "abort")) abort();
    return 0;
}
"""


@pytest.mark.fires("D008", "D009")
def test_exit_status_and_signal(tmp_path: Path) -> None:
    """A program that exits 3 (D008), is killed by SIGSEGV or SIGABRT (D009); with no
    argument it exits 0 (the twin). Arguments after -- reach it."""
    prog = cc(ARM64, tmp_path, "ends", ENDS)
    root = sysroot("bookworm-arm64")
    exited = run(prog, root, args=("exit3",))
    r = only_run(exited)
    assert r.started and r.returncode == 3 and "asked: exit3" in r.stdout_tail
    (d008,) = [f for f in exited.findings if f.rule == "D008"]
    assert "status 3" in d008.message
    for how, sig in (("segv", "SIGSEGV"), ("abort", "SIGABRT")):
        crashed = run(prog, root, args=(how,))
        assert only_run(crashed).signal == sig
        (d009,) = [f for f in crashed.findings if f.rule == "D009"]
        assert sig in d009.message and "D008" not in rules(crashed)
    twin = run(prog, root)
    assert not d_rules(twin) and only_run(twin).returncode == 0


HANG = """
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    printf("hanging %s\\n", argv[1]);
    fflush(stdout);
    if (fork() == 0) {          /* a child that leaves the process group and the session */
        setsid();
        if (fork() == 0) { for (;;) pause(); }
        for (;;) pause();
    }
    if (fork() == 0) { for (;;) pause(); }   /* one that stays in the group */
    for (;;) pause();
}
"""


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if marker.encode() in (entry / "cmdline").read_bytes() and state != "Z":
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.fires("D010")
@pytest.mark.parametrize("target", ["linux/arm64", "linux/amd64"])
def test_hanging_program_is_stopped_with_everything_it_started(tmp_path: Path, target: str) -> None:
    """A program that forks (one child leaves its session with setsid and forks again) and
    waits forever: at --timeout the whole tree is gone, /proc says so; D010 names it. From
    the command line the same, and cgocheck itself returns promptly. The twin finishes."""
    root = sysroot(TARGET_ROOTS[target])
    prog = cc(target, tmp_path, "hang", HANG)
    marker = f"cgocheck-hang-{uuid.uuid4().hex}"
    t0 = time.monotonic()
    report = run(prog, root, target, args=(marker,), timeout=3)
    took = time.monotonic() - t0
    r = only_run(report)
    assert r.timed_out and r.signal == "SIGKILL" and f"hanging {marker}" in r.stdout_tail
    assert r.strays >= 1  # the setsid child was found outside the group and stopped
    assert "D010" in rules(report) and took < 20
    assert processes_with(marker) == []

    marker = f"cgocheck-hang-{uuid.uuid4().hex}"
    t0 = time.monotonic()
    proc = cgocheck("run", str(prog), "--sysroot", str(root), "--timeout", "2", "--", marker, timeout=120)
    assert proc.returncode == 1 and "D010" in proc.stdout and time.monotonic() - t0 < 30
    assert processes_with(marker) == []

    twin = run(cc(target, tmp_path, "ends", ENDS), root, target, timeout=30)
    assert not d_rules(twin)


ENDLESS = """
#include <stdio.h>
int main(void) { for (;;) fputs("y y y y y y y y y y y y y y y y y y y y y y y y y y y y y y\\n", stdout); }
"""


@pytest.mark.fires("D011")
def test_endless_output_is_capped(tmp_path: Path) -> None:
    """A program that writes forever is stopped once its output passes the cap: the report
    keeps at most the cap, counts what came, and D011 says its result is unknown."""
    prog = cc(ARM64, tmp_path, "endless", ENDLESS)
    cap = 1 << 20
    t0 = time.monotonic()
    report = run(prog, sysroot("bookworm-arm64"), max_output=cap, timeout=120)
    r = only_run(report)
    assert r.output_capped and not r.timed_out and r.output_bytes > cap
    assert len(r.stdout_tail) <= 4000 and r.stdout_tail.endswith(("y", "\n", " "))
    assert time.monotonic() - t0 < 60
    (d011,) = [f for f in report.findings if f.rule == "D011"]
    assert str(cap) in d011.message
    twin = run(cc(ARM64, tmp_path, "ends", ENDS), sysroot("bookworm-arm64"), max_output=cap)
    assert not d_rules(twin)


@pytest.mark.fires("D012", "D013")
def test_library_from_outside_the_sysroot_is_caught(builder: Builder, tmp_path: Path) -> None:
    """x86_64, natively through the sysroot's loader, in a sysroot without zlib: resolve says
    libz.so.1 is missing (L001), but the loader falls back to its built-in folders, which are
    the host's, and starts it with the host's libz. --bindings names the object from outside
    the sysroot (D012) and the refuted verdict (D013). The twin: bookworm-amd64 itself."""
    need(Path("/lib/x86_64-linux-gnu/libz.so.1").exists(), "the host's zlib (zlib1g)")
    target = "linux/amd64"
    binary = builder.build("clean/zlib", target, GO_NEW, sysroot=sysroot("bookworm-amd64")).path
    root = mini_root(tmp_path, "bookworm-amd64", target)
    report = run(binary, root, target, bindings=True)
    r = only_run(report)
    assert r.mode == "native" and r.started and r.returncode == 0 and "zlib 1." in r.stdout_tail
    assert "L001" in rules(report)
    (d012,) = [f for f in report.findings if f.rule == "D012"]
    assert any("loaded from outside the sysroot: /lib/x86_64-linux-gnu/libz.so.1" in e or
               ("outside the sysroot" in e and "libz.so.1" in e) for e in d012.evidence), d012.evidence
    assert any("zlibVersion" in e and "resolve binds nothing" in e for e in d012.evidence), d012.evidence
    (d013,) = [f for f in report.findings if f.rule == "D013"]
    assert "libz.so.1 not found" in d013.message and "started it" in d013.message
    twin = run(binary, sysroot("bookworm-amd64"), target, bindings=True)
    assert not d_rules(twin)


# --- bad input and the environment --------------------------------------------------


def test_binary_for_another_machine_is_refused_up_front(builder: Builder) -> None:
    binary = builder.build("clean/libc", ARM64, GO_NEW, sysroot=sysroot("bookworm-arm64")).path
    proc = cgocheck("run", str(binary), "--sysroot", "bookworm-armhf", timeout=120)
    assert proc.returncode == 2 and not proc.stdout
    line = one_error_line(proc)
    assert "EM_AARCH64" in line and "EM_ARM" in line and "cannot run there" in line
    proc = cgocheck("run", str(binary), "--sysroot", "bookworm-arm64", "--target", "linux/arm/v7", timeout=120)
    assert proc.returncode == 2 and "not for linux/arm/v7" in one_error_line(proc)
    proc = cgocheck("run", str(binary), "--sysroot", "bookworm-arm64", "--env", "LD_PRELOAD=/x.so", timeout=120)
    assert proc.returncode == 2 and "LD_" in one_error_line(proc)
    with pytest.raises(BadInput):
        run_report(str(Path(__file__)), str(sysroot("bookworm-arm64")), RunSpec(), target=None, glibc_floor=None)


def test_go_386_under_qemu_i386_72_is_an_environment_problem(builder: Builder, tmp_path: Path) -> None:
    """qemu-i386 7.2 crashes Go's 386 runtime ("morestack on g0", or a SIGSEGV in the runtime
    for a cgo binary): a run is refused with exit 3 and the reason, not reported as the
    program's crash. The limit is real: run directly, the Go runtime dies."""
    qemu = need_tool("qemu-i386")
    root = sysroot("/usr/i686-linux-gnu")
    binary = builder.build("clean/libc", "linux/386", GO_NEW).path
    crashes = [subprocess.run(["env", "-i", qemu, "-L", str(root), str(binary)], capture_output=True, text=True,
                              timeout=120, check=False) for _ in range(5)]
    version = subprocess.run([qemu, "--version"], capture_output=True, text=True, check=False).stdout
    if " 7." not in version:
        pytest.skip(f"the limit is written down for qemu 7.2; this is {version.splitlines()[0]}")
    # measured here: 29 runs in 30 crash (a cgo binary; a pure Go one 30 in 30)
    assert any(p.returncode != 0 and ("morestack on g0" in p.stderr or "goroutine " in p.stderr) for p in crashes)
    proc = cgocheck("run", str(binary), "--sysroot", str(root), timeout=120)
    assert proc.returncode == 3
    line = one_error_line(proc)
    assert "morestack on g0" in line and "apt-get install qemu-user" in line
    # a C program for 386 runs under the same qemu
    c_prog = cc("linux/386", tmp_path, "ends", ENDS)
    ok = run(c_prog, root, "linux/386")
    assert only_run(ok).returncode == 0 and not d_rules(ok)


def test_missing_qemu_is_exit_3_with_the_package_to_install() -> None:
    from cgocheck.loader import qemu

    with pytest.raises(EnvironmentProblem) as err:
        qemu.find("qemu-no-such-machine")
    assert err.value.exit_code == 3 and "apt-get install qemu-user" in err.value.message


# --- verify --run and the configuration ---------------------------------------------

TWO_MAINS = """package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"os"
)

func main() { fmt.Println("NAME", os.Args[1:], int(C.abs(-2))) }
"""


def test_verify_run_with_arguments_per_package(tmp_path: Path) -> None:
    """verify ./cmd/... --run with [run] args per package in cgocheck.toml: each binary gets
    its own arguments, and `-- ARGS` on the command line gives every binary the same."""
    mod = tmp_path / "mod"
    for name in ("alpha", "beta"):
        (mod / "cmd" / name).mkdir(parents=True)
        (mod / "cmd" / name / "main.go").write_text(TWO_MAINS.replace("NAME", name))
    (mod / "go.mod").write_text("module example.com/two\n\ngo 1.19\n")
    (mod / "cgocheck.toml").write_text('[run]\nargs = { "./cmd/alpha" = ["--first"], "*" = ["--rest", "x y"] }\n'
                                       "timeout = 120\n")
    common = ("verify", "./cmd/...", "--target", ARM64, "--sysroot", "bookworm-arm64", "-o", str(tmp_path / "bin/"),
              "--format", "json")
    proc = cgocheck(*common, cwd=mod, timeout=900)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    said = {Path(r["file"]).name: r["stdout_tail"].strip() for r in data["runs"]}
    assert said == {"alpha": "alpha [--first] 2", "beta": "beta [--rest x y] 2"}
    assert all(r["timeout"] == 120 for r in data["runs"])
    proc = cgocheck(*common, "--bindings", "--", "same", cwd=mod, timeout=900)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert {r["stdout_tail"].strip() for r in data["runs"]} == {"alpha [same] 2", "beta [same] 2"}
    assert all(r["bindings"] for r in data["runs"])
    # without run = true / --run nothing runs
    (mod / "cgocheck.toml").write_text("")
    proc = cgocheck(*common, cwd=mod, timeout=900)
    assert "runs" not in json.loads(proc.stdout)


def test_every_format_shows_the_run(builder: Builder, tmp_path: Path) -> None:
    """The run in table, JSON (schema), JUnit, SARIF (schema), Markdown and HTML."""
    import xml.etree.ElementTree as ET

    binary = builder.build("clean/libc", ARM64, GO_NEW, sysroot=sysroot("bookworm-arm64")).path
    paths = {f: tmp_path / f"r.{f}" for f in ("json", "junit", "sarif", "markdown", "html")}
    proc = cgocheck("run", str(binary), "--sysroot", "bullseye-arm64", "--bindings",
                    *(x for f, p in paths.items() for x in ("--report", f"{f}={p}")), timeout=300)
    assert proc.returncode == 1
    assert "loader said" in proc.stdout and "under qemu-aarch64" in proc.stdout
    data = json.loads(paths["json"].read_text())
    jsonschema.validate(data, json.loads(resources.files("cgocheck.data").joinpath("report.schema.json").read_text()))
    assert data["runs"][0]["loader_messages"][0]["kind"] == "version-not-found"
    suites = ET.fromstring(paths["junit"].read_text())
    failed = {c.get("name") for c in suites.iter("testcase") if c.find("failure") is not None}
    assert "D002 loader-version-not-found" in failed
    sarif = json.loads(paths["sarif"].read_text())
    schema = json.loads(resources.files("cgocheck.data").joinpath("sarif-2.1.0.schema.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    run_ = sarif["runs"][0]
    assert run_["properties"]["programRuns"][0]["started"] is False
    assert "D002" in {r["ruleId"] for r in run_["results"]}
    assert "Run:" in paths["markdown"].read_text() and "GLIBC\\_2.34" in paths["markdown"].read_text()
    page = paths["html"].read_text()
    assert "Runs (the target&#x27;s loader)" in page and "version `GLIBC_2.34&#x27; not found" in page
