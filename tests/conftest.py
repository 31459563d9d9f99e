"""Shared test harness: real toolchains, real builds, oracles.

Integration tests need what `scripts/bootstrap setup` installs. When something is missing
they skip with the reason, except under CI or CGOCHECK_STRICT=1, where a missing tool is
a failure: a green CI run must have run the real thing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from cgocheck.build import toolchains
from cgocheck.build.hermetic import BuildRequest, BuildResult, go_build
from cgocheck.core.errors import CgocheckError
from cgocheck.core.targets import Target, parse_target

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("CGOCHECK_STRICT") == "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--exhaustive", action="store_true", help="run the full Go x target x compiler matrix")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--exhaustive"):
        # the Hypothesis fuzz tests read this when their modules are imported (after this)
        os.environ.setdefault("CGOCHECK_FUZZ_EXAMPLES", "5000")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--exhaustive"):
        return
    skip = pytest.mark.skip(reason="exhaustive matrix: run with --exhaustive")
    for item in items:
        if "exhaustive" in item.keywords:
            item.add_marker(skip)


def need(condition: bool, what: str) -> None:
    """Skip (locally) or fail (CI) when a tool the test needs is missing."""
    if condition:
        return
    msg = f"{what} is missing: run scripts/bootstrap setup"
    if STRICT:
        pytest.fail(msg)
    pytest.skip(msg)


def need_tool(name: str) -> str:
    path = shutil.which(name)
    need(path is not None, name)
    assert path is not None
    return path


def go(spec: str) -> toolchains.GoToolchain:
    try:
        return toolchains.find(spec)
    except CgocheckError as err:
        need(False, f"Go {spec} ({err.message})")
        raise


def goroot(spec: str, env: str | None = None) -> Path | None:
    """The GOROOT of an installed Go toolchain, or None; ENV may name a GOROOT instead."""
    chosen = os.environ.get(env, "") if env else ""
    try:
        return toolchains.find(chosen or spec).goroot
    except CgocheckError:
        return None


GO_OLD = "1.19"
GO_NEW = "newest"


@dataclass(frozen=True)
class Built:
    path: Path
    result: BuildResult
    target: Target
    go_version: str
    compiler: str
    link: str  # "external" | "internal"


class Builder:
    """Builds fixtures once per session (and keeps them across runs, keyed by inputs)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.memo: dict[tuple[object, ...], Built] = {}

    def build(
        self,
        fixture: str,
        target: str,
        go_spec: str = GO_NEW,
        compiler: str = "gcc",
        *,
        link: str = "external",
        go_flags: tuple[str, ...] = (),
        sysroot: Path | None = None,
        extra_env: dict[str, str] | None = None,
        cflags: str | None = None,
        ldflags_c: str = "",
        cgo: bool = True,
        cc: str | None = None,
        expect_ok: bool = True,
    ) -> Built:
        tgt = parse_target(target)
        gt = go(go_spec)
        if cgo and compiler == "gcc":
            need_tool(cc or f"{tgt.triplet}-gcc")
        if cgo and compiler == "clang":
            need_tool("clang")
            need_tool("ld.lld")
        flags = tuple(go_flags)
        if link == "internal":
            flags += ("-ldflags=-linkmode=internal",)
        elif link == "external" and cgo and not any("linkmode" in f for f in flags):
            flags += ("-ldflags=-linkmode=external",)
        key = (fixture, tgt.name, gt.version, compiler, flags, str(sysroot), tuple(sorted((extra_env or {}).items())),
               cflags, ldflags_c, cgo, cc)
        if key in self.memo:
            return self.memo[key]
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        out = self.root / f"{Path(fixture).name}-{tgt.name.replace('/', '_')}-{gt.version}-{compiler}-{digest}"
        kwargs = {"cflags": cflags} if cflags is not None else {}
        req = BuildRequest(
            source=FIXTURES / fixture, output=out, target=tgt, go=gt, compiler=compiler, sysroot=sysroot,
            go_flags=flags, extra_env=extra_env or {}, ldflags_c=ldflags_c, cgo=cgo, cc=cc, **kwargs,
        )
        result = go_build(req)
        if expect_ok:
            assert result.ok, f"build failed: {fixture} {tgt.name} go{gt.version} {compiler}\n{result.log[-3000:]}"
        built = Built(out, result, tgt, gt.version, compiler, link)
        self.memo[key] = built
        return built


@pytest.fixture(scope="session")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("builds"))


# --- oracles ---------------------------------------------------------------------------


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


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


def go_version_m(go_tc: toolchains.GoToolchain, path: Path) -> dict[str, object]:
    """Parse `go version -m FILE`: the differential oracle for the buildinfo parser."""
    proc = run([str(go_tc.go), "version", "-m", str(path)], env={"PATH": "/usr/bin:/bin", "HOME": "/tmp",
                                                                 "GOROOT": str(go_tc.goroot)})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    version = lines[0].split(": ", 1)[1].strip()
    info: dict[str, object] = {"version": version, "path": None, "mod": None, "settings": {}}
    settings: dict[str, str] = {}
    for line in lines[1:]:
        parts = line.strip("\t").split("\t")
        if parts[0] == "path":
            info["path"] = parts[1]
        elif parts[0] == "mod":
            info["mod"] = (parts[1], parts[2] if len(parts) > 2 else "")
        elif parts[0] == "build":
            k, _, v = parts[1].partition("=")
            settings[k] = v
    info["settings"] = settings
    return info
