"""The differential run of `resolve` against the target's own loader in trace mode, on the
executables and shared libraries of each test sysroot: `qemu-<arch> -L SYSROOT` with
LD_TRACE_LOADED_OBJECTS=1 LD_WARN=1 LD_BIND_NOW=1 LD_DEBUG=bindings (what `ldd -r` does:
every library loaded, every symbol bound, nothing run); a shared library is given to the
sysroot's loader run as the program. cgocheck must name the same libraries at the same
paths in the same order, and bind every symbol to the object the loader binds it to
(tests/support/resolve.py's comparator, the one test_resolve_oracle.py uses).

Default run: every executable and a deterministic sample of the libraries, time-boxed;
``--exhaustive``: every file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cgocheck.core.targets import Target, parse_target
from cgocheck.elf import read_elf
from cgocheck.loader.resolve import resolve
from cgocheck.sysroot.fsroot import FsRoot
from tests.support import tally
from tests.support.need import need, need_tool, sysroot
from tests.support.resolve import RTLD_OWN_LOOKUPS, Agreement, differences, trace_oracle

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]

# glibc sysroots and their target (bookworm-arm64-musl: musl's loader has no LD_DEBUG, and
# its one shared object is the loader itself; test_resolve_paths.py compares its list)
SYSROOTS = {
    "bookworm-arm64": "linux/arm64",
    "bullseye-arm64": "linux/arm64",
    "trixie-arm64": "linux/arm64",
    "bookworm-armhf": "linux/arm/v7",
    "bullseye-armhf": "linux/arm/v7",
    "bookworm-armel": "linux/arm/v5",
    "bookworm-amd64": "linux/amd64",
}
SAMPLE_LIBRARIES = 30
TIME_BOX = 6.0
CHECK = "resolve/ld.so"

# No known differences: an undefined symbol that no dynamic relocation names (libasan's
# program_invocation_short_name, __signgam, armhf libstdc++'s __aeabi_unwind_cpp_pr0) is
# neither looked up by the loader nor bound by cgocheck (ElfFacts.unrelocated). Each such
# symbol of the file is compared too: the loader must make no binding for it.


def files_of(root: Path) -> tuple[list[Path], list[Path]]:
    """The sysroot's dynamically linked executables and its shared libraries (not the loader)."""
    exes: list[Path] = []
    libs: list[Path] = []
    for path in tally.elf_files(root):
        facts = read_elf(str(path), dwarf=False, go=False)
        if facts.header.file_type in ("exec", "pie") and facts.interpreter:
            exes.append(path)
        elif facts.header.file_type == "shared" and not (facts.soname or "").startswith("ld-"):
            libs.append(path)
    return exes, libs


def agree(root: Path, path: Path, tgt: Target) -> tuple[Agreement, list[tuple[str, str]]]:
    """Resolve PATH in ROOT and run the loader on it: (what was compared, [(diff, known name or "")])."""
    facts = read_elf(str(path), dwarf=False, go=False)
    res = resolve(str(path), FsRoot(root), target=tgt)
    loader = None if facts.interpreter else Path(str(root) + tgt.loader)
    orc = trace_oracle(tgt.arch.qemu, root, path, loader=loader)
    assert orc.run.returncode == 0, (path, orc.run.stdout[-1000:], orc.run.stderr[-1000:])
    got = differences(res, orc, path, strip=str(root))
    main = {str(path), "/" + str(path.relative_to(root))}
    looked_up = {s for r, s in orc.bindings if r in main}
    looked_up |= set(re.findall(r"undefined symbol: (\S+)", orc.run.stdout + orc.run.stderr))
    unrelocated = set(facts.unrelocated or ()) - RTLD_OWN_LOOKUPS
    got.bindings += len(unrelocated)
    if unrelocated & looked_up:
        got.diffs.append(f"ld.so looked up symbols no relocation names: {sorted(unrelocated & looked_up)}")
    return got, [(d, "") for d in got.diffs]


@pytest.mark.parametrize("name", list(SYSROOTS))
def test_resolve_agrees_with_the_loader_on_a_sysroot(name: str, request: pytest.FixtureRequest) -> None:
    tgt = parse_target(SYSROOTS[name])
    need_tool(tgt.arch.qemu)
    root = sysroot(name)
    exhaustive = bool(request.config.getoption("--exhaustive"))
    exes, libs = files_of(root)
    need(bool(libs), f"shared libraries in {root}")
    counter = tally.count(CHECK, name)
    counter.of = len(exes) + len(libs)
    chosen = exes + tally.sample(libs, None if exhaustive else SAMPLE_LIBRARIES, root)
    box = tally.TimeBox(None if exhaustive else TIME_BOX, counter)
    problems: list[str] = []
    for path in box.within(chosen):
        got, diffs = agree(root, path, tgt)
        counter.files += 1
        counter.fields += got.libraries + got.bindings
        for diff, why in diffs:
            if why:
                counter.known += 1
                counter.notes.append(f"{why}: {path.name}")
            else:
                counter.disagreements += 1
                problems.append(f"{path}: {diff[:2000]}")
    assert counter.files > len(exes) or exhaustive or counter.stopped, "no library compared"
    assert not problems, "\n".join(problems[:30])


# --- the comparator catches a difference ---------------------------------------------------


def test_another_files_loader_answer_is_caught() -> None:
    """The loader's answer for library A against cgocheck's resolution of library B, and a
    binding changed in a copy of the loader's answer: both fail the comparison."""
    name = "bookworm-arm64"
    tgt = parse_target(SYSROOTS[name])
    need_tool(tgt.arch.qemu)
    root = sysroot(name)
    triplet = root / "usr" / "lib" / tgt.triplet
    a, b = triplet / "libssl.so.3", triplet / "libz.so.1"
    need(a.exists() and b.exists(), f"libssl.so.3 and libz.so.1 in {name}")
    loader = Path(str(root) + tgt.loader)
    orc_a = trace_oracle(tgt.arch.qemu, root, a, loader=loader)
    res_a = resolve(str(a), FsRoot(root), target=tgt)
    res_b = resolve(str(b), FsRoot(root), target=tgt)
    same = differences(res_a, orc_a, a, strip=str(root))
    assert same.bindings > 100 and not same.diffs, same.diffs
    crossed = differences(res_b, orc_a, a, strip=str(root))
    assert any(d.startswith("libraries:") for d in crossed.diffs), crossed.diffs

    # one binding of the loader's answer moved to another provider
    key = next(k for k, ps in orc_a.bindings.items() if k[0] == str(a) and all("libcrypto" in p for p in ps))
    orc_a.bindings[key] = {"/lib/elsewhere/libother.so"}
    moved = differences(res_a, orc_a, a, strip=str(root))
    assert any("libother.so" in d for d in moved.diffs), moved.diffs
