"""The session's fixture builds: real cgo cross builds with real toolchains, each built once
per session (and kept across runs, keyed by its inputs). The ``builder`` fixture that hands
a test the session's ``Builder`` is in tests/conftest.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cgocheck.build.hermetic import DEFAULT_CFLAGS, BuildRequest, BuildResult, go_build
from cgocheck.core.targets import Target, parse_target
from tests.support.gobuild import record
from tests.support.need import go, need_tool
from tests.support.paths import FIXTURES

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
        key = (
            fixture,
            tgt.name,
            gt.version,
            compiler,
            flags,
            str(sysroot),
            tuple(sorted((extra_env or {}).items())),
            cflags,
            ldflags_c,
            cgo,
            cc,
        )
        if key in self.memo:
            return self.memo[key]
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        out = self.root / f"{Path(fixture).name}-{tgt.name.replace('/', '_')}-{gt.version}-{compiler}-{digest}"
        req = BuildRequest(
            source=FIXTURES / fixture,
            output=out,
            target=tgt,
            go=gt,
            compiler=compiler,
            sysroot=sysroot,
            go_flags=flags,
            extra_env=extra_env or {},
            ldflags_c=ldflags_c,
            cgo=cgo,
            cc=cc,
            cflags=DEFAULT_CFLAGS if cflags is None else cflags,
        )
        result = go_build(req)
        if expect_ok:
            assert result.ok, f"build failed: {fixture} {tgt.name} go{gt.version} {compiler}\n{result.log[-3000:]}"
        built = Built(out, result, tgt, gt.version, compiler, link)
        self.memo[key] = built
        if result.ok:
            record(out, gt.goroot)
        return built
