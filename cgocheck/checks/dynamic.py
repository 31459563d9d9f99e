"""D001-D014: what the target's own loader said when the binary ran in the sysroot (a
ProgramRun), and where it refutes resolve's static verdict (a Resolution). Pure.

Each loader message becomes the finding of its kind, naming the library, version and
symbol, and saying whether resolve predicted it (L001-L004, S001, S002, S007). The run's end
(exit status, signal, timeout, output cap) and, for a test binary, each failed Go test are
findings too. With --bindings, every binding the loader made is compared with resolve's for
the same objects (as tests/integration/test_resolve_oracle.py does): a different provider, a
binding of the binary's that only one side made, or an object loaded from outside the
sysroot is D012, with both answers.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict

from cgocheck.checks.evidence import cap
from cgocheck.core.rules import Finding, finding
from cgocheck.loader.model import Resolution
from cgocheck.loader.runmodel import (
    BINARY,
    INTERPRETER_MISSING,
    LIBRARY_NOT_FOUND,
    LOADER_FAILURE,
    NO_VERSION_INFO,
    SYMBOL_LOOKUP,
    UNLOADABLE,
    VDSO,
    VERSION_NOT_FOUND,
    LoaderMessage,
    ProgramRun,
)

# ld.so looks these up itself from the executable's map (__rtld_malloc_init_real): not the
# binary's own references, whatever the binary defines
RTLD_OWN_LOOKUPS = frozenset({"calloc", "malloc", "realloc", "free"})


def check_run(run: ProgramRun, res: Resolution | None) -> list[Finding]:
    """D findings of one run; RES is resolve's verdict on the same file in the same sysroot."""
    return [*check_loader(run, res), *check_outcome(run), *check_bindings(run, res), *check_verdict(run, res),
            *check_tests(run)]


def _base(path: str | None) -> str:
    return posixpath.basename(path or "")


def _static(msg: LoaderMessage, res: Resolution | None) -> str:
    """What resolve said about the same failure: '; resolve agrees (S002)' or '; resolve did not predict it'."""
    if res is None:
        return ""
    lib = _base(msg.library)
    rule: str | None = None
    if msg.kind == LIBRARY_NOT_FOUND and any(m.name == lib or _base(m.name) == lib for m in res.missing_libraries):
        rule = "L001"
    elif msg.kind == UNLOADABLE and any(_base(m.name) == lib for m in res.missing_libraries):
        rule = "L002/L003"
    elif msg.kind == VERSION_NOT_FOUND and any(
        m.version == msg.version and lib in (m.library, _base(m.provider_path)) for m in res.missing_versions
    ):
        rule = "S002"
    elif msg.kind == SYMBOL_LOOKUP and any(u.symbol == msg.symbol for u in res.unresolved_symbols):
        rule = "S001"
    elif msg.kind == INTERPRETER_MISSING and res.loader_problem is not None:
        rule = "L004"
    elif msg.kind == NO_VERSION_INFO and any(n.library == lib or _base(n.provider_path) == lib
                                             for n in res.no_version_info):
        rule = "S007"
    return f"; resolve agrees ({rule})" if rule else "; resolve did not predict it"


def check_loader(run: ProgramRun, res: Resolution | None) -> list[Finding]:
    """D001-D007: the loader's own messages, one finding each (symbol lookups per requester)."""
    rule_of = {LIBRARY_NOT_FOUND: "D001", VERSION_NOT_FOUND: "D002", SYMBOL_LOOKUP: "D003", UNLOADABLE: "D004",
               INTERPRETER_MISSING: "D005", NO_VERSION_INFO: "D006", LOADER_FAILURE: "D007"}
    out: list[Finding] = []
    missing = {m.version for m in run.loader_messages if m.kind == VERSION_NOT_FOUND}
    lookups: dict[str, list[LoaderMessage]] = defaultdict(list)
    where = "traced in" if run.mode == "trace" else "run in"
    for m in run.loader_messages:
        if m.kind == SYMBOL_LOOKUP:
            if m.version in missing:
                continue  # its version node is missing: D002 says why
            lookups[m.requester or run.file].append(m)
            continue
        what = {
            LIBRARY_NOT_FOUND: f"cannot find {m.library}",
            VERSION_NOT_FOUND: f"version `{m.version}' not found in {m.library} (required by {m.requester})",
            UNLOADABLE: f"cannot load {m.library}",
            INTERPRETER_MISSING: f"the loader {m.library} is missing",
            NO_VERSION_INFO: f"{m.library} has no version information (required by {m.requester})",
            LOADER_FAILURE: "it stopped on its own consistency check",
        }[m.kind]
        out.append(finding(rule_of[m.kind], f"{where} {run.sysroot}, the target's loader says: {what}"
                           + _static(m, res), evidence=[m.text], file=run.file))
    for req, msgs in lookups.items():
        syms = [f"{m.symbol}@{m.version}" if m.version else str(m.symbol) for m in msgs]
        out.append(finding("D003", f"{where} {run.sysroot}, the target's loader found no definition for "
                           f"{', '.join(syms[:8])}{' ...' if len(syms) > 8 else ''} (required by {req})"
                           + _static(msgs[0], res), evidence=cap([m.text for m in msgs]), file=run.file))
    return out


def _last_lines(run: ProgramRun, n: int = 8) -> list[str]:
    text = run.stderr_tail.strip() or run.stdout_tail.strip()
    return [ln for ln in text.splitlines() if ln.strip()][-n:]


