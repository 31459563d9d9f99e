"""`cgocheck matrix`: every cell (Go version x target x sysroot x compiler x package).

Cells run `verify` in worker processes, up to the number of cores. Each cell's result (the
versioned JSON report plus its exit code) is cached under ``<home>/results/<key>/`` where
the key digests every input that can change the result: the source tree's content, the
Go toolchain, the sysroot's content digest, the compiler, the options and cgocheck's own
version and rule/target tables. An unchanged rerun reads the cache; a changed input re-runs
exactly the cells it touches. Results are written to a temporary name and renamed, under
a per-key file lock, so concurrent runs sharing a cache and killed runs never leave a torn
result. Suppressions and the baseline are applied when results are read, not cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from cgocheck import __version__
from cgocheck.build.modules import SETTINGS as MODULE_SETTINGS
from cgocheck.build.options import GoBuildOptions
from cgocheck.core import folders, packagedata
from cgocheck.core.errors import EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_OK, BadInput, CgocheckError, shown
from cgocheck.core.files import REPORT, FileProblem, os_problem, read_json
from cgocheck.core.schema import first_error, schema
from cgocheck.core.targets import parse_target
from cgocheck.policy import Policy, apply_json, failing, report_exit
from cgocheck.results.matrix import Cell, CellResult
from cgocheck.settings import RunSettings, Settings

RESULT = "result.json"
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules", ".cgocheck-out"}


def cells_from_config(cfg: Settings) -> list[Cell]:
    if not cfg.targets:
        raise CgocheckError("the matrix needs at least one target (targets = [...] in cgocheck.toml or --target)")
    cells: list[Cell] = []
    for pkg in cfg.packages:
        for target in cfg.targets:
            sysroots: list[str | None] = [s for t, s in cfg.sysroots if t in (target, "*")] or [None]
            for sysroot in sysroots:
                for compiler in cfg.compilers:
                    for go in cfg.go:
                        cells.append(Cell(go=go, target=target, compiler=compiler, package=pkg, sysroot=sysroot))
    seen: set[str] = set()
    unique = []
    for c in cells:
        if c.id not in seen:
            seen.add(c.id)
            unique.append(c)
    return unique


# --- input digests ---------------------------------------------------------------------


def _module_root(package: str, cwd: Path) -> Path:
    p = (cwd / package.split("/...")[0]).resolve()
    start = p if p.is_dir() else cwd
    for folder in (start, *start.parents):
        if (folder / "go.mod").is_file():
            return folder
    return start


def tree_digest(root: Path) -> str:
    """Content digest of a source tree (paths, link targets, file contents)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            try:
                st = full.lstat()
                if stat.S_ISLNK(st.st_mode):
                    h.update(f"L {rel} {os.readlink(full)}\n".encode())
                    continue
                if not stat.S_ISREG(st.st_mode):  # a FIFO or device: opening it could block forever
                    h.update(f"O {rel} {stat.S_IFMT(st.st_mode):o}\n".encode())
                    continue
                fh = open(full, "rb", buffering=0)  # noqa: SIM115 - closed below
            except OSError:
                continue
            with fh:
                content = hashlib.sha256()
                size = 0
                while chunk := fh.read(1 << 20):
                    content.update(chunk)
                    size += len(chunk)
            h.update(f"F {rel} {size}\n".encode())
            h.update(content.digest())
    return h.hexdigest()


def _go_identity(spec: str) -> str:
    from cgocheck.build import toolchains

    t = toolchains.find(spec)
    st = t.go.stat()
    return f"go{t.version} {t.goroot} {st.st_size} {st.st_mtime_ns}"


def _sysroot_identity(sysroot: str | None) -> str:
    if not sysroot:
        return "-"
    from cgocheck.sysroot import find_sysroot
    from cgocheck.sysroot.meta import read_meta_text

    path = find_sysroot(sysroot)
    digest = read_meta_text(path, "digest")
    if digest is not None:
        return digest.strip()
    # a folder cgocheck did not make: its digest would cost a full read, so use the
    # libc and the folder's own change times, which a package install or edit moves
    st = path.stat()
    return f"{path} {st.st_mtime_ns} {st.st_ino}"


def _compiler_identity(compiler: str, target: str) -> str:
    from cgocheck.build.hermetic import compiler_preset

    try:
        preset = compiler_preset(compiler, parse_target(target), None)
    except CgocheckError:
        return compiler
    exe = shutil.which(preset.cc.split()[0]) or preset.cc
    try:
        st = Path(exe).resolve().stat()
        return f"{compiler} {exe} {st.st_size} {st.st_mtime_ns}"
    except OSError:
        return f"{compiler} {exe} missing"


