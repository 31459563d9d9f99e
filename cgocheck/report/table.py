"""Human-readable rendering with tabulate."""

from __future__ import annotations

import posixpath
import shlex
from collections import Counter
from typing import TYPE_CHECKING

from tabulate import tabulate

from cgocheck.core.glibc import cxx_versions
from cgocheck.core.rules import Finding
from cgocheck.elf.model import ElfFacts
from cgocheck.results import Report

if TYPE_CHECKING:
    from cgocheck.build.record import BuildRecord, PrebuiltObject
    from cgocheck.loader.model import Resolution
    from cgocheck.report.formats import RenderContext
    from cgocheck.results.diff import Diff


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
    for family, (newest, forced_by) in cxx_versions(facts.undefined).items():
        rows.append((f"highest {family}", f"{newest} forced by {_join(list(forced_by))}"))
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
            for dep in bi.deps:
                by = f" => {dep.replaced_by.path} {dep.replaced_by.version}" if dep.replaced_by else ""
                sum_ = f" {dep.sum}" if verbose and dep.sum else ""
                rows.append(("go dep", f"{dep.path} {dep.version}{by}{sum_}"))
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
    from cgocheck.core.glibc import split

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


def _short(argv: tuple[str, ...] | list[str], limit: int = 400) -> str:
    text = shlex.join(argv)  # the command as a shell would run it: -ldflags=-s -w is one word
    return text if len(text) <= limit else text[:limit] + " ..."


def build_rows(rec: BuildRecord, *, verbose: bool = False) -> list[tuple[str, str]]:
    """The verify build as key/value rows."""
    rows: list[tuple[str, str]] = [
        ("build", f"{'ok' if rec.ok else 'FAILED'} (exit {rec.returncode}) in {rec.seconds:.2f} s"),
        ("command", _short(rec.argv)),
        ("go", f"{rec.go_version} ({rec.goroot})"),
        ("compiler", f"{rec.compiler}: {rec.cc or '-'} (targets {rec.cc_machine or '?'})"),
        ("sysroot", rec.sysroot or "-"),
        ("linking", rec.link_mode),
    ]
    if len(rec.binaries) > 1:
        rows.append(("binaries", f"{len(rec.binaries)}: " + ", ".join(posixpath.basename(b) for b in rec.binaries)))
    mods = rec.modules
    if mods.mode != "none":
        how = {"vendor": "vendor/ (-mod=vendor)", "proxy": "fetched with this shell's settings, built offline"}
        where = f", workspace {mods.workspace}" if mods.workspace else ""
        rows.append(("modules", how.get(mods.mode, mods.mode) + where))
        for k, v in mods.settings:
            rows.append((f"  {k}", v))
        for prob in mods.problems:
            rows.append(("  unavailable", f"{prob.module}: {prob.error[:200]}"))
    finals = [c for c in rec.calls if c.final_link]
    if finals:
        rows.append(("final link", _short(finals[-1].argv, 100_000 if verbose else 400)))
    n_compile = sum(1 for c in rec.calls if c.kind == "compile")
    rows.append(("compiler calls", f"{n_compile} compile, {sum(1 for c in rec.calls if c.kind == 'link')} link"))
    for k, v in rec.env:
        rows.append((f"  env {k}", v))
    for m in rec.pkgconfig:
        where = "sysroot" if m.in_sysroot else (m.klass or "?")
        line = f"{m.version or '?'} from {m.pc_path or '?'} ({where})"
        if m.sysroot_version or m.host_version:
            line += f"; sysroot {m.sysroot_version or '-'}, host {m.host_version or '-'}"
        if m.drift:
            line += " (drift)"
        if m.replayed:
            line += " [asked again: package from Go's cache]"
        rows.append((f"pkg-config {m.module}", line))
    by_class = Counter(u.klass for u in rec.paths)
    rows.append(("paths used", ", ".join(f"{n} {k}" for k, n in sorted(by_class.items())) or "-"))
    for u in rec.paths:
        if u.klass == "host" or (verbose and u.flag != "header") or (u.flag != "header" and u.klass == "sysroot"):
            tail = f" ({u.reason})" if u.reason else ""
            rows.append((f"  {u.flag}", f"{u.path} [{u.klass}]{tail}"))
    # units of prebuilt members (their DWARF) are counted with the members, on their own line
    producers = Counter(f"{u.compiler} {u.version or ''}".strip() for u in rec.c_units if u.origin != "prebuilt")
    if producers:
        rows.append(("C units", ", ".join(f"{n} by {p}" for p, n in producers.most_common())))
    if rec.prebuilt:
        from cgocheck.build.record import comment_identity

        made = Counter(_ident_text(comment_identity(o.producer)) for o in rec.prebuilt)
        rows.append(("prebuilt members", ", ".join(f"{n} by {p}" for p, n in made.most_common())))
    for h in rec.headers:
        differs = h.sysroot_version != h.version and rec.sysroot
        own = f"; the sysroot has {h.sysroot_version or 'none'}" if differs else ""
        rows.append((f"{h.library} headers", f"{h.version or '?'} from {h.folder} [{h.klass}]{own}"))
    for pkg in rec.cgo_packages:
        if pkg.module:
            rows.append(("C code from", f"{pkg.origin}: {_join(pkg.c_files) if pkg.c_files else 'cgo only'}"))
    rows += prebuilt_rows(rec)
    for w in rec.linker_warnings[:8]:
        rows.append(("linker warning", w))
    for n in rec.notes:
        rows.append(("note", n))
    if rec.work_dir:
        rows.append(("work folder", rec.work_dir))
    return rows


