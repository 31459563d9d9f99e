"""Differential tests of cgocheck.elf.gobuildinfo against Go's own `go version -m`.

Every case builds a small stdlib-only Go program for real (Go 1.27 / 1.19 / 1.15, several
GOARCHes, gcc or clang+lld, internal or external linking, stripped or not) and checks:

* build info equals what `go version -m` prints, run with the Go that built the binary, and
  equals `go version -m -json` of the newest Go (which also reads the pre-1.18 layout);
* the layout (1.18+ inline strings vs pre-1.18 pointers) matches the Go version;
* cgo_linked and link_mode match how the binary was built.

Toolchains: CGOCHECK_GO_NEW, CGOCHECK_GO_119, CGOCHECK_GO_LEGACY override the defaults
(/tmp/go127/go or the newest ~/.cache/cgocheck/go/<v>/go; /usr/lib/go-1.19;
~/.cache/cgocheck/go/1.15-debian/usr/lib/go-1.15 from `cgocheck toolchains install 1.15`).
A missing toolchain or compiler skips the case (fails under CI=1 or CGOCHECK_STRICT=1).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from cgocheck.core import folders
from cgocheck.elf.gobuildinfo import read_go_facts
from cgocheck.elf.model import GoBuildInfo, GoFacts, GoModule
from tests.support.gobuild import go_119, go_legacy, go_new, record
from tests.support.need import need
from tests.support.oracles import as_go_json

pytestmark = pytest.mark.integration

# what to do when a toolchain or compiler is missing (need()'s message)
HOW = "see `cgocheck toolchains install 1.15` and the CGOCHECK_GO_* variables"


GOROOTS = {"new": go_new, "1.19": go_119, "legacy": go_legacy}


def go_env(goroot: Path, home: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": f"{home / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "GOROOT": str(goroot),
        "GOPATH": str(home / "gopath"),
        # content-addressed and keyed by toolchain: safe to share between runs and versions
        "GOCACHE": str(folders.work() / "gocache-tests"),
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod",
        "GONOSUMDB": "*",
    }
    if "1.15" in str(goroot):
        env["GO111MODULE"] = "on"
    else:
        env["GOTOOLCHAIN"] = "local"
    env.update(extra)
    return env


# --- sources ---------------------------------------------------------------------------------

GO_MOD = "module example.com/{name}\n\ngo 1.15\n"
SOURCES: dict[str, dict[str, str]] = {
    # cgo in main: Go links externally by default
    "cgoapp": {
        "main.go": (
            "package main\n\n/*\n#include <stdlib.h>\n"
            'static int twice(int x) { return 2 * x; }\n*/\nimport "C"\n\n'
            'import "fmt"\n\nfunc main() { fmt.Println("twice:", int(C.twice(21))) }\n'
        ),
    },
    # cgo only through the standard library (net, os/user): Go links internally by default
    "netapp": {
        "main.go": (
            'package main\n\nimport (\n\t"fmt"\n\t"net"\n\t"os/user"\n)\n\n'
            "func main() {\n\tu, err := user.Current()\n\tfmt.Println(u, err)\n"
            '\tfmt.Println(net.LookupHost("localhost"))\n}\n'
        ),
    },
    # a C shared library written in Go (always linked externally)
    "shlib": {
        "main.go": (
            'package main\n\nimport "C"\n\n//export Add\n'
            "func Add(a, b C.int) C.int { return a + b }\n\nfunc main() {}\n"
        ),
    },
    "pureapp": {"main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'},
    # a dependency replaced by a local directory: `dep` + `=>` lines, cgo in the dependency
    "repapp": {
        "go.mod": (
            "module example.com/repapp\n\ngo 1.15\n\nrequire example.com/lib v0.0.0\n\n"
            "replace example.com/lib => ./lib\n"
        ),
        "main.go": (
            'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/lib"\n)\n\nfunc main() { fmt.Println(lib.Answer()) }\n'
        ),
        "lib/go.mod": "module example.com/lib\n\ngo 1.15\n",
        "lib/lib.go": (
            'package lib\n\n// static int answer(void) { return 42; }\nimport "C"\n\n'
            "func Answer() int { return int(C.answer()) }\n"
        ),
    },
}

CLANG_ARM64 = '#!/bin/sh\nexec clang --target=aarch64-linux-gnu -fuse-ld=lld -Wno-unused-command-line-argument "$@"\n'

# C compilers by target
CC = {
    "amd64": "gcc",
    "arm64": "aarch64-linux-gnu-gcc",
    "armhf": "arm-linux-gnueabihf-gcc",
    "armel": "arm-linux-gnueabi-gcc",
    "riscv64": "riscv64-linux-gnu-gcc",
    "arm64-clang": "clang-arm64",  # the wrapper above
}
GOARCH = {
    "armhf": ("arm", "7"),
    "armel": ("arm", "5"),
    "arm64-clang": ("arm64", ""),
}

# CGO_CFLAGS whose record needs Go's quoting: spaces, double quotes, a backquote, a backslash,
# non-ASCII (Go splits CGO_CFLAGS at white space, so no quoted spaces inside one flag)
TRICKY_CFLAGS = '-O2 -g -DMSG="hi" -DTICK=` -DBS=a\\b -DUNI=\u00e9'


@dataclass(frozen=True)
class Case:
    go: str  # "new" | "1.19" | "legacy"
    app: str
    target: str  # amd64 arm64 armhf armel riscv64 arm64-clang s390x mips 386 ...
    cgo: bool
    ldflags: str = ""
    args: tuple[str, ...] = ()
    cflags: str = "-O2 -g"
    expect_cgo: bool | None = None  # default: cgo and app != pureapp (or external link)
    expect_link: str = "internal"
    exhaustive: bool = False

    @property
    def id(self) -> str:
        bits = [self.go, self.app, self.target, "cgo" if self.cgo else "nocgo"]
        if self.ldflags:
            bits.append(re.sub(r"[^A-Za-z0-9=]+", "", self.ldflags.replace("-linkmode=", "")))
        if self.args:
            bits.append(re.sub(r"[^A-Za-z0-9=]+", "", "".join(self.args)))
        if self.cflags != "-O2 -g":
            bits.append("tricky")
        return "-".join(bits)


def _cases() -> list[Case]:
    out: list[Case] = []
    for go in ("new", "1.19", "legacy"):
        old = go != "new"
        out += [
            Case(go, "cgoapp", "amd64", True, expect_link="external"),
            Case(go, "cgoapp", "amd64", True, "-linkmode=internal"),
            Case(go, "cgoapp", "amd64", True, "-s -w", expect_link="external"),
            Case(go, "netapp", "amd64", True, "-s -w"),
            Case(go, "cgoapp", "arm64", True, expect_link="external"),
            Case(go, "cgoapp", "arm64-clang", True, "-s -w", expect_link="external"),
            Case(go, "netapp", "arm64", True, "-s -w"),
            Case(go, "cgoapp", "armhf", True, "-s -w", expect_link="external"),
            Case(go, "netapp", "armel", True),
            Case(go, "pureapp", "amd64", False, "-s -w"),
            Case(go, "pureapp", "s390x", False),  # 64-bit big endian
            Case(go, "pureapp", "mips", False, "-s -w"),  # 32-bit big endian
            Case(go, "repapp", "amd64", True, expect_link="external"),
            Case(go, "shlib", "amd64", True, args=("-buildmode=c-shared",), expect_link="external"),
            # exhaustive: the rest of the matrix
            Case(go, "cgoapp", "arm64", True, "-linkmode=internal -s -w", exhaustive=True),
            Case(go, "cgoapp", "arm64-clang", True, expect_link="external", exhaustive=True),
            Case(go, "netapp", "amd64", True, "-linkmode=external", expect_link="external", exhaustive=True),
            Case(go, "netapp", "amd64", True, args=("-buildmode=pie",), exhaustive=True),
            Case(go, "cgoapp", "amd64", True, args=("-buildmode=pie",), expect_link="external", exhaustive=True),
            Case(go, "cgoapp", "armhf", True, "-linkmode=internal", exhaustive=True),
            Case(go, "cgoapp", "armel", True, expect_link="external", exhaustive=True),
            Case(go, "pureapp", "amd64", True, expect_cgo=False, exhaustive=True),
            Case(go, "pureapp", "386", False, exhaustive=True),
            Case(go, "pureapp", "arm64", False, exhaustive=True),
            Case(go, "pureapp", "ppc64", False, "-s -w", exhaustive=True),
            Case(
                go,
                "cgoapp",
                "amd64",
                True,
                "-s -w -extldflags=-static",
                expect_link="external",
                exhaustive=True,
            ),
        ]
        if not old or go == "1.19":
            # riscv64 cgo arrived in Go 1.16
            out += [
                Case(go, "cgoapp", "riscv64", True, "-s -w", expect_link="external"),
                Case(go, "netapp", "riscv64", True, expect_link="internal" if not old else "external"),
            ]
        if not old:
            out += [
                Case(go, "pureapp", "amd64", True, "-linkmode=external", expect_link="external"),
                Case(go, "cgoapp", "amd64", True, "-X main.note=x", cflags=TRICKY_CFLAGS, expect_link="external"),
            ]
    return out


CASES = _cases()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gobuildinfo")
    for app, files in SOURCES.items():
        d = root / "src" / app
        for rel, text in files.items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_text(text)
        if "go.mod" not in files:
            (d / "go.mod").write_text(GO_MOD.format(name=app))
    (root / "home" / "bin").mkdir(parents=True)
    wrapper = root / "home" / "bin" / "clang-arm64"
    wrapper.write_text(CLANG_ARM64)
    wrapper.chmod(0o755)
    return root


_built: dict[str, Path] = {}


def build(case: Case, workdir: Path) -> tuple[Path, Path]:
    """Build the case (once per session); returns (binary, GOROOT)."""
    goroot = GOROOTS[case.go]()
    need(goroot is not None, f"Go toolchain {case.go!r}", HOW)
    assert goroot is not None
    cc = CC.get(case.target, "gcc")
    if case.cgo:
        if cc == "clang-arm64":
            need(shutil.which("clang") is not None and shutil.which("ld.lld") is not None, "clang + lld", HOW)
        else:
            need(shutil.which(cc) is not None, cc, HOW)
    if case.id in _built:
        return _built[case.id], goroot
    goarch, goarm = GOARCH.get(case.target, (case.target, ""))
    extra = {"CGO_ENABLED": "1" if case.cgo else "0", "GOOS": "linux", "GOARCH": goarch, "CC": cc}
    extra["CGO_CFLAGS"] = case.cflags
    if goarm:
        extra["GOARM"] = goarm
    out = workdir / "out" / case.id
    out.parent.mkdir(exist_ok=True)
    cmd = [str(goroot / "bin" / "go"), "build", "-o", str(out)]
    if case.ldflags:
        cmd.append(f"-ldflags={case.ldflags}")
    cmd += [*case.args, "."]
    r = subprocess.run(
        cmd,
        cwd=workdir / "src" / case.app,
        env=go_env(goroot, workdir / "home", **extra),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}"
    _built[case.id] = out
    record(out, goroot)
    return out, goroot


def facts_of(path: Path) -> tuple[GoFacts | None, list[str]]:
    warnings: list[str] = []
    with path.open("rb") as f:
        return read_go_facts(ELFFile(f), warnings), warnings


# --- oracles -----------------------------------------------------------------------------------


def go_version_m(goroot: Path, path: Path, workdir: Path) -> list[str] | None:
    """`go version -m` lines (without the leading tab), first the Go version, blank lines dropped.

    None when it reports nothing (Go 1.15 and 1.19 skip c-shared libraries silently).
    """
    r = subprocess.run(
        [str(goroot / "bin" / "go"), "version", "-m", str(path)],
        env=go_env(goroot, workdir / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    if not r.stdout:
        return None
    first, *rest = r.stdout.split("\n")
    assert first.startswith(f"{path}: ")
    # Go's BuildInfo.String() writes an empty line after a replacement: not information
    return [first[len(f"{path}: ") :]] + [line[1:] for line in rest if line.strip()]


def _go_quote(s: str) -> str:
    """strconv.Quote for the printable text our fixtures produce (tested cases only)."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        else:
            assert ch.isprintable(), f"fixture value needs a fuller strconv.Quote: {s!r}"
            out.append(ch)
    return "".join(out) + '"'


