"""The `go build` options real builds pass, in one place: what verify and the matrix take
(command line, or cgocheck.toml), how they become flags and variables, and which targets
accept them. Each flag is one argv element (``-ldflags=-s -w`` stays one), so the recorded
command, quoted with shlex, is the command that ran."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cgocheck.core.errors import BadInput
from cgocheck.core.targets import Target

BUILDMODES = ("exe", "pie", "c-shared", "c-archive")
BUILDVCS = ("true", "false", "auto")
# go build -race needs cgo and one of these (cmd/go's internal/platform.RaceDetectorSupported)
RACE_TARGETS = {"linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"}
_GOAMD64 = re.compile(r"^v[1-4]$")
_GOARM64 = re.compile(r"^v(8|9)\.\d(,(lse|crypto))*$")


@dataclass(frozen=True)
class GoBuildOptions:
    tags: str | None = None  # -tags (comma-separated)
    ldflags: str | None = None  # -ldflags (e.g. "-s -w -X main.version=1.2")
    buildmode: str | None = None  # -buildmode
    trimpath: bool = False
    buildvcs: str | None = None  # -buildvcs=true|false|auto
    pgo: str | None = None  # -pgo=auto|off|FILE
    overlay: str | None = None  # -overlay=FILE
    race: bool = False
    goexperiment: str | None = None  # GOEXPERIMENT
    goamd64: str | None = None  # GOAMD64 level (v1..v4), amd64 only
    goarm64: str | None = None  # GOARM64 level (v8.0 ...), arm64 only
    extra: tuple[str, ...] = ()  # flags cgocheck itself adds (tests: -ldflags=-linkmode=...)

    def check(self, target: Target, *, cgo: bool = True) -> None:
        """Refuse, before any work, what the target cannot take (bad input, exit 2)."""
        if self.buildmode is not None and self.buildmode not in BUILDMODES:
            raise BadInput(f"--buildmode {self.buildmode!r}: one of {', '.join(BUILDMODES)}")
        if self.buildvcs is not None and self.buildvcs not in BUILDVCS:
            raise BadInput(f"--buildvcs {self.buildvcs!r}: one of {', '.join(BUILDVCS)}")
        if self.race and (target.name not in RACE_TARGETS or target.libc != "glibc" or not cgo):
            raise BadInput(f"-race is not supported for {target.name} (Go supports it with cgo on "
                           f"{', '.join(sorted(RACE_TARGETS))})")
        if self.goamd64 is not None and (target.goarch != "amd64" or not _GOAMD64.match(self.goamd64)):
            raise BadInput(f"GOAMD64={self.goamd64}: a level v1..v4, for amd64 targets only")
        if self.goarm64 is not None and (target.goarch != "arm64" or not _GOARM64.match(self.goarm64)):
            raise BadInput(f"GOARM64={self.goarm64}: a level like v8.0 or v9.2,lse, for arm64 targets only")

    def flags(self) -> tuple[str, ...]:
        out: list[str] = []
        if self.tags:
            out.append(f"-tags={self.tags}")
        if self.ldflags:
            out.append(f"-ldflags={self.ldflags}")
        if self.buildmode:
            out.append(f"-buildmode={self.buildmode}")
        if self.trimpath:
            out.append("-trimpath")
        if self.buildvcs:
            out.append(f"-buildvcs={self.buildvcs}")
        if self.pgo:
            out.append(f"-pgo={self.pgo}")
        if self.overlay:
            out.append(f"-overlay={self.overlay}")
        if self.race:
            out.append("-race")
        return (*out, *self.extra)

    def env(self) -> dict[str, str]:
        """The variables they set (Go keys its cache on each)."""
        out: dict[str, str] = {}
        if self.goexperiment:
            out["GOEXPERIMENT"] = self.goexperiment
        if self.goamd64:
            out["GOAMD64"] = self.goamd64
        if self.goarm64:
            out["GOARM64"] = self.goarm64
        return out

    def as_json(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False, ())}
