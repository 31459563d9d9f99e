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
import re
import shutil
import signal
import stat
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from cgocheck import __version__
from cgocheck.core import folders
from cgocheck.core.errors import EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_OK, CgocheckError
from cgocheck.core.rules import SEVERITY_RANK, Finding
from cgocheck.core.targets import parse_target
from cgocheck.settings import Config, filter_findings

RESULT = "result.json"
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules", ".cgocheck-out"}


@dataclass(frozen=True)
class Cell:
    go: str
    target: str
    compiler: str
    package: str
    sysroot: str | None = None

    @property
    def id(self) -> str:
        go = f"go{self.go}" if self.go[:1].isdigit() else f"go-{self.go}"
        parts = [go, self.target, self.sysroot or "no-sysroot", self.compiler, self.package]
        return "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", p).strip(".-") or "root" for p in parts)


@dataclass
class CellResult:
    cell: Cell
    exit_code: int
    report: dict[str, Any] | None  # the verify JSON report (schema_version 1.0)
    error: str | None = None  # one line when the cell could not run (exit 2/3)
    seconds: float = 0.0
    cached: bool = False
    key: str = ""
    suppressed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def findings(self) -> list[dict[str, Any]]:
        if not self.report:
            return []
        build = list(self.report.get("build_findings") or [])
        return build + [f for fr in self.report.get("files", []) for f in fr.get("findings", [])]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.cell.id,
            "cell": asdict(self.cell),
            "exit_code": self.exit_code,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
            "key": self.key,
            "suppressed": self.suppressed,
            "report": self.report,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellResult:
        return cls(
            cell=Cell(**data["cell"]),
            exit_code=int(data["exit_code"]),
            report=data.get("report"),
            error=data.get("error"),
            seconds=float(data.get("seconds", 0.0)),
            cached=bool(data.get("cached", False)),
            key=str(data.get("key", "")),
            suppressed=list(data.get("suppressed", [])),
        )


