"""Human-readable rendering with tabulate."""

from __future__ import annotations

import posixpath
from collections import Counter

from tabulate import tabulate

from cgocheck.elf.model import ElfFacts
from cgocheck.report import Report
from cgocheck.rules import Finding


def _kv(rows: list[tuple[str, str]]) -> str:
    return tabulate(rows, tablefmt="plain")


def _join(items: tuple[str, ...] | list[str], empty: str = "-") -> str:
    return ", ".join(items) if items else empty


def facts_rows(facts: ElfFacts, *, verbose: bool = False) -> list[tuple[str, str]]:
    h = facts.header
    flags = f"0x{h.flags:x}" + (f" ({', '.join(h.flags_decoded)})" if h.flags_decoded else "")
    link = "static" if facts.static else "dynamic"
    rows = [
        ("machine", f"{h.machine} ({h.machine_code}), {h.elf_class}-bit {h.endian}-endian"),
        ("type", f"{h.file_type}, {link}, {'stripped' if facts.stripped else 'not stripped'}"),
        ("e_flags", flags),
        ("interpreter", facts.interpreter or "-"),
        ("needed", _join(facts.needed)),
    ]
    if facts.soname:
        rows.append(("soname", facts.soname))
    if facts.rpath:
        rows.append(("rpath", ":".join(facts.rpath)))
    if facts.runpath:
        rows.append(("runpath", ":".join(facts.runpath)))
    for vn in facts.verneed:
        rows.append((f"versions from {vn.library}", _join(sorted(vn.versions, key=_vkey))))
    top, forcing = facts.max_glibc()
    if top:
        rows.append(("highest glibc", f"{top} forced by {_join(list(forcing))}"))
    rows.append(("undefined symbols", str(len(facts.undefined))))
    if verbose:
        for s in facts.undefined:
            rows.append(("", f"{s.name}@{s.version}" if s.version else s.name))
    if facts.abi_tag:
        rows.append((".note.ABI-tag", facts.abi_tag))
    if facts.comment:
        rows.append((".comment", " | ".join(facts.comment)))
    a = facts.arm_attributes
    if a is not None:
        rows.append(
            (
                ".ARM.attributes",
                f"CPU {a.cpu_arch or '?'} ({a.cpu_name or '-'}), FP {a.fp_arch or '-'}, VFP args {a.vfp_args or '-'}",
            )
        )
    go = facts.go
    if go is not None:
        bi = go.buildinfo
        if bi is not None:
            rows.append(("go", f"{bi.go_version} ({bi.layout} build info)"))
            if bi.path:
                rows.append(("go main", bi.path + (f" {bi.main.version}" if bi.main else "")))
            for setting in bi.settings:
                if setting.key.startswith(("CGO_", "GO", "-")) or verbose:
                    rows.append((f"  {setting.key}", setting.value))
        rows.append(("cgo", ("linked" if go.cgo_linked else "not linked") + f" ({_join(go.cgo_evidence)})"))
        rows.append(("linking", f"{go.link_mode} ({_join(go.link_mode_evidence)})"))
    langs = Counter(u.language for u in facts.dwarf)
    if facts.dwarf:
        rows.append(("DWARF units", ", ".join(f"{n} {lang}" for lang, n in langs.most_common())))
        producers = Counter(u.producer.split(" -", 1)[0] for u in facts.dwarf if u.language != "Go" and u.producer)
        for prod, n in producers.most_common():
            rows.append(("  producer", f"{prod} ({n} units)"))
        dirs = Counter(posixpath.dirname(p) for u in facts.dwarf if u.language in ("C", "C++") for p in u.files)
        for d, n in sorted(dirs.items()):
            if verbose or not d.startswith("/_/GOROOT"):
                rows.append(("  C files from", f"{d} ({n})"))
    elif not facts.has_debug_info:
        rows.append(("DWARF", "none"))
    for w in facts.warnings:
        rows.append(("warning", w))
    return rows


def _vkey(v: str) -> tuple[str, tuple[int, ...]]:
    from cgocheck.glibcver import split

    s = split(v)
    return (s[0], s[1]) if s else (v, ())


def findings_table(findings: list[Finding] | tuple[Finding, ...]) -> str:
    rows = [
        (
            f.severity,
            f.rule,
            f.name,
            f.message + ("\n  evidence: " + "; ".join(f.evidence) if f.evidence else "") + f"\n  fix: {f.fix}",
        )
        for f in findings
    ]
    return tabulate(rows, headers=["severity", "rule", "name", "message"], tablefmt="simple")


def render(report: Report, *, verbose: bool = False) -> str:
    parts: list[str] = []
    for fr in report.files:
        parts.append(f"== {fr.facts.path}")
        parts.append(_kv(facts_rows(fr.facts, verbose=verbose)))
        if fr.resolution is not None and hasattr(fr.resolution, "table_rows"):
            parts.append(_kv(fr.resolution.table_rows(verbose=verbose)))
        if fr.findings:
            parts.append(findings_table(fr.findings))
        elif report.target:
            parts.append(f"no findings for {report.target}")
        parts.append("")
    c = report.counts()
    tail = f"{len(report.files)} file(s) inspected"
    if report.target:
        tail += f" for {report.target}"
    tail += f": {c['error']} error(s), {c['warning']} warning(s), {c['info']} info"
    if report.errors:
        tail += f"; {len(report.errors)} file(s) could not be read"
    parts.append(tail)
    return "\n".join(parts) + "\n"