def _ident_text(ident: tuple[str, str | None] | None) -> str:
    return "an unknown compiler" if ident is None else f"{ident[0]} {ident[1] or ''}".strip()


def _describe(objs: list[PrebuiltObject]) -> str:
    kinds = Counter(
        " ".join(x for x in (o.machine or f"e_machine {o.machine_code}", f"{o.elf_class}-bit", f"{o.endian}-endian",
                             f"{o.float_abi}-float" if o.float_abi else "",
                             f"Tag_CPU_arch {o.cpu_arch}" if o.cpu_arch else "") if x)
        for o in objs
    )
    return ", ".join(f"{n} {k}" for k, n in kinds.most_common())


def prebuilt_rows(rec: BuildRecord) -> list[tuple[str, str]]:
    """One row per prebuilt file (an archive's members counted) and one per problem in it."""
    rows: list[tuple[str, str]] = []
    by_path: dict[str, list[PrebuiltObject]] = {}
    for o in rec.prebuilt:
        by_path.setdefault(o.path, []).append(o)
    files = {f.path: f for f in rec.prebuilt_files}
    for path in dict.fromkeys([*files, *by_path]):
        objs, f = by_path.get(path, []), files.get(path)
        bits = []
        if f is not None and f.kind == "archive":
            extra = f" (+{f.other_members} not ELF)" if f.other_members else ""
            bits.append(f"{len(objs)} member{'s' if len(objs) != 1 else ''}{extra}: {_describe(objs) or '-'}")
        else:
            bits.append(_describe(objs) or (f.kind if f else "-"))
        from cgocheck.build.record import comment_identity

        made = Counter(_ident_text(comment_identity(o.producer)) for o in objs)
        if made:
            bits.append("by " + ", ".join(f"{n} {p}" if len(made) > 1 else p for p, n in made.most_common()))
        libcs = Counter(o.libc for o in objs if o.libc)
        if libcs:
            bits.append("libc " + ", ".join(f"{k} ({n})" for k, n in libcs.most_common()))
        if f is not None:
            bits.append(f"from {f.origin_detail or f.origin}, via {f.source}")
        rows.append(("prebuilt", f"{path}: {'; '.join(bits)}"))
        if f is not None and f.problem:
            rows.append(("  problem", f.problem))
    return rows


def render(report: Report, *, verbose: bool = False) -> str:
    parts: list[str] = []
    if report.build is not None:
        parts.append(f"== build of {report.build.package} in {report.build.source_dir} for {report.build.target}")
        parts.append(_kv(build_rows(report.build, verbose=verbose)))
        if report.build_findings:
            parts.append(findings_table(report.build_findings))
        parts.append("")
    for fr in report.files:
        parts.append(f"== {fr.facts.path}")
        parts.append(_kv(facts_rows(fr.facts, verbose=verbose)))
        if fr.resolution is not None:
            parts.append(_kv(resolution_rows(fr.resolution, verbose=verbose)))
        run = report.run_of(fr.facts.path)
        if run is not None:
            from cgocheck.report.runs import run_rows

            parts.append(_kv(run_rows(run, verbose=verbose)))
        if fr.findings:
            parts.append(findings_table(fr.findings))
        elif report.target:
            parts.append(f"no findings for {report.target}")
        parts.append("")
    for note in report.notes:
        parts.append(f"note: {note}")
    c = report.counts()
    tail = f"{len(report.files)} file(s) inspected"
    if report.target:
        tail += f" for {report.target}"
    tail += f": {c['error']} error(s), {c['warning']} warning(s), {c['info']} info"
    if report.errors:
        tail += f"; {len(report.errors)} file(s) could not be read"
    parts.append(tail)
    return "\n".join(parts) + "\n"


def render_diff(diff: Diff, ctx: RenderContext) -> str:
    from cgocheck.results.diff import CHANGE_KINDS

    parts = [f"base: {diff.base_label}" + (f" ({diff.base_target})" if diff.base_target else ""),
             f"head: {diff.head_label}" + (f" ({diff.head_target})" if diff.head_target else ""), ""]
    for pair in diff.pairs:
        if pair.base and pair.head and pair.base != pair.head:
            parts.append(f"paired: {pair.base} -> {pair.head}")
    rows = []
    for c in diff.changes:
        what = c.subject if c.change in ("added", "removed") else f"{c.subject}: {c.before or '-'} -> {c.after or '-'}"
        if c.detail:
            what += f"\n  {c.detail}"
        rows += [("REGRESSION" if c.regression else "", CHANGE_KINDS[c.kind], c.file, c.change, what)]
    if rows:
        parts.append(tabulate(rows, headers=["", "kind", "file", "change", "what"], tablefmt="simple"))
    if diff.suppressed:
        parts.append(f"{len(diff.suppressed)} finding(s) in HEAD suppressed by the configuration")
    parts.append(diff.summary())
    return "\n".join(parts) + "\n"


