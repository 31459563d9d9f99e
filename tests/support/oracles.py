"""Differential oracles for the ELF façade and the build info parser: binutils readelf's
and ``go version -m``'s own output, parsed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict

from cgocheck.build import toolchains
from cgocheck.elf.model import ElfFacts, GoBuildInfo, GoModule
from tests.support.cli import run
from tests.support.need import need_tool


@dataclass
class ReadelfView:
    machine: str
    elf_class: int
    endian: str
    file_type: str
    flags: int
    interpreter: str | None
    needed: list[str]
    soname: str | None
    rpath: list[str]
    runpath: list[str]
    verneed: dict[str, list[str]]
    undefined: set[tuple[str, str | None]]

    @property
    def max_glibc(self) -> str | None:
        """The highest GLIBC_x.y of the undefined symbols, worked out here from readelf's
        versions (not by cgocheck's code)."""
        best: tuple[tuple[int, ...], str] | None = None
        for _, v in self.undefined:
            m = re.fullmatch(r"GLIBC_(\d+(?:\.\d+)*)", v or "")
            if m:
                k = tuple(int(x) for x in m.group(1).split("."))
                if best is None or k > best[0]:
                    best = (k, v or "")
        return best[1] if best else None


def readelf(path: Path) -> ReadelfView:
    """Parse binutils readelf's own output: the differential oracle for the ELF façade."""
    need_tool("readelf")
    h = run(["readelf", "-h", "-W", str(path)]).stdout
    fields = dict(re.findall(r"^\s+([^:]+):\s+(.*)$", h, re.M))
    dyn = run(["readelf", "-d", "-W", str(path)]).stdout
    lp = run(["readelf", "-l", "-W", str(path)]).stdout
    interp = re.search(r"Requesting program interpreter: (.*)\]", lp)
    ver = run(["readelf", "-V", "-W", str(path)]).stdout
    verneed: dict[str, list[str]] = {}
    m = re.search(r"Version needs section.*?(?=\n\n|\Z)", ver, re.S)
    if m:
        lib = None
        for line in m.group(0).splitlines():
            fm = re.search(r"File: (\S+)", line)
            if fm:
                lib = fm.group(1)
                verneed[lib] = []
            nm = re.search(r"Name: (\S+)", line)
            if nm and lib:
                verneed[lib].append(nm.group(1))
    syms = run(["readelf", "--dyn-syms", "-W", str(path)]).stdout
    undefined: set[tuple[str, str | None]] = set()
    for line in syms.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[6] == "UND" and parts[0].endswith(":"):
            name = parts[7]
            version = None
            if "@" in name:
                name, _, version = name.partition("@")
                version = version.lstrip("@")
            undefined.add((name, version))
    etype = fields.get("Type", "")
    machine_line = fields.get("Machine", "")
    return ReadelfView(
        machine=machine_line.strip(),
        elf_class=64 if "ELF64" in fields.get("Class", "") else 32,
        endian="little" if "little" in fields.get("Data", "") else "big",
        file_type=etype.split()[0] if etype else "",
        flags=int(fields.get("Flags", "0x0").split(",")[0], 16),
        interpreter=interp.group(1) if interp else None,
        needed=re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", dyn),
        soname=next(iter(re.findall(r"\(SONAME\)\s+Library soname: \[(.*?)\]", dyn)), None),
        rpath=[p for v in re.findall(r"\(RPATH\)\s+Library rpath: \[(.*?)\]", dyn) for p in v.split(":")],
        runpath=[p for v in re.findall(r"\(RUNPATH\)\s+Library runpath: \[(.*?)\]", dyn) for p in v.split(":")],
        verneed=verneed,
        undefined=undefined,
    )


# readelf -h's machine names -> e_machine (the machines of the sysroots, the host and the
# Go toolchains' targets)
READELF_MACHINES = {
    "Advanced Micro Devices X86-64": 62,
    "AArch64": 183,
    "ARM": 40,
    "RISC-V": 243,
    "Intel 80386": 3,
    "PowerPC64": 21,
    "IBM S/390": 22,
    "MIPS R3000": 8,
    "LoongArch": 258,
}
READELF_TYPES = {"exec": "EXEC", "pie": "DYN", "shared": "DYN", "relocatable": "REL", "core": "CORE"}
# what a split-debug file does not hold (cgocheck reports them empty, ElfFacts.debug_only)
NOT_IN_DEBUG_FILES = frozenset({"interpreter", "needed", "soname", "rpath", "runpath", "verneed", "undefined",
                                "max_glibc"})


def inspect_fields(facts: ElfFacts) -> dict[str, object]:
    """cgocheck's facts in readelf's terms, field by field."""
    h = facts.header
    return {
        "machine": h.machine_code,
        "class": h.elf_class,
        "endian": h.endian,
        "flags": h.flags,
        "type": READELF_TYPES.get(h.file_type, h.file_type),
        "interpreter": facts.interpreter,
        "needed": list(facts.needed),
        "soname": facts.soname,
        "rpath": list(facts.rpath),
        "runpath": list(facts.runpath),
        "verneed": {vn.library: list(vn.versions) for vn in facts.verneed},
        "undefined": {(s.name, s.version) for s in facts.undefined},
        "max_glibc": facts.max_glibc()[0],
    }


def readelf_fields(view: ReadelfView) -> dict[str, object]:
    """readelf's view as the same fields (an unknown machine name stays a name: it disagrees)."""
    return {
        "machine": READELF_MACHINES.get(view.machine, view.machine),
        "class": view.elf_class,
        "endian": view.endian,
        "flags": view.flags,
        "type": view.file_type,
        "interpreter": view.interpreter,
        "needed": view.needed,
        "soname": view.soname,
        "rpath": view.rpath,
        "runpath": view.runpath,
        "verneed": view.verneed,
        "undefined": view.undefined,
        "max_glibc": view.max_glibc,
    }


@dataclass(frozen=True)
class Disagreement:
    path: str
    field: str
    cgocheck: object
    readelf: object

    def __str__(self) -> str:
        def short(v: object) -> str:
            if isinstance(v, set):
                v = sorted(v, key=repr)
            text = repr(v)
            return text if len(text) < 300 else text[:300] + "..."

        return f"{self.path}: {self.field}: cgocheck {short(self.cgocheck)}, readelf {short(self.readelf)}"


def inspect_differences(facts: ElfFacts, view: ReadelfView, path: str | None = None) -> tuple[int, list[Disagreement]]:
    """Compare cgocheck's facts of a file with readelf's view of (normally) the same file:
    (fields compared, the disagreements). A split-debug file's dynamic fields are not
    compared (it does not hold them: ElfFacts.debug_only)."""
    ours, theirs = inspect_fields(facts), readelf_fields(view)
    skip = NOT_IN_DEBUG_FILES if facts.debug_only else frozenset()
    out: list[Disagreement] = []
    compared = 0
    for name, mine in ours.items():
        if name in skip:
            continue
        compared += 1
        if mine != theirs[name]:
            out.append(Disagreement(path or facts.path, name, mine, theirs[name]))
    return compared, out


def altered(facts: ElfFacts, field: str) -> ElfFacts:
    """A copy of FACTS with one fact changed (for showing that the comparison catches it)."""
    change: dict[str, Callable[[ElfFacts], ElfFacts]] = {
        "needed": lambda f: replace(f, needed=(*f.needed, "libextra.so.1")),
        "soname": lambda f: replace(f, soname=(f.soname or "") + ".x"),
        "interpreter": lambda f: replace(f, interpreter=(f.interpreter or "") + "x"),
        "flags": lambda f: replace(f, header=replace(f.header, flags=f.header.flags ^ 0x4)),
        "undefined": lambda f: replace(f, undefined=f.undefined[1:]),
        "runpath": lambda f: replace(f, runpath=(*f.runpath, "$ORIGIN/x")),
    }
    return change[field](facts)


class GoVersionM(TypedDict):
    """What `go version -m` says of a Go binary."""

    version: str
    path: str | None
    mod: tuple[str, str] | None  # (module path, version)
    settings: dict[str, str]  # the build lines: key -> value as Go prints it (quoted)


def go_version_m(go_tc: toolchains.GoToolchain, path: Path) -> GoVersionM:
    """Parse `go version -m FILE`: the differential oracle for the buildinfo parser."""
    proc = run(
        [str(go_tc.go), "version", "-m", str(path)],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "GOROOT": str(go_tc.goroot)},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    version = lines[0].split(": ", 1)[1].strip()
    settings: dict[str, str] = {}
    info = GoVersionM(version=version, path=None, mod=None, settings=settings)
    for line in lines[1:]:
        parts = line.strip("\t").split("\t")
        if parts[0] == "path":
            info["path"] = parts[1]
        elif parts[0] == "mod":
            info["mod"] = (parts[1], parts[2] if len(parts) > 2 else "")
        elif parts[0] == "build":
            k, _, v = parts[1].partition("=")
            settings[k] = v
    return info


def relocated_symbols(path: Path) -> set[str]:
    """The names of the symbols the file's dynamic relocations name (readelf -r), except
    R_*_NONE ones: the symbols the loader looks up. An undefined dynamic symbol outside this
    set is never looked up (libasan's program_invocation_short_name, armhf's
    __aeabi_unwind_cpp_pr0 ...)."""
    need_tool("readelf")
    out = run(["readelf", "-r", "-W", str(path)]).stdout
    names: set[str] = set()
    # one line at a time ([ \t], not \s): a symbol-less line (RELATIVE) must not run on into the next
    for m in re.finditer(r"^[ \t]*[0-9a-f]+[ \t]+[0-9a-f]+[ \t]+(R_\w+)[ \t]+[0-9a-f]+[ \t]+([^\s@]+)", out, re.M):
        if not m.group(1).endswith("_NONE"):
            names.add(m.group(2))
    return names


def go_version_json(goroot: Path, path: Path) -> dict[str, object] | None:
    """`go version -m -json FILE` of the Go at GOROOT (Go 1.22+); None: not a Go binary to it."""
    proc = run(
        [str(goroot / "bin" / "go"), "version", "-m", "-json", str(path)],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "GOROOT": str(goroot), "GOTOOLCHAIN": "local"},
        timeout=120,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    # Go prints BuildInfo.Main, a struct, even when it is empty (the toolchain's own commands)
    if data.get("Main") == {}:
        del data["Main"]
    return data


def _mod_json(m: GoModule | None) -> dict[str, object] | None:
    if m is None:
        return None
    d: dict[str, object] = {}
    if m.path:
        d["Path"] = m.path
    if m.version:
        d["Version"] = m.version
    if m.sum:
        d["Sum"] = m.sum
    if m.replaced_by is not None:
        d["Replace"] = _mod_json(m.replaced_by)
    return d


def as_go_json(bi: GoBuildInfo) -> dict[str, object]:
    """cgocheck's build info as `go version -m -json` prints it."""
    d: dict[str, object] = {"GoVersion": bi.go_version}
    if bi.path:
        d["Path"] = bi.path
    main = _mod_json(bi.main)
    if main:
        d["Main"] = main
    if bi.deps:
        d["Deps"] = [_mod_json(x) for x in bi.deps]
    if bi.settings:
        d["Settings"] = [{"Key": s.key, **({"Value": s.value} if s.value else {})} for s in bi.settings]
    return d


def json_facts(data: object, at: str = "") -> list[tuple[str, str]]:
    """A JSON value as (where, value) pairs, one per leaf: what the comparisons count."""
    if isinstance(data, dict):
        return [pair for k, v in data.items() for pair in json_facts(v, f"{at}.{k}")]
    if isinstance(data, list):
        return [pair for i, v in enumerate(data) for pair in json_facts(v, f"{at}[{i}]")]
    return [(at, repr(data))]