def check_outcome(run: ProgramRun) -> list[Finding]:
    """D008-D011: how the program ended (exit status, signal, timeout, output cap)."""
    out: list[Finding] = []
    how = f" ({' '.join(run.args)})" if run.args else ""
    if run.timed_out:
        out.append(finding("D010", f"did not finish within {run.timeout:g} s{how}: stopped with every process it "
                           "started", evidence=_last_lines(run), file=run.file))
    elif run.output_capped:
        out.append(finding("D011", f"wrote more than {run.output_limit} bytes{how}: stopped, its result is unknown",
                           evidence=_last_lines(run, 3), file=run.file))
    elif run.signal is not None:
        who = "the program" if run.started else "its loader"
        out.append(finding("D009", f"{who} was ended by {run.signal}{how}", evidence=_last_lines(run), file=run.file))
    elif run.started and run.returncode not in (None, 0) and not any(t.status == "fail" for t in run.tests):
        out.append(finding("D008", f"exited with status {run.returncode}{how}", evidence=_last_lines(run),
                           file=run.file))
    return out


def _static_bindings(res: Resolution) -> dict[tuple[str, str], str]:
    """(requester, symbol) -> provider of resolve's bindings, as real paths inside the sysroot."""

    def real(label: str, path: str | None = None) -> str:
        if label == res.binary or path == res.binary:
            return BINARY
        lib = res.library(label) or (res.library(path) if path else None)
        return lib.real_path if lib is not None else (path or label)

    return {(real(b.requester), b.symbol): real(b.provider, b.provider_path) for b in res.bindings}


def disagreements(run: ProgramRun, res: Resolution) -> list[str]:
    """Every way the loader's bindings differ from resolve's, as 'what: resolve X, loader Y'."""
    ours = _static_bindings(res)
    theirs: dict[tuple[str, str], set[str]] = defaultdict(set)
    outside: dict[str, None] = {}
    for b in run.bindings or ():
        if VDSO in (b.requester_real, b.provider_real):
            continue  # the kernel's vDSO: resolve has no file to model it by
        for printed, real in ((b.requester, b.requester_real), (b.provider, b.provider_real)):
            if real is None:
                outside[printed] = None
        req = b.requester_real or f"{b.requester} (outside the sysroot)"
        theirs[(req, b.symbol)].add(b.provider_real or f"{b.provider} (outside the sysroot)")
    for (req, sym), provs in theirs.items():
        if req == BINARY and sym in RTLD_OWN_LOOKUPS and len(provs) > 1:
            provs.discard(BINARY)  # ld.so's own malloc lookup found the binary's PLT entry
    out = [f"loaded from outside the sysroot: {p}" for p in outside]

    def who(req: str) -> str:
        return run.file if req == BINARY else req

    for key, prov in ours.items():
        if key in theirs and theirs[key] != {prov}:
            loader = ", ".join(sorted(map(who, theirs[key])))
            out.append(f"{key[1]} of {who(key[0])}: resolve {who(prov)}, loader {loader}")
    for key, provs in theirs.items():
        if key[0] == BINARY and provs != {BINARY} and key not in ours and key[1] not in RTLD_OWN_LOOKUPS:
            out.append(f"{key[1]} of {run.file}: resolve binds nothing, loader {', '.join(sorted(map(who, provs)))}")
    if run.started:
        for key, prov in ours.items():
            if key[0] == BINARY and key not in theirs:
                out.append(f"{key[1]} of {run.file}: resolve {who(prov)}, loader binds nothing")
    return out


def check_bindings(run: ProgramRun, res: Resolution | None) -> list[Finding]:
    """D012: LD_DEBUG=bindings against resolve's bindings of the same file."""
    if run.bindings is None or res is None:
        return []
    found = disagreements(run, res)
    if not found:
        return []
    return [finding("D012", f"{len(found)} difference(s) between the target's loader (LD_DEBUG=bindings, "
                    f"{len(run.bindings)} bindings) and resolve ({len(res.bindings)} bindings)",
                    evidence=cap(found), file=run.file)]


def check_verdict(run: ProgramRun, res: Resolution | None) -> list[Finding]:
    """D013: resolve said it starts and the loader refused it, or the reverse."""
    if res is None or not run.ran or res.setup.flavour == "static" or res.starts == run.started:
        return []
    if res.starts:
        said = "; ".join(m.text for m in run.fatal_messages[:3])
        msg = f"resolve said it starts in {run.sysroot}, the target's loader refused it: {said}"
    else:
        why = [*(f"{m.name} not found" for m in res.missing_libraries),
               *(f"`{m.version}' not in {m.library}" for m in res.missing_versions),
               *(f"{u.symbol} unresolved" for u in res.unresolved_symbols),
               *([f"loader {res.loader}: {res.loader_problem.detail}"] if res.loader_problem else [])]
        msg = (f"resolve said it does not start in {run.sysroot} ({'; '.join(why[:3])}), the target's loader started "
               "it")
    evidence = [*(m.text for m in run.loader_messages[:6]), *(n for n in run.notes if "outside" in n or "host" in n)]
    return [finding("D013", msg, evidence=cap(evidence), file=run.file)]


def check_tests(run: ProgramRun) -> list[Finding]:
    """D014: each failed Go test (the innermost: a failed subtest fails its parents too)."""
    failed = [t for t in run.tests if t.status == "fail"]
    names = {t.name for t in failed}
    out = []
    for t in failed:
        if any(n.startswith(t.name + "/") for n in names):
            continue
        lines = [ln for ln in t.output.splitlines() if ln.strip()][-8:]
        out.append(finding("D014", f"{t.package}: {t.name} failed on the target's ABI ({t.seconds:.2f} s)",
                           evidence=[t.name, *lines], file=run.file))
    return out
