"""The façade's own bounded readers against the libraries they replaced, on real files:
DWARF units (producer, language, name, comp_dir, line-table files) against pyelftools,
.ARM.attributes against pyelftools and readelf -A, the dynamic view against lief, across
cross builds (32/64-bit, both byte orders, gcc and clang, Go 1.15's .zdebug, 1.19, newest)
and the libraries of every sysroot."""

from __future__ import annotations

import io
import posixpath
import re
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import ARMAttributesSection

from cgocheck.elf import read_dynamic_both, read_elf
from cgocheck.elf.decode import language_name
from cgocheck.elf.model import DwarfUnit
from tests.support.builder import GO_NEW, GO_OLD, Builder
from tests.support.cli import run
from tests.support.gobuild import build_pure, go_legacy
from tests.support.need import need, need_tool

pytestmark = pytest.mark.integration

BUILDS = [
    ("linux/arm64", GO_NEW, "gcc"), ("linux/arm64", GO_NEW, "clang"), ("linux/arm64", GO_OLD, "gcc"),
    ("linux/arm/v7", GO_NEW, "gcc"), ("linux/riscv64", GO_NEW, "gcc"), ("linux/s390x", GO_NEW, "gcc"),
    ("linux/386", GO_NEW, "gcc"), ("linux/amd64", GO_NEW, "clang"),
]


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def pyelftools_units(data: bytes) -> tuple[DwarfUnit, ...]:
    """What pyelftools reads of the same units (the façade's reader before it had its own)."""
    elf = ELFFile(io.BytesIO(data))
    if not elf.has_dwarf_info():
        return ()
    dw = elf.get_dwarf_info(relocate_dwarf_sections=False, follow_links=False)
    out = []
    for cu in dw.iter_CUs():
        top = cu.get_top_DIE()

        def attr(name: str, top: Any = top) -> Any:
            a = top.attributes.get(name)
            return a.value if a is not None else None

        lang = language_name(attr("DW_AT_language") if isinstance(attr("DW_AT_language"), int) else None)
        comp_dir = _s(attr("DW_AT_comp_dir")) if attr("DW_AT_comp_dir") is not None else None
        files: list[str] = []
        if lang in ("C", "C++", "Assembler"):
            lp = dw.line_program_for_CU(cu)
            if lp is not None:
                version = int(lp.header["version"])
                dirs = [_s(d) for d in lp.header.get("include_directory", [])]
                for entry in lp.header.get("file_entry", []):
                    idx = int(entry.dir_index)
                    if version >= 5:
                        base = dirs[idx] if 0 <= idx < len(dirs) else None
                    else:
                        base = comp_dir if idx == 0 else (dirs[idx - 1] if 0 < idx <= len(dirs) else None)
                    if base and not base.startswith("/") and comp_dir:
                        base = posixpath.join(comp_dir, base)
                    name = _s(entry.name)
                    path = posixpath.normpath(posixpath.join(base, name)) if base else name
                    if path not in files:
                        files.append(path)
        out.append(DwarfUnit(name=_s(attr("DW_AT_name") or ""), language=lang,
                             producer=_s(attr("DW_AT_producer")) if attr("DW_AT_producer") is not None else None,
                             comp_dir=comp_dir, files=tuple(files)))
    return tuple(out)


@pytest.mark.parametrize(("target", "go_spec", "compiler"), BUILDS, ids=lambda v: str(v).replace("/", "_"))
def test_dwarf_matches_pyelftools(builder: Builder, target: str, go_spec: str, compiler: str) -> None:
    path = builder.build("clean/libc", target, go_spec, compiler).path
    facts = read_elf(str(path))
    assert facts.dwarf == pyelftools_units(path.read_bytes())
    assert any(u.language == "C" and u.files for u in facts.dwarf)
    assert not [w for w in facts.warnings if w.startswith("DWARF")]


def test_dwarf_of_go_1_15_zdebug(tmp_path: Path) -> None:
    data = build_pure(go_legacy(), "amd64", tmp_path, "Go 1.15")
    assert ELFFile(io.BytesIO(data)).get_section_by_name(".zdebug_info") is not None
    p = tmp_path / "legacy"
    p.write_bytes(data)
    units = read_elf(str(p)).dwarf
    assert units and units == pyelftools_units(data)


def test_dwarf_of_libc6_dbg() -> None:
    """A real distribution debug file (DWARF 5 from GCC 12, dwz-compressed: DW_FORM_GNU_strp_alt)."""
    files = sorted(Path("/usr/lib/debug/.build-id").glob("*/*.debug"))
    need(bool(files), "the host's libc6-dbg package")
    big = max(files, key=lambda p: p.stat().st_size)
    facts = read_elf(str(big))
    assert len(facts.dwarf) > 100 and facts.dwarf == pyelftools_units(big.read_bytes())


def _arm_files(builder: Builder) -> list[Path]:
    from cgocheck.core import folders

    out = [builder.build("clean/libc", t, GO_NEW, "gcc").path for t in ("linux/arm/v7", "linux/arm/v5")]
    top = folders.sysroots()
    for name in ("bookworm-armhf", "bookworm-armel", "bullseye-armhf"):
        out += [p.resolve() for p in (top / name / "usr" / "lib").glob("arm-linux-*/libc.so.6")]
    return out


def test_arm_attributes_match_pyelftools_and_readelf(builder: Builder) -> None:
    need_tool("readelf")
    for path in _arm_files(builder):
        a = read_elf(str(path)).arm_attributes
        assert a is not None, path
        with open(path, "rb") as f:
            sec = next(s for s in ELFFile(f).iter_sections() if isinstance(s, ARMAttributesSection))
            theirs = [(str(attr.tag).replace("TAG_", "Tag_"), str(attr.value))
                      for sub in sec.iter_subsections() if sub.header["vendor_name"] == "aeabi"
                      for subsub in sub.iter_subsubsections() for attr in subsub.iter_attributes()
                      if attr.tag != "TAG_FILE"]
        assert list(a.raw) == theirs, path
        text = run(["readelf", "-A", "-W", str(path)]).stdout
        m = re.search(r"Tag_CPU_arch: (\S+)", text)
        assert m is not None and a.cpu_arch == m.group(1), (a.cpu_arch, text)
        m = re.search(r"Tag_ABI_VFP_args: (.+)", text)
        assert (a.vfp_args is None) == (m is None)


def test_dynamic_view_matches_lief_on_sysroot_libraries() -> None:
    from cgocheck.core import folders

    top = folders.sysroots()
    libs = sorted({p.resolve() for p in top.glob("*/usr/lib/*-linux-*/lib*.so.*") if p.resolve().is_file()})
    need(len(libs) > 20, "Debian sysroots")
    checked = 0
    for lib in libs[::7]:
        with open(lib, "rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        theirs, ours = read_dynamic_both(str(lib))
        assert theirs == ours, lib
        checked += 1
    assert checked > 10