def cells_from_config(cfg: Config) -> list[Cell]:
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

    path = find_sysroot(sysroot)
    digest = path / ".cgocheck" / "digest"
    if digest.is_file():
        return digest.read_text().strip()
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
    h = hashlib.sha256(__version__.encode())
    for name in ("rules.toml", "targets.toml"):
        h.update(resources.files("cgocheck.data").joinpath(name).read_bytes())
    for mod in ("verify", "build", "provenance", "resolve", "inspect"):
        f = Path(__file__).with_name(f"{mod}.py")
        if f.is_file():
            h.update(f.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class MatrixOptions:
    glibc_floor: str | None = None
    rebuild: bool = False
    keep_binaries: bool = True
    cwd: Path = field(default_factory=Path.cwd)
    timeout: float | None = None  # seconds per build (not in the cache key: it changes no result)


def cell_key(cell: Cell, opts: MatrixOptions, *, tree: str | None = None) -> str:
    parts = {
        "cell": asdict(cell),
        "tree": tree or tree_digest(_module_root(cell.package, opts.cwd)),
        "go": _go_identity(cell.go),
        "sysroot": _sysroot_identity(cell.sysroot),
        "compiler": _compiler_identity(cell.compiler, cell.target),
        "glibc_floor": opts.glibc_floor,
        "tool": _tool_identity(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def results_dir() -> Path:
    return folders.home() / "results"


# --- running one cell ------------------------------------------------------------------


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cached(folder: Path) -> CellResult | None:
    """The cached result, or None. Only result.json counts; a writer's temporary file (left
    by a run killed mid-write) is never read, and is removed when no writer holds the key."""
    try:
        data = json.loads((folder / RESULT).read_text())
        res = CellResult.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
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
    from cgocheck.commands.verify import VerifyOptions, verify
    from cgocheck.report.jsonfmt import report_to_json

    try:
        vo = VerifyOptions(
            package=cell.package,
            target=parse_target(cell.target),
            go=cell.go,
            compiler=cell.compiler,
            sysroot=cell.sysroot,
            glibc_floor=opts.glibc_floor,
            output=folder / "binary",
            cwd=opts.cwd,
            timeout=opts.timeout or DEFAULT_TIMEOUT,
        )
        res = verify(vo)
    except CgocheckError as err:
        return CellResult(cell, err.exit_code, None, err.message, time.monotonic() - start, key=key)
    except Exception as exc:  # a bug must not take the whole matrix down: report it
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return CellResult(cell, EXIT_ENVIRONMENT, None, f"internal error: {tb}", time.monotonic() - start, key=key)
    from cgocheck.cli.inspect import exit_code_for

    code = exit_code_for(res.report, "error")  # the cached verdict; policy re-judges it on read
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
                for cell, key in pending:
                    futures[pool.submit(_worker_cell, cell, opts, key)] = cell
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
# Ctrl-C reaches the parent (and, on a terminal, the workers, which leave it to the parent).
# The parent sends each worker SIGTERM; a worker then kills its go builds' process groups at
# once and unwinds the running cell (its lock released, its temporary files removed, nothing
# cached) and exits. A worker whose parent dies (SIGKILL, OOM) gets SIGTERM from the kernel
# (PR_SET_PDEATHSIG) and does the same: no worker, go or cc process outlives the run.

STOP_GRACE = 20.0  # seconds the parent waits for its workers before SIGKILL
_stopping = False
_busy = False


def _worker_init(parent: int) -> None:
    signal.signal(signal.SIGINT, _ignore)  # a handler, not SIG_IGN: children get the default back
    signal.signal(signal.SIGTERM, _worker_stop)
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
    global _stopping
    _stopping = True
    from cgocheck.build.hermetic import kill_running_builds

    kill_running_builds()  # first, whatever the worker is doing
    if _busy:
        raise KeyboardInterrupt  # unwind the running cell; _worker_cell exits after it
    os._exit(130)


def _worker_cell(cell: Cell, opts: MatrixOptions, key: str) -> CellResult:
    global _busy
    if _stopping:
        os._exit(130)
    _busy = True
    try:
        return run_cell(cell, opts, key)
    except KeyboardInterrupt:
        os._exit(130)  # stopped: the parent reports the cell as interrupted
    finally:
        _busy = False


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


class MatrixInterrupted(Exception):
    def __init__(self, results: list[CellResult]) -> None:
        super().__init__("interrupted")
        self.results = results


def apply_config_policy(results: Iterable[CellResult], cfg: Config) -> None:
    """Suppressions and the baseline act on cached results too (they are not cached)."""
    for res in results:
        if not res.report:
            continue
        res.suppressed = []
        # build findings belong to no file; file findings are matched against their file
        holders: list[tuple[dict[str, Any], str, str]] = [(res.report, "build_findings", "")]
        holders += [(fr, "findings", fr.get("path", "")) for fr in res.report.get("files", [])]
        for holder, key, path in holders:
            findings = [_finding(f) for f in holder.get(key) or []]
            kept, taken = filter_findings(findings, path, cfg)
            holder[key] = [asdict(f) for f in kept]
            res.suppressed += [
                {"rule": s.finding.rule, "file": s.file, "reason": s.reason, "source": s.source} for s in taken
            ]
        if res.exit_code in (EXIT_OK, EXIT_FINDINGS):
            failing = [f for f in res.findings if SEVERITY_RANK[f["severity"]] >= SEVERITY_RANK[cfg.fail_on]]
            res.exit_code = EXIT_FINDINGS if failing else EXIT_OK


def _finding(d: dict[str, Any]) -> Finding:
    return Finding(
        rule=d["rule"],
        name=d["name"],
        severity=d["severity"],
        message=d["message"],
        fix=d["fix"],
        evidence=tuple(d.get("evidence", ())),
        file=d.get("file"),
        extra=tuple((str(x[0]), str(x[1])) for x in d.get("extra", ())),
    )


def overall_exit(results: Sequence[CellResult]) -> int:
    codes = {r.exit_code for r in results}
    for code in (130, EXIT_ENVIRONMENT, EXIT_BAD_INPUT, EXIT_FINDINGS):
        if code in codes:
            return code
    return EXIT_OK


# --- cross-version consistency -----------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    go: str
    go_version: str
    libc_symbols: tuple[str, ...]
    libraries: tuple[str, ...]
    max_glibc: str | None
    forcing: tuple[str, ...]
    findings: tuple[str, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionTable:
    group: str  # target / sysroot / compiler / package
    rows: tuple[VersionRow, ...]


def _main_facts(report: dict[str, Any]) -> dict[str, Any] | None:
    files = report.get("files") or []
    return files[0]["facts"] if files else None


def cross_version_tables(results: Sequence[CellResult]) -> list[VersionTable]:
    """Per target (x sysroot x compiler x package), one row per Go version, with what each
    adds or drops in libc symbols compared with the previous version."""
    from cgocheck.build.toolchains import version_key

    groups: dict[tuple[str, str | None, str, str], list[CellResult]] = {}
    for r in results:
        c = r.cell
        groups.setdefault((c.target, c.sysroot, c.compiler, c.package), []).append(r)
    tables: list[VersionTable] = []
    for (target, sysroot, compiler, package), rs in groups.items():
        rows: list[VersionRow] = []
        for r in rs:
            facts = _main_facts(r.report) if r.report else None
            if facts is None:
                continue
            bi = (facts.get("go") or {}).get("buildinfo") or {}
            syms = tuple(
                sorted(
                    {
                        s["name"] + (f"@{s['version']}" if s.get("version") else "")
                        for s in facts.get("undefined", [])
                        if s.get("library") in (None, "libc.so.6")
                        or str(s.get("library", "")).startswith(("libc.", "libpthread", "libdl", "libresolv", "libm."))
                    }
                )
            )
            rows.append(
                VersionRow(
                    go=r.cell.go,
                    go_version=str(bi.get("go_version", "?")),
                    libc_symbols=syms,
                    libraries=tuple(facts.get("needed", [])),
                    max_glibc=(facts.get("max_glibc") or {}).get("version"),
                    forcing=tuple((facts.get("max_glibc") or {}).get("symbols", [])),
                    findings=tuple(sorted({f["rule"] for f in r.findings})),
                )
            )
        rows.sort(key=lambda row: version_key(row.go_version.removeprefix("go")) or (0,))
        diffed: list[VersionRow] = []
        prev: set[str] | None = None
        for row in rows:
            cur = set(row.libc_symbols)
            added = tuple(sorted(cur - prev)) if prev is not None else ()
            removed = tuple(sorted(prev - cur)) if prev is not None else ()
            diffed.append(VersionRow(**{**asdict(row), "added": added, "removed": removed}))
            prev = cur
        if len(diffed) > 1:
            tables.append(VersionTable(f"{target} / {sysroot or 'no sysroot'} / {compiler} / {package}", tuple(diffed)))
    return tables