def as_go_text(bi: GoBuildInfo) -> list[str]:
    """Our build info in the format of Go's BuildInfo.String() (what `go version -m` prints)."""
    lines = [bi.go_version]
    if bi.path:
        lines.append(f"path\t{bi.path}")

    def mod(word: str, m: GoModule) -> None:
        if m.replaced_by is None:
            lines.append(f"{word}\t{m.path}\t{m.version}\t{m.sum or ''}")
        else:
            lines.append(f"{word}\t{m.path}\t{m.version}")
            mod("=>", m.replaced_by)

    if bi.main is not None:
        mod("mod", bi.main)
    for d in bi.deps:
        mod("dep", d)
    for s in bi.settings:
        value = _go_quote(s.value) if any(c in s.value for c in ' \t\r\n"`') else s.value
        lines.append(f"build\t{s.key}={value}")
    return lines


def go_json(goroot: Path, path: Path, workdir: Path) -> dict[str, object]:
    r = subprocess.run(
        [str(goroot / "bin" / "go"), "version", "-m", "-json", str(path)],
        env=go_env(goroot, workdir / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert isinstance(data, dict)
    return data


# --- tests ---------------------------------------------------------------------------------------


def _params() -> list[object]:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.exhaustive] if c.exhaustive else []) for c in CASES]


