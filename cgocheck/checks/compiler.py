"""C001-C007: the C compiler, what it produced and the prebuilt objects the link took, against
the target. Pure."""

from __future__ import annotations

import posixpath
from collections import Counter

from cgocheck.build.record import BuildRecord, PrebuiltFile, PrebuiltObject, comment_identity
from cgocheck.core.rules import Finding, finding
from cgocheck.core.targets import Target
from cgocheck.elf.header import machine_name
from cgocheck.elf.model import ElfFacts

_ARCH_ALIASES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "i386": "i386",
    "i486": "i386",
    "i586": "i386",
    "i686": "i386",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "riscv64": "riscv64",
    "powerpc64le": "powerpc64le",
    "ppc64le": "powerpc64le",
    "s390x": "s390x",
    "mips64el": "mips64el",
}


def _norm_triplet(t: str) -> tuple[str, str]:
    """(arch, abi) of a triplet: 'armv7-unknown-linux-gnueabihf' -> ('arm', 'gnueabihf')."""
    parts = t.strip().split("-")
    arch = parts[0]
    arch = "arm" if arch.startswith("arm") and not arch.startswith("arm64") else _ARCH_ALIASES.get(arch, arch)
    abi = parts[-1].split(".")[0] if len(parts) >= 3 else ""  # zig: gnu.2.17
    if abi == "gnuabi64":
        abi = "gnu"
    return arch, abi


def compiler_matches(machine: str, target: Target, *, check_abi: bool = True) -> bool:
    got_arch, got_abi = _norm_triplet(machine)
    want_arch, want_abi = _norm_triplet(target.triplet)
    if got_arch != want_arch:
        return False
    return not (check_abi and got_abi and want_abi and got_abi != want_abi)


def check_compiler(record: BuildRecord, target: Target, facts: ElfFacts | None = None) -> list[Finding]:
    out: list[Finding] = []
    # a custom compiler may be a wrapper (musl-gcc) whose -dumpmachine names the gcc it wraps
    if record.cc_machine and not compiler_matches(record.cc_machine, target, check_abi=record.compiler != "custom"):
        out.append(
            finding(
                "C001",
                f"CC ({record.cc}) targets {record.cc_machine}, {target.name} needs {target.triplet}",
                evidence=[f"{record.cc} -dumpmachine: {record.cc_machine}"],
            )
        )
    want = record.expect_producer
    if want:
        accept = {"GNU": ("GNU",), "clang": ("clang", "zig")}.get(want, (want,))
        other = [u for u in record.c_units if u.origin != "prebuilt" and u.compiler not in (*accept, "unknown")]
        if other:
            seen = sorted({f"{u.compiler} {u.version or ''}".strip() for u in other})
            out.append(
                finding(
                    "C002",
                    f"declared {record.compiler} ({want}), but {len(other)} C unit(s) "
                    f"were produced by {', '.join(seen)}",
                    evidence=[f"{u.name}: {u.producer}" for u in other[:4]],
                )
            )
        elif not record.c_units and facts is not None and facts.comment:
            # no C DWARF (stripped, or -g dropped): .comment still names the compilers; crt
            # files from gcc put "GCC:" there in clang builds too, so only clang's mark counts
            clang = [c for c in facts.comment if "clang version" in c]
            if (want == "GNU" and clang) or (want == "clang" and not clang):
                out.append(
                    finding(
                        "C002",
                        f"declared {record.compiler} ({want}), but .comment says otherwise",
                        evidence=[f".comment: {' | '.join(facts.comment)}"],
                    )
                )
    return out


def _foreign(o: PrebuiltObject, target: Target) -> tuple[str, str] | None:
    """(what the member is, what the target is) where it cannot be linked into the target."""
    arch = target.arch
    if o.machine_code != arch.machine_code:
        return o.machine or machine_name(o.machine_code), machine_name(arch.machine_code)
    if o.elf_class != arch.elf_class:
        return f"{o.elf_class}-bit", f"{arch.elf_class}-bit"
    if o.endian != arch.endian:
        return f"{o.endian}-endian", f"{arch.endian}-endian"
    arm_abis = ("hard", "soft")
    if arch.machine == "EM_ARM" and arch.float_abi in arm_abis and o.float_abi in arm_abis \
            and o.float_abi != arch.float_abi:
        return f"{o.float_abi}-float", f"{arch.float_abi}-float ({target.name})"
    if arch.machine == "EM_RISCV" and o.float_abi and arch.float_abi and o.float_abi != arch.float_abi:
        return f"{o.float_abi}-float ABI", f"{arch.float_abi}-float ABI"
    return None


def _member_line(o: PrebuiltObject) -> str:
    bits = [o.machine or machine_name(o.machine_code), f"{o.elf_class}-bit", f"{o.endian}-endian"]
    if o.float_abi:
        bits.append(f"{o.float_abi}-float")
    if o.machine_code == 40:
        bits.append(f"Tag_ABI_VFP_args {o.vfp_args or 'absent'}")
        if o.cpu_arch:
            bits.append(f"Tag_CPU_arch {o.cpu_arch}")
    bits.append(f"e_flags 0x{o.flags:x}")
    if o.producer:
        bits.append(f".comment {o.producer[0]!r}")
    return f"{o.member or o.path}: {', '.join(bits)}"


