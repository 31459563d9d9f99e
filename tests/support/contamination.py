"""The contamination scenarios of fixtures/contaminated/, built by a real verify: each
scenario's expect.toml, its program copied out of the repository, the verify options it
names (see tests/integration/test_contamination.py for the keys)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from cgocheck.build.options import GoBuildOptions
from cgocheck.commands.verify import VerifyOptions, VerifyResult, verify
from cgocheck.core.errors import CgocheckError
from cgocheck.core.targets import parse_target
from tests.support.need import go, need, need_tool, sysroot
from tests.support.paths import FIXTURES


def load_scenario(name: str) -> dict[str, Any]:
    data = tomllib.loads((FIXTURES / "contaminated" / name / "expect.toml").read_text())
    here = str(FIXTURES / "contaminated" / name)

    def sub(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace("{here}", here)
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v

    return dict(sub(data))


def options_for(spec: dict[str, Any], src: Path, *, clean: bool) -> VerifyOptions:
    s = dict(spec)
    if clean:
        for k in ("env", "unset", "extra_cflags", "extra_ldflags", "glibc_floor_only"):
            s.pop(k, None)
        s.update(spec.get("clean", {}))
    tools: list[str] = []
    target = parse_target(s["target"])
    cc = s.get("cc", "gcc")
    if s.get("cc_path"):
        tools.append(s["cc_path"].split()[0])
    elif cc == "gcc":
        tools.append(f"{target.triplet}-gcc")
    elif cc == "clang":
        tools += ["clang", "ld.lld"]
    for k, v in dict(s.get("env", {})).items():
        if k == "CC":
            tools.append(v)
    for t in tools:
        need_tool(t)
    go(s.get("go", "newest"))
    return VerifyOptions(
        packages=(str(src),),
        target=target,
        go=s.get("go", "newest"),
        compiler=cc,
        cc_path=s.get("cc_path") or None,
        sysroot=s.get("sysroot"),
        glibc_floor=s.get("glibc_floor"),
        build=GoBuildOptions(ldflags=s.get("ldflags", "-linkmode=external") or None),
        extra_cflags=s.get("extra_cflags", ""),
        extra_ldflags=s.get("extra_ldflags", ""),
        env=tuple(dict(s.get("env", {})).items()),
        unset=tuple(s.get("unset", ())),
        output=src.parent / f"out-{'clean' if clean else 'dirty'}",
    )


def prepare(name: str, spec: dict[str, Any], tmp: Path, *, clean: bool) -> Path:
    """A copy of the program (so nothing is written into the repository)."""
    prog = spec.get("clean", {}).get("program") if clean else None
    prog = prog or spec.get("program")
    src_dir = FIXTURES / prog if prog else FIXTURES / "contaminated" / name
    dst = tmp / ("clean" if clean else "dirty") / "src"
    shutil.copytree(src_dir, dst, ignore=shutil.ignore_patterns("expect.toml", "pc", "*.sh"))
    arch = spec.get("archive")
    if arch:
        build_archive(arch, dst, clean=clean)
    return dst


def _archive_flag(flag: str, cc: list[str]) -> str:
    """{cc_include}: the compiler's own include folder; {sysroot:NAME}: a created sysroot."""
    if "{cc_include}" in flag:
        inc = subprocess.run([*cc, "-print-file-name=include"], capture_output=True, text=True, check=True)
        flag = flag.replace("{cc_include}", inc.stdout.strip())
    m = re.search(r"\{sysroot:([\w.-]+)\}", flag)
    if m:
        flag = flag.replace(m.group(0), str(sysroot(m.group(1))))
    return flag


def build_archive(arch: dict[str, Any], dst: Path, *, clean: bool) -> Path:
    """The [archive] of a scenario, compiled into DST with its (or its clean twin's) compiler:
    one member per source, the sources removed so only the archive is linked."""
    cc = shlex.split(arch["clean_cc"] if clean else arch["cc"])
    need_tool(cc[0])
    flags = [_archive_flag(f, cc) for f in arch.get("clean_cflags" if clean else "cflags", [])]
    sources = arch.get("sources") or [arch["source"]]
    objs = []
    for src in sources:
        obj = dst / (Path(src).stem + ".o")
        subprocess.run([*cc, "-O2", *flags, "-c", str(dst / src), "-o", str(obj)], check=True)
        objs.append(obj)
    ar = cc[0].replace("-gcc", "-ar") if cc[0].endswith("-gcc") else "ar"
    out = dst / str(arch["output"])
    subprocess.run([shutil.which(ar) or "ar", "rcs", str(out), *map(str, objs)], check=True)
    for f in [*objs, *(dst / s for s in sources)]:
        f.unlink()  # only the prebuilt archive is linked, as in a vendored tree
    return out
    return dst


def run_scenario(name: str, tmp: Path, *, clean: bool) -> VerifyResult:
    spec = load_scenario(name)
    src = prepare(name, spec, tmp, clean=clean)
    opts = options_for(spec, src, clean=clean)
    try:
        return verify(opts)
    except CgocheckError as err:
        need(False, err.message)
        raise