@pytest.mark.parametrize("case", _params())
def test_buildinfo_matches_go(case: Case, workdir: Path) -> None:
    binary, goroot = build(case, workdir)
    facts, warnings = facts_of(binary)
    assert facts is not None, warnings
    bi = facts.buildinfo
    assert bi is not None, warnings
    assert warnings == []
    assert bi.layout == ("pre-1.18" if case.go == "legacy" else "1.18+")

    # the Go that built it
    theirs = go_version_m(goroot, binary, workdir)
    if theirs is None:
        assert case.go != "new" and "-buildmode=c-shared" in case.args
    else:
        assert as_go_text(bi) == theirs

    # the newest Go, structurally (-json unquotes build settings itself)
    newest = go_new()
    need(newest is not None, "the newest Go toolchain", HOW)
    assert newest is not None
    assert as_go_json(bi) == go_json(newest, binary, workdir)

    if case.go != "legacy":
        assert bi.setting("CGO_ENABLED") == ("1" if case.cgo else "0")
        assert bi.setting("GOARCH") == GOARCH.get(case.target, (case.target, ""))[0]
        if case.cflags != "-O2 -g" and case.cgo:
            assert bi.setting("CGO_CFLAGS") == case.cflags
        if case.ldflags:
            assert bi.setting("-ldflags") == case.ldflags


