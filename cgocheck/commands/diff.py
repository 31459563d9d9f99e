"""`cgocheck diff BASE HEAD`: what changed between two builds, and is any of it a regression.

Both sides are JSON reports (the versioned schema) or ELF files / folders inspected on the
spot; the comparison works on the JSON form, so a report saved on the main branch can be
compared with a binary built from a pull request.

Files are paired by their path relative to each side's common folder, then by basename;
with one file on each side they pair whatever their names. For each pair:

- findings, identified by rule + file basename + evidence (the file's own path reduced to
  the pair's name): a new one at or above the failing severity is a regression;
- DT_NEEDED libraries and DT_RPATH/DT_RUNPATH entries: a new one is a regression (it
  changes what the loader must find on the device);
- the highest GLIBC_x.y needed: a raise is a regression (with the symbols that force it);
- PT_INTERP, and the ABI (machine, class, byte order, float ABI, ARM VFP argument passing):
  any change is a regression; cgo linked before but not now is one too;
- undefined dynamic symbols (name@version), the Go version, link mode and build settings:
  reported as changes, regressions only with ``strict``.

Removed things are improvements. Configuration suppressions and the baseline apply to
both sides' findings before they are compared.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cgocheck.core import files
from cgocheck.core.errors import BadInput, shown
from cgocheck.core.glibc import key as glibc_key
from cgocheck.core.rules import Finding
from cgocheck.core.schema import report_error
from cgocheck.core.targets import Target
from cgocheck.policy import Policy, fails, filter_findings, finding_key
from cgocheck.results import Suppressed
from cgocheck.results.diff import CHANGE_KINDS, Change, Diff, Pair

# --- reading the two sides ---------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    label: str
    target: str | None
    files: tuple[Mapping[str, Any], ...]  # JSON "files" entries


def load_json_report(path: str) -> dict[str, Any]:
    """A cgocheck JSON report from PATH; anything else is bad input naming the file."""
    try:
        data = files.read_json(path, files.REPORT)
    except files.FileProblem as exc:
        if exc.missing:
            raise BadInput(f"{shown(path)}: no such file") from None
        raise BadInput(f"{shown(path)}: neither an ELF file nor a JSON report ({exc.problem})") from None
    check_json_report(data, shown(path))
    return data  # type: ignore[no-any-return]


def check_json_report(data: Any, label: str) -> None:
    if not isinstance(data, dict) or "schema_version" not in data or not isinstance(data.get("files"), list):
        raise BadInput(f"{label}: not a cgocheck JSON report (no schema_version/files)")
    major = str(data["schema_version"]).split(".", 1)[0]
    if major != "1":
        raise BadInput(f"{label}: report schema_version {data['schema_version']} is not supported (1.x)")
    for i, f in enumerate(data["files"]):
        if not isinstance(f, dict) or not isinstance(f.get("path"), str) or not isinstance(f.get("facts"), dict):
            raise BadInput(f"{label}: files[{i}] has no path or facts")
        for j, x in enumerate(f.get("findings", [])):
            if not isinstance(x, dict) or not all(isinstance(x.get(k), str) for k in ("rule", "severity", "message")):
                raise BadInput(f"{label}: files[{i}].findings[{j}] is not a finding")
    wrong = report_error(data)  # every field as its writer wrote it: the readers trust their types
    if wrong:
        raise BadInput(f"{label}: not a cgocheck JSON report ({wrong})")


def _names(paths: list[str]) -> dict[str, str]:
    """path -> name relative to the side's common folder (basename for a single file)."""
    if len(paths) <= 1:
        return {p: posixpath.basename(p) or p for p in paths}
    try:
        root = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    except ValueError:
        return {p: p for p in paths}
    return {p: os.path.relpath(os.path.abspath(p), root) for p in paths}


def _pairs(base: _Side, head: _Side) -> list[Pair]:
    bpaths = [f["path"] for f in base.files]
    hpaths = [f["path"] for f in head.files]
    if len(bpaths) == 1 and len(hpaths) == 1:
        return [Pair(posixpath.basename(hpaths[0]) or hpaths[0], bpaths[0], hpaths[0])]
    bn, hn = _names(bpaths), _names(hpaths)
    pairs: list[Pair] = []
    left = dict(bn)
    for hp in hpaths:
        match = next((bp for bp, name in left.items() if name == hn[hp]), None)
        if match is None:
            same = [bp for bp in left if posixpath.basename(bp) == posixpath.basename(hp)]
            match = same[0] if len(same) == 1 else None
        if match is not None:
            del left[match]
        pairs.append(Pair(hn[hp], match, hp))
    pairs += [Pair(name, bp, None) for bp, name in left.items()]
    return pairs


# --- comparing ---------------------------------------------------------------------------