def _files(record: BuildRecord) -> list[tuple[str, PrebuiltFile | None, list[PrebuiltObject]]]:
    """(path, file, members) for every prebuilt file, in the order the record has them."""
    by_path: dict[str, list[PrebuiltObject]] = {}
    for o in record.prebuilt:
        by_path.setdefault(o.path, []).append(o)
    known = {f.path: f for f in record.prebuilt_files}
    paths = list(dict.fromkeys([*known, *by_path]))
    return [(p, known.get(p), by_path.get(p, [])) for p in paths]


def _where(path: str, f: PrebuiltFile | None, objs: list[PrebuiltObject]) -> str:
    source = f.source if f else (objs[0].source if objs else "link")
    origin = f" (from {f.origin_detail or f.origin})" if f and f.origin else ""
    return f"{path} via {source}{origin}"


def _short(path: str, objs: list[PrebuiltObject]) -> str:
    return posixpath.basename(path) if objs and objs[0].member is not None else path


def check_prebuilt(record: BuildRecord, target: Target) -> list[Finding]:
    """C004-C007, one finding per prebuilt file (an archive's members counted): members for
    another machine, class, byte order or float ABI (C004), compiled by another compiler
    than the build's (C005) or against another C library than the target's (C006), and
    files that could not be read whole (C007)."""
    out: list[Finding] = []
    build_cc = build_compiler(record)
    for path, f, objs in _files(record):
        name, where, total = _short(path, objs), _where(path, f, objs), len(objs)
        groups: dict[tuple[str, str], list[PrebuiltObject]] = {}
        for o in objs:
            why = _foreign(o, target)
            if why:
                groups.setdefault(why, []).append(o)
        if groups:
            parts = [f"{len(ms)} of {total} member{'s' if total != 1 else ''} "
                     f"{'are' if len(ms) != 1 else 'is'} {what}, the target is {want}"
                     for (what, want), ms in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
            bad = [o for ms in groups.values() for o in ms]
            out.append(finding("C004", f"{name}: {'; '.join(parts)}",
                               evidence=[where, *(_member_line(o) for o in bad[:MAX_SHOWN])]))
        origin = f.origin if f else ""
        if build_cc is not None and origin not in ("sysroot", "toolchain", "go"):
            other: dict[str, list[PrebuiltObject]] = {}
            for o in objs:
                ident = comment_identity(o.producer)
                if ident is not None and not same_compiler(ident, build_cc):
                    other.setdefault(_ident_text(ident), []).append(o)
            if other:
                parts = [f"{len(ms)} of {total} member{'s' if total != 1 else ''} "
                         f"{'were' if len(ms) != 1 else 'was'} compiled by {who}"
                         for who, ms in sorted(other.items(), key=lambda kv: -len(kv[1]))]
                shown = [o for ms in other.values() for o in ms][:MAX_SHOWN]
                out.append(finding(
                    "C005", f"{name}: {'; '.join(parts)}, the build's C compiler is {_ident_text(build_cc)}",
                    evidence=[where, *(f"{o.member or o.path}: .comment {' | '.join(o.producer)}" for o in shown)]))
        libcs: dict[str, list[PrebuiltObject]] = {}
        for o in objs:
            if o.libc and o.libc != target.libc:
                libcs.setdefault(o.libc, []).append(o)
        for libc, ms in libcs.items():
            out.append(finding(
                "C006", f"{name}: {len(ms)} of {total} member{'s' if total != 1 else ''} "
                        f"{'were' if len(ms) != 1 else 'was'} compiled against {libc}, the target's C library is "
                        f"{target.libc}",
                evidence=[where, *(f"{o.member or o.path}: {', '.join(o.libc_evidence)}" for o in ms[:MAX_SHOWN])]))
        if f is not None and f.problem:
            out.append(finding("C007", f"{name}: {f.problem}", evidence=[where]))
    return out


MAX_SHOWN = 4

def build_compiler(record: BuildRecord) -> tuple[str, str | None] | None:
    """(family, version) of the build's own C compiler: the producer most of the C units the
    build compiled name, else (a failed or cached build) the preset's family alone."""
    units = Counter((u.compiler, u.version) for u in record.c_units if u.origin == "user" and u.compiler != "unknown")
    if units:
        return units.most_common(1)[0][0]
    return (record.expect_producer, None) if record.expect_producer else None


def _major(v: str | None) -> str | None:
    return v.split(".")[0] if v else None


def same_compiler(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    """Same family (zig is clang) and, where both are known, the same major version."""
    fam = {"zig": "clang"}
    if fam.get(a[0], a[0]) != fam.get(b[0], b[0]):
        return False
    return not (a[1] and b[1] and _major(a[1]) != _major(b[1]))


def _ident_text(ident: tuple[str, str | None]) -> str:
    return f"{ident[0]} {ident[1]}" if ident[1] else ident[0]


def check_c_units(record: BuildRecord, facts: ElfFacts | None) -> list[Finding]:
    """C003: cgo is linked in but no C unit carries DWARF."""
    if facts is not None and facts.go is not None and facts.go.cgo_linked and not record.c_units:
        return [finding("C003", "no C unit in the binary carries DWARF", evidence=[facts.path])]
    return []