@pytest.mark.parametrize("case", _params())
def test_cgo_and_link_mode(case: Case, workdir: Path) -> None:
    binary, _ = build(case, workdir)
    facts, _ = facts_of(binary)
    assert facts is not None
    expect_cgo = case.expect_cgo
    if expect_cgo is None:
        expect_cgo = case.cgo and (case.app != "pureapp" or case.expect_link == "external")
    assert facts.cgo_linked is expect_cgo, facts.cgo_evidence
    assert facts.link_mode == case.expect_link, facts.link_mode_evidence
    assert facts.cgo_evidence and facts.link_mode_evidence
    if expect_cgo:
        # a signal that survives -s -w: exported runtime/cgo symbols or runtime/cgo in pclntab
        assert any("runtime/cgo" in e for e in facts.cgo_evidence), facts.cgo_evidence
    stripped = "-s" in case.ldflags.split()
    if stripped:
        assert not any(e.startswith(".symtab") for e in facts.cgo_evidence + facts.link_mode_evidence)


def test_section_headers_removed(workdir: Path, tmp_path: Path) -> None:
    """sstrip-like files (no section table): build info from the first writable PT_LOAD."""
    for case in (
        Case("new", "cgoapp", "amd64", True, "-s -w", expect_link="external"),
        Case("legacy", "cgoapp", "arm64", True, expect_link="external"),
        Case("legacy", "pureapp", "mips", False, "-s -w"),
    ):
        binary, _ = build(case, workdir)
        data = bytearray(binary.read_bytes())
        is64, order = data[4] == 2, "little" if data[5] == 1 else "big"
        if is64:
            data[0x28:0x30] = bytes(8)
            data[0x3A:0x40] = bytes(6)
        else:
            data[0x20:0x24] = bytes(4)
            data[0x2E:0x34] = bytes(6)
        assert order in ("little", "big")
        copy = tmp_path / f"nosections-{case.id}"
        copy.write_bytes(bytes(data))
        before, _ = facts_of(binary)
        after, warnings = facts_of(copy)
        assert before is not None and after is not None, warnings
        assert after.buildinfo == before.buildinfo
        assert after.cgo_linked is before.cgo_linked, after.cgo_evidence
        assert after.link_mode in (before.link_mode, "unknown")


