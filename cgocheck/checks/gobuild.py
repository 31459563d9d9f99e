"""Go build checks: cgo really on, GOOS/GOARCH/GOARM as the target, linking mode."""

from __future__ import annotations

from cgocheck.core.rules import Finding, finding
from cgocheck.core.targets import Target
from cgocheck.elf.model import ElfFacts


def check_go(facts: ElfFacts, target: Target | None, *, expect_cgo: bool = True) -> list[Finding]:
    out: list[Finding] = []
    f = facts.path
    go = facts.go
    if go is None:
        if facts.header.file_type in ("exec", "pie"):
            out.append(finding("G007", "no Go build ID or build info found", file=f))
        return out
    bi = go.buildinfo
    settings = {s.key: s.value for s in bi.settings} if bi else {}
    if not settings:
        reason = "no build info" if bi is None else f"{bi.go_version} records no build settings"
        out.append(finding("G005", reason, file=f))
    if expect_cgo:
        cgo_setting = settings.get("CGO_ENABLED")
        if cgo_setting == "0" or not go.cgo_linked:
            ev = []
            if cgo_setting is not None:
                ev.append(f"build CGO_ENABLED={cgo_setting}")
            ev.append("runtime/cgo linked" if go.cgo_linked else "runtime/cgo not linked")
            ev.extend(go.cgo_evidence)
            if facts.static and not go.cgo_linked:
                ev.append("statically linked, no PT_INTERP")
            out.append(finding("G001", "cgo is off in a build meant to use it", evidence=ev, file=f))
    if target is not None and settings:
        for key, want, rule in (
            ("GOOS", target.goos, "G002"),
            ("GOARCH", target.goarch, "G003"),
        ):
            got = settings.get(key)
            if got is not None and got != want:
                out.append(
                    finding(
                        rule,
                        f"{key}={got}, target {target.name} needs {key}={want}",
                        evidence=[f"build {key}={got}"],
                        file=f,
                    )
                )
        if target.goarm and settings.get("GOARCH") == "arm":
            got = settings.get("GOARM")
            # GOARM may carry a float suffix (",softfloat"/",hardfloat") since Go 1.22
            level = got.split(",")[0] if got else None
            if level is not None and level != target.goarm:
                out.append(
                    finding(
                        "G004",
                        f"GOARM={got}, target {target.name} needs GOARM={target.goarm}",
                        evidence=[f"build GOARM={got}"],
                        file=f,
                    )
                )
    if go.cgo_linked and go.link_mode == "internal":
        out.append(
            finding("G006", "cgo binary linked by Go's internal linker", evidence=list(go.link_mode_evidence), file=f)
        )
    return out