def _tool_identity() -> str:
    """cgocheck's own code and data: a cached cell was computed by exactly this cgocheck
    (every module but the command line's, which only shows results)."""
    h = hashlib.sha256(__version__.encode())
    for name in ("rules.toml", "targets.toml"):
        h.update(packagedata.read_bytes(name))
    package = Path(__file__).resolve().parent.parent
    for f in sorted(package.rglob("*.py")):
        rel = f.relative_to(package)
        if rel.parts[0] != "cli" and "__pycache__" not in rel.parts:
            h.update(str(rel).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class MatrixOptions:
    glibc_floor: str | None = None
    glibcxx_floor: str | None = None
    rebuild: bool = False
    build: GoBuildOptions = field(default_factory=GoBuildOptions)
    cwd: Path = field(default_factory=Path.cwd)
    timeout: float | None = None  # seconds per build (not in the cache key: it changes no result)
    run: RunSettings = field(default_factory=RunSettings)  # run = true / [run]: run what each cell builds
    test: bool = False  # test = true: each cell builds and runs its package's Go tests (cgocheck test)


def cell_key(cell: Cell, opts: MatrixOptions, *, tree: str | None = None) -> str:
    parts = {
        "cell": asdict(cell),
        "tree": tree or tree_digest(_module_root(cell.package, opts.cwd)),
        "go": _go_identity(cell.go),
        "sysroot": _sysroot_identity(cell.sysroot),
        "compiler": _compiler_identity(cell.compiler, cell.target),
        "glibc_floor": opts.glibc_floor,
        "glibcxx_floor": opts.glibcxx_floor,
        "build": opts.build.as_json(),
        **({"run": opts.run.as_json()} if opts.run.enabled or opts.test else {}),
        **({"test": True} if opts.test else {}),
        # where modules come from changes the result (B008 or a build): the shell's settings
        "modules": {k: os.environ.get(k, "") for k in MODULE_SETTINGS},
        "tool": _tool_identity(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def results_dir() -> Path:
    return folders.home() / "results"


# --- running one cell ------------------------------------------------------------------


_writing: str | None = None  # the temporary file _write_atomic is writing (for a stopping worker)


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    global _writing
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except OSError as exc:
        raise os_problem(exc, "write the cached result", path) from None
    _writing = tmp
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise os_problem(exc, "write the cached result", path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _writing = None


def _read_cached(folder: Path) -> CellResult | None:
    """The cached result, or None. Only result.json counts; a writer's temporary file (left
    by a run killed mid-write) is never read, and is removed when no writer holds the key."""
    try:
        data = read_json(folder / RESULT, REPORT)
        res = CellResult.from_json(data)
    except (FileProblem, ValueError, KeyError, TypeError, AttributeError):
        return None
    res.cached = True
    if any(folder.glob(".tmp-*")):
        lock = FileLock(str(folder.parent / f".{folder.name}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return res  # a run is writing this key right now
        try:
            _remove_temporaries(folder)
        finally:
            lock.release()
    return res


def _remove_temporaries(folder: Path) -> None:
    """Temporary files of killed writers (call with the key's lock held)."""
    for tmp in folder.glob(".tmp-*"):
        tmp.unlink(missing_ok=True)


def run_cell(cell: Cell, opts: MatrixOptions, key: str | None = None) -> CellResult:
    """Run (or read from the cache) one cell. Never raises for a cell's own failure."""
    start = time.monotonic()
    try:
        key = key or cell_key(cell, opts)
    except CgocheckError as err:  # Go, sysroot or target missing: a reported result
        return CellResult(cell, err.exit_code, None, err.message, time.monotonic() - start)
    folder = results_dir() / key
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(results_dir() / f".{key}.lock")):
        if folder.is_dir():
            _remove_temporaries(folder)
        if not opts.rebuild:
            cached = _read_cached(folder)
            if cached is not None:
                return cached
        result = _verify_cell(cell, opts, folder, key, start)
        if result.exit_code in (EXIT_OK, EXIT_FINDINGS) and not _timed_out(result):
            # environment failures and timeouts are not cached: a rerun (with more time) retries
            _write_atomic(folder / RESULT, result.to_json())
        return result


def _timed_out(result: CellResult) -> bool:
    return bool(((result.report or {}).get("build") or {}).get("timed_out"))


def _verify_cell(cell: Cell, opts: MatrixOptions, folder: Path, key: str, start: float) -> CellResult:
    from cgocheck.build.hermetic import DEFAULT_TIMEOUT
    from cgocheck.commands.gotest import run_tests, test_run_settings
    from cgocheck.commands.verify import VerifyOptions, verify
    from cgocheck.report.jsonfmt import report_to_json

    try:
        vo = VerifyOptions(
            packages=(cell.package,),
            target=parse_target(cell.target),
            go=cell.go,
            compiler=cell.compiler,
            sysroot=cell.sysroot,
            glibc_floor=opts.glibc_floor,
            glibcxx_floor=opts.glibcxx_floor,
            build=opts.build,
            output=folder / "bin",
            cwd=opts.cwd,
            timeout=opts.timeout or DEFAULT_TIMEOUT,
            run=test_run_settings(opts.run) if opts.test else (opts.run if opts.run.enabled else None),
        )
        res = run_tests(vo) if opts.test else verify(vo)
    except CgocheckError as err:
        return CellResult(cell, err.exit_code, None, err.message, time.monotonic() - start, key=key)
    except Exception as exc:  # a bug must not take the whole matrix down: report it
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return CellResult(cell, EXIT_ENVIRONMENT, None, f"internal error: {tb}", time.monotonic() - start, key=key)
    code = report_exit(res.report, "error")  # the cached verdict; the reader's policy judges it again
    return CellResult(cell, code, report_to_json(res.report, code), None, time.monotonic() - start, key=key)


# --- the matrix ------------------------------------------------------------------------

Event = Callable[[str, Cell, "CellResult | None"], None]


def run_matrix(
    cells: Sequence[Cell], opts: MatrixOptions, *, jobs: int | None = None, on_event: Event | None = None
) -> list[CellResult]:
    """Run cells in parallel; results in the cells' order. Ctrl-C keeps finished results."""
    emit = on_event or (lambda *_: None)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(cells) or 1))
    trees: dict[Path, str] = {}
    keyed: list[tuple[Cell, str | None, CellResult | None]] = []
    for cell in cells:  # digests in the parent: each source tree is read once
        root = _module_root(cell.package, opts.cwd)
        if root not in trees:
            trees[root] = tree_digest(root)
        try:
            keyed.append((cell, cell_key(cell, opts, tree=trees[root]), None))
        except CgocheckError as err:
            keyed.append((cell, None, CellResult(cell, err.exit_code, None, err.message)))
    results: dict[str, CellResult] = {}
    pending: list[tuple[Cell, str]] = []
    for cell, key, early in keyed:
        if early is not None:
            results[cell.id] = early
            emit("done", cell, early)
        elif key is not None and not opts.rebuild and (cached := _read_cached(results_dir() / key)) is not None:
            results[cell.id] = cached
            emit("done", cell, cached)
        else:
            assert key is not None
            pending.append((cell, key))
    if pending:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
            futures: dict[Future[CellResult], Cell] = {}
            try:
                # the workers are forked by the first submit: with SIGINT blocked, so that a
                # Ctrl-C then waits in them until _worker_init ignores it (here it is raised
                # as soon as the mask is restored, and handled below)
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    submitted = [(pool.submit(_worker_cell, cell, opts, key), cell) for cell, key in pending]
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                for fut, cell in submitted:
                    futures[fut] = cell
                    emit("start", cell, None)
                todo = set(futures)
                while todo:
                    done, todo = wait(todo, return_when=FIRST_COMPLETED)
                    for fut in done:
                        cell = futures[fut]
                        try:
                            res = fut.result()
                        except Exception as exc:  # a worker died (killed, out of memory)
                            res = CellResult(cell, EXIT_ENVIRONMENT, None, f"worker failed: {exc}")
                        results[cell.id] = res
                        emit("done", cell, res)
            except KeyboardInterrupt:
                _stop_workers(pool)
                for fut, cell in futures.items():  # finished while we were stopping
                    if cell.id not in results and fut.done() and not fut.cancelled() and fut.exception() is None:
                        res = fut.result()
                        if res.exit_code != 130:
                            results[cell.id] = res
                for cell in cells:
                    if cell.id not in results:
                        results[cell.id] = CellResult(cell, 130, None, "interrupted")
                raise MatrixInterrupted([results[c.id] for c in cells]) from None
    return [results[c.id] for c in cells]


# --- workers: stopped as a whole -------------------------------------------------------
#
# Ctrl-C reaches the parent (and, on a terminal, the workers, which leave it to the parent:
# they ignore SIGINT, and are forked with it blocked, so one arriving before a worker has set
# that up waits until it has). The parent sends each worker SIGTERM; a worker then kills its
# go builds' (and go list's) process groups at once, removes its work folder and the result
# file it was writing, and ends with os._exit, printing nothing. It never unwinds by raising
# from the handler: the handler can run inside a C++ extension's call back into Python
# (lief, through nanobind), where an exception ends the process with "terminate called".
# A worker whose parent dies (SIGKILL, OOM) gets SIGTERM from the kernel (PR_SET_PDEATHSIG)
# and does the same: no worker, go or cc process outlives the run, and nothing is cached of
# a cell it did not finish (locks are flocks, which the kernel drops).

STOP_GRACE = 20.0  # seconds the parent waits for its workers before SIGKILL


def _worker_init(parent: int) -> None:
    signal.signal(signal.SIGINT, _ignore)  # a handler, not SIG_IGN: children get the default back
    signal.signal(signal.SIGTERM, _worker_stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent for the fork
    _die_with_parent(parent)


def _ignore(signum: int, frame: object) -> None:
    pass


def _die_with_parent(parent: int) -> None:
    """SIGTERM to this process when its parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: the parent's own handling must do
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _worker_stop(signum: int, frame: object) -> None:
    """SIGTERM in a worker: stop everything it started, clean up, and end now (quietly)."""
    with contextlib.suppress(OSError):  # nothing more from this process: whatever is cut short
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    from cgocheck.build.hermetic import kill_running_builds
    from cgocheck.commands.verify import abandon_work

    kill_running_builds()  # first, whatever the worker is doing
    with contextlib.suppress(Exception):
        abandon_work()
        if _writing is not None:
            os.unlink(_writing)
    os._exit(130)


def _worker_cell(cell: Cell, opts: MatrixOptions, key: str) -> CellResult:
    return run_cell(cell, opts, key)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    procs = list(getattr(pool, "_processes", {}).values())
    for p in procs:
        if p.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGTERM)
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + STOP_GRACE
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():  # its builds were killed first thing; now the worker itself
            p.kill()
            p.join(5)
    # let the pool's manager thread see its workers gone and end now: left running, the
    # interpreter's exit hook wakes it through a pipe already closed ("Exception ignored ...
    # Bad file descriptor" on stderr); bounded, in a thread, in case it never notices
    closer = threading.Thread(target=pool.shutdown, kwargs={"wait": True}, daemon=True)
    closer.start()
    closer.join(5)


class MatrixInterrupted(Exception):
    def __init__(self, results: list[CellResult]) -> None:
        super().__init__("interrupted")
        self.results = results


def apply_policy(results: Iterable[CellResult], policy: Policy) -> None:
    """Suppressions and the baseline act on cached results too (they are never cached): each
    cell's report is filtered by cgocheck.policy, and its exit code judged again."""
    for res in results:
        if not res.report:
            continue
        res.report, res.suppressed = apply_json(res.stored_report(), policy)
        if res.exit_code in (EXIT_OK, EXIT_FINDINGS):
            build_ok = (res.report.get("build") or {}).get("returncode", 0) == 0
            res.exit_code = EXIT_FINDINGS if failing(res.findings, policy.fail_on) or not build_ok else EXIT_OK




def check_cell(data: Any, label: str) -> None:
    """A saved cell as matrix.schema.json has it (and its report as report.schema.json), or
    bad input naming LABEL and the first place it is not."""
    ms = schema("matrix")
    wrong = first_error(data, ms["properties"]["cells"]["items"], ms)
    if wrong:
        raise BadInput(f"{label}: not a cgocheck matrix result ({wrong})")
    if data.get("report") is not None:
        from cgocheck.commands.diff import check_json_report

        check_json_report(data["report"], f"{label}.report")


def read_cell_results(files: Sequence[Path]) -> list[CellResult]:
    """The cells of saved matrix results (``--cell ID -o FILE`` or a whole matrix's JSON),
    each once, sorted by id. A file that is not one is bad input naming it."""
    results: list[CellResult] = []
    seen: set[str] = set()
    for f in files:
        try:
            data = read_json(f, REPORT)
        except FileProblem as exc:
            raise BadInput(f"{shown(f)}: not a cgocheck matrix result ({exc.problem})") from None
        try:
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            cells = data.get("cells", [data])
            if not isinstance(cells, list):
                raise TypeError("cells is not a list")
            for i, c in enumerate(cells):
                check_cell(c, f"{shown(f)}: cells[{i}]" if "cells" in data else shown(f))
                r = CellResult.from_json(c)
                if r.cell.id not in seen:
                    seen.add(r.cell.id)
                    results.append(r)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadInput(f"{shown(f)}: not a cgocheck matrix result ({type(exc).__name__})") from None
    return sorted(results, key=lambda r: r.cell.id)