def test_not_go() -> None:
    for p in ("/bin/ls", "/usr/bin/gcc", "/lib/x86_64-linux-gnu/libc.so.6"):
        if Path(p).exists():
            facts, warnings = facts_of(Path(p))
            assert facts is None, p
            assert warnings == []


def test_go_itself() -> None:
    """The Go toolchains' own binaries (built by the Go project, not by us)."""
    for get in (go_new, go_119, go_legacy):
        goroot = get()
        if goroot is None:
            continue
        facts, warnings = facts_of(goroot / "bin" / "go")
        assert facts is not None and facts.buildinfo is not None, warnings
        r = subprocess.run(
            [str(goroot / "bin" / "go"), "version"], env={"GOROOT": str(goroot)}, capture_output=True, text=True
        )
        assert facts.buildinfo.go_version in r.stdout


@pytest.mark.parametrize(
    "case",
    [
        Case("legacy", "cgoapp", "arm64", True, args=("-buildmode=pie",), expect_link="external"),
        Case("legacy", "shlib", "arm64", True, "-s -w", args=("-buildmode=c-shared",), expect_link="external"),
        Case("legacy", "shlib", "armhf", True, args=("-buildmode=c-shared",), expect_link="external"),
        Case("legacy", "pureapp", "amd64", False, args=("-buildmode=pie",)),
    ],
    ids=lambda c: c.id,
)
def test_pre118_relocated_pointers(case: Case, workdir: Path) -> None:
    """Pre-1.18 PIE / c-shared: the build info pointers are load-time relocated.

    On arm64, GNU ld leaves garbage where the RELATIVE relocations go (the addend lives in
    .rela.dyn), and Go's own reader prints nonsense for these files (seen: Go 1.27 says
    "d limit" for the arm64 PIE). So the oracle here is the toolchain's own version and the
    module path, not `go version -m`.
    """
    binary, goroot = build(case, workdir)
    facts, warnings = facts_of(binary)
    assert facts is not None and facts.buildinfo is not None, warnings
    bi = facts.buildinfo
    assert bi.layout == "pre-1.18"
    assert bi.go_version == (goroot / "VERSION").read_text().split()[0]
    assert bi.path == f"example.com/{case.app}"
    assert bi.main == GoModule(f"example.com/{case.app}", "(devel)")
    assert facts.link_mode == case.expect_link
    assert facts.cgo_linked is case.cgo