def _keyed(findings: Iterable[Finding], path: str, name: str) -> dict[tuple[str, str, tuple[str, ...]], Finding]:

    out: dict[tuple[str, str, tuple[str, ...]], Finding] = {}
    for f in findings:
        rule, fname, ev = finding_key(f.rule, f.file, f.evidence, path)
        own = posixpath.basename(path)
        if fname == own:
            fname = name
            ev = tuple(e.replace(own, name) for e in ev)
        out.setdefault((rule, fname, ev), f)
    return out


def _undefined(facts: Mapping[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for s in facts.get("undefined") or ():
        label = s["name"] + (f"@{s['version']}" if s.get("version") else "")
        out[label] = s.get("library")
    return out


def _glibc(facts: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    mg = facts.get("max_glibc") or {}
    return mg.get("version"), list(mg.get("symbols") or ())


def _abi(facts: Mapping[str, Any]) -> dict[str, str]:
    h = facts.get("header") or {}
    arm = facts.get("arm_attributes") or {}
    out = {
        "machine": str(h.get("machine")),
        "ELF class": f"{h.get('elf_class')}-bit",
        "byte order": str(h.get("endian")),
        "float ABI": str(h.get("float_abi") or "-"),
    }
    if arm:
        out["ARM VFP args"] = str(arm.get("vfp_args") or "-")
    return out


def _go(facts: Mapping[str, Any]) -> dict[str, str]:
    go = facts.get("go")
    if not go:
        return {}
    out = {"cgo": "linked" if go.get("cgo_linked") else "not linked", "link mode": str(go.get("link_mode"))}
    bi = go.get("buildinfo") or {}
    if bi.get("go_version"):
        out["Go version"] = bi["go_version"]
    for s in bi.get("settings") or ():
        k = s.get("key", "")
        if k in ("CGO_ENABLED", "GOARCH", "GOOS", "GOARM", "-ldflags", "-tags", "-buildmode", "CGO_CFLAGS",
                 "CGO_LDFLAGS"):
            out[k] = s.get("value", "")
    return out


def _set_changes(kind: str, name: str, path: str | None, before: Iterable[str], after: Iterable[str], *,
                 regress_added: bool, details: Mapping[str, str] | None = None) -> list[Change]:
    b, a = list(dict.fromkeys(before)), list(dict.fromkeys(after))
    out = [Change(kind, name, "added", x, regression=regress_added, detail=(details or {}).get(x, ""), path=path)
           for x in a if x not in b]
    out += [Change(kind, name, "removed", x, path=path) for x in b if x not in a]
    return out


def _compare_pair(pair: Pair, bf: Mapping[str, Any], hf: Mapping[str, Any], bfind: list[Finding],
                  hfind: list[Finding], fail_on: str, strict: bool) -> list[Change]:
    name = pair.name
    hp = pair.head
    out: list[Change] = []
    bk, hk = _keyed(bfind, bf["path"], name), _keyed(hfind, hf["path"], name)
    for fk, f in hk.items():
        if fk not in bk:
            out.append(Change("finding", name, "added", f"{f.rule} {f.name}".strip(), detail=f.message,
                              regression=strict or fails(f, fail_on), rule=f.rule,
                              severity=f.severity, evidence=f.evidence, path=f.file or hp))
    for fk, f in bk.items():
        if fk not in hk:
            out.append(Change("finding", name, "removed", f"{f.rule} {f.name}".strip(), detail=f.message,
                              rule=f.rule, severity=f.severity, evidence=f.evidence, path=f.file or pair.base))
    b, h = bf["facts"], hf["facts"]
    out += _set_changes("library", name, hp, b.get("needed") or (), h.get("needed") or (), regress_added=True,
                        details={x: "a new library the device must provide" for x in h.get("needed") or ()})
    rp = [f"DT_RPATH {p}" for p in b.get("rpath") or ()] + [f"DT_RUNPATH {p}" for p in b.get("runpath") or ()]
    rh = [f"DT_RPATH {p}" for p in h.get("rpath") or ()] + [f"DT_RUNPATH {p}" for p in h.get("runpath") or ()]
    out += _set_changes("runpath", name, hp, rp, rh, regress_added=True,
                        details={x: "a new folder the loader searches first" for x in rh})
    (bv, _), (hv, hsyms) = _glibc(b), _glibc(h)
    if bv != hv:
        raised = hv is not None and (bv is None or glibc_key(hv) > glibc_key(bv))
        detail = f"forced by {', '.join(hsyms)}" if raised and hsyms else ""
        out.append(Change("glibc", name, "raised" if raised else "lowered", "highest GLIBC version", bv, hv,
                          regression=raised, detail=detail, path=hp))
    if b.get("interpreter") != h.get("interpreter"):
        out.append(Change("interpreter", name, "changed", "PT_INTERP", b.get("interpreter"), h.get("interpreter"),
                          regression=True, path=hp))
    ba, ha = _abi(b), _abi(h)
    for k in dict.fromkeys([*ba, *ha]):
        if ba.get(k) != ha.get(k):
            out.append(Change("abi", name, "changed", k, ba.get(k), ha.get(k), regression=True, path=hp))
    bu, hu = _undefined(b), _undefined(h)
    out += _set_changes("symbol", name, hp, bu, hu, regress_added=strict,
                        details={k: f"from {v}" for k, v in hu.items() if v})
    bg, hg = _go(b), _go(h)
    for k in dict.fromkeys([*bg, *hg]):
        if bg.get(k) != hg.get(k):
            lost_cgo = k == "cgo" and bg.get(k) == "linked"
            out.append(Change("go", name, "changed", k, bg.get(k), hg.get(k), regression=strict or lost_cgo,
                              path=hp))
    return out


def diff_reports(
    base: Mapping[str, Any],
    head: Mapping[str, Any],
    *,
    base_label: str,
    head_label: str,
    policy: Policy | None = None,
    strict: bool = False,
) -> Diff:
    """Compare two JSON reports (already checked with check_json_report); POLICY's
    suppressions and baseline act on both sides, its fail_on says which new findings fail."""
    policy = policy or Policy()
    fail_on = policy.fail_on
    sides = [_Side(base_label, base.get("target"), tuple(base["files"])),
             _Side(head_label, head.get("target"), tuple(head["files"]))]
    findings: list[dict[str, list[Finding]]] = [{}, {}]
    suppressed: list[Suppressed] = []
    for i, side in enumerate(sides):
        for f in side.files:
            kept, taken = filter_findings([Finding.from_json(x) for x in f.get("findings") or ()], f["path"], policy)
            findings[i][f["path"]] = kept
            if i == 1:
                suppressed += taken
    bmap = {f["path"]: f for f in sides[0].files}
    hmap = {f["path"]: f for f in sides[1].files}
    changes: list[Change] = []
    if base.get("target") != head.get("target"):
        changes.append(Change("file", "*", "changed", "target", base.get("target"), head.get("target"),
                              regression=strict))
    pairs = _pairs(sides[0], sides[1])
    for pair in pairs:
        if pair.base is not None and pair.head is not None:
            changes += _compare_pair(pair, bmap[pair.base], hmap[pair.head], findings[0][pair.base],
                                     findings[1][pair.head], fail_on, strict)
        elif pair.head is not None:
            changes.append(Change("file", pair.name, "added", pair.name, path=pair.head, regression=strict))
            for hf in findings[1][pair.head]:
                changes.append(Change("finding", pair.name, "added", f"{hf.rule} {hf.name}".strip(), detail=hf.message,
                                      regression=strict or fails(hf, fail_on), rule=hf.rule,
                                      severity=hf.severity, evidence=hf.evidence, path=hf.file or pair.head))
        else:
            changes.append(Change("file", pair.name, "removed", pair.name, path=pair.base))
    order = list(CHANGE_KINDS)
    changes.sort(key=lambda c: (not c.regression, order.index(c.kind), c.file, c.change, c.subject))
    return Diff(base_label, head_label, base.get("target"), head.get("target"), fail_on, strict, tuple(pairs),
                tuple(changes), tuple(suppressed))




def is_elf_input(path: str) -> bool:
    """An ELF file or a folder (inspected now), rather than a saved JSON report."""
    from cgocheck.elf import sniff

    p = Path(path)
    if p.is_dir():
        return True
    try:
        head = files.read_head(p, 64)
    except files.FileProblem as exc:
        if exc.missing:
            raise BadInput(f"{shown(path)}: no such file") from None
        return False  # not a regular file: reading it as a report says so
    return sniff(head) is None


def side(
    path: str,
    *,
    target: Target | None,
    sysroot: str | None,
    glibc_floor: str | None,
    no_cgo: bool,
    no_dwarf: bool,
    glibcxx_floor: str | None = None,
) -> dict[str, Any]:
    """The JSON report of one side: read as it is, or made by inspecting the ELF file(s) now."""
    if not is_elf_input(path):
        return load_json_report(path)
    from cgocheck.commands.inspect import inspect
    from cgocheck.policy import report_exit
    from cgocheck.report.jsonfmt import report_to_json

    report = inspect([path], target=target, sysroot=sysroot, glibc_floor=glibc_floor, glibcxx_floor=glibcxx_floor,
                     expect_cgo=not no_cgo,
                     dwarf=not no_dwarf)
    if report.errors:
        raise BadInput(report.errors[0].message)
    return report_to_json(report, report_exit(report, "error"))