def resolution_rows(res: Resolution, verbose: bool = False) -> list[tuple[str, str]]:
    """A resolution as key/value rows (the table, Markdown and HTML show the same)."""
    s = res.setup
    rows: list[tuple[str, str]] = [("sysroot", res.sysroot)]
    if s.flavour == "static":
        rows.append(("resolve", "statically linked: no loader, nothing to resolve"))
        return rows
    if res.loader_problem:
        rows.append(("loader", f"{res.loader}: {res.loader_problem.detail}"))
    elif res.loader:
        where = f" -> {res.loader_path}" if res.loader_path and res.loader_path != res.loader else ""
        rows.append(("loader", f"{res.loader}{where} ({s.flavour})"))
    order = ["RPATH (requester, then its loaders)", "RUNPATH (requester)"]
    if s.flavour == "glibc":
        order.append(f"ld.so.conf ({len(s.ld_so_conf_dirs)} folders)")
    else:
        order = ["RPATH/RUNPATH (requester, then its loaders)"]
    order.append("default: " + ", ".join(s.default_dirs))
    rows.append(("search order", " > ".join(order)))
    if verbose and s.ld_so_conf_dirs:
        rows.append(("  ld.so.conf", ", ".join(s.ld_so_conf_dirs)))
    rows.append(("  not used", "LD_LIBRARY_PATH, LD_PRELOAD (a clean environment)"))
    in_scope = [lib for lib in res.libraries if lib.in_scope]
    missing = f", {len(res.missing_libraries)} missing" if res.missing_libraries else ""
    rows.append(("libraries", f"{len(in_scope)} in load order{missing}"))
    for i, lib in enumerate(res.libraries, 1):
        via = lib.found_via + (f" of {lib.source}" if lib.source and verbose else "")
        scope = "" if lib.in_scope else " (not in the symbol scope)"
        where = f" => {lib.path}" if lib.path != lib.name else ""
        rows.append((f"  {i}", f"{lib.name}{where} [{via}]{scope}"))
        if verbose:
            for c in lib.skipped:
                rows.append(("     skipped", f"{c.path}: {c.reason}"))
            for n in lib.notes:
                rows.append(("     note", n))
    for m in res.missing_libraries:
        rows.append(("  missing", f"{m.name} ({m.problem}, needed by {', '.join(m.needed_by)}): {m.detail}"))
    n_def = sum(1 for b in res.bindings if b.default is False)
    rows.append(
        (
            "symbols",
            f"{len(res.bindings)} bound ({n_def} to non-default versions), "
            f"{len(res.unresolved_symbols)} unresolved, {len(res.weak_unresolved)} weak unresolved",
        )
    )
    if verbose:
        for b in res.bindings:
            ver = f"@{b.version}" if b.version else ""
            got = f"{'@@' if b.default else '@'}{b.provider_version}" if b.provider_version else ""
            kind = " (copy)" if b.kind == "copy" else ""
            rows.append(("  bind", f"{b.requester}: {b.symbol}{ver} -> {b.provider} {b.symbol}{got}{kind}"))
    for u in res.unresolved_symbols:
        ver = f"@{u.version}" if u.version else ""
        rows.append(("  unresolved", f"{u.symbol}{ver} (required by {u.requester}): {u.detail}"))
    if verbose:
        for u in res.weak_unresolved:
            rows.append(("  weak unresolved", f"{u.symbol} ({u.requester})"))
        for u in res.unreferenced_symbols:
            rows.append(("  unreferenced", f"{u.symbol} ({u.requester}): no relocation names it, never looked up"))
    for mv in res.missing_versions:
        rows.append(("version missing", f"`{mv.version}' not found in {mv.library} (required by {mv.requester})"))
    g = res.glibc
    if g.required:
        rows.append(("glibc needed", f"{g.required} forced by {', '.join(g.forcing) or '-'}"))
    if g.sysroot:
        rows.append(("sysroot glibc", f"{g.sysroot} ({g.sysroot_libc})"))
    if g.floor:
        verdict = "above the floor" if g.above_floor else "within the floor"
        rows.append(("glibc floor", f"{g.floor}: {verdict}"))
    cx = res.glibcxx
    if cx is not None:
        if cx.required:
            rows.append(("libstdc++ needed", f"{cx.required} forced by {', '.join(cx.forcing) or '-'}"))
        if cx.sysroot:
            rows.append(("sysroot libstdc++", f"{cx.sysroot} ({cx.sysroot_libc})"))
        if cx.floor:
            rows.append(("glibcxx floor", f"GLIBCXX_{cx.floor}: {'above' if cx.above_floor else 'within'} the floor"))
    notes = (*s.notes, *res.notes)
    if verbose:
        for n in notes:
            rows.append(("note", n))
    elif notes:
        rows.append(("notes", f"{len(notes)} (use --verbose to see them)"))
    return rows
