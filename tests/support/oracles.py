"""Differential oracles for the ELF façade and the build info parser: binutils readelf's
and ``go version -m``'s own output, parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from cgocheck.build import toolchains
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
        machine=machine_line,
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
