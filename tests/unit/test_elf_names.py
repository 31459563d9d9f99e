"""cgocheck.elf.names: our own tables of the EM_*/ET_*/ELFOSABI_* and ARM attribute tag
spellings give, for every value, the name pyelftools' enum tables give (the spellings the
facts have always used); pyelftools is imported here only, never by the header reader."""

from __future__ import annotations

import pytest
from elftools.elf.enums import ENUM_ATTR_TAG_ARM, ENUM_E_MACHINE, ENUM_E_TYPE, ENUM_EI_OSABI

from cgocheck.elf import header, names
from cgocheck.elf.armattr import tag_name


def _reverse(table: dict[str, object]) -> dict[int, str]:
    # how the header reader named values when it reversed pyelftools' tables (a value with two
    # names takes the later one)
    return {int(v): str(k) for k, v in table.items() if k != "_default_"}  # type: ignore[call-overload]


@pytest.mark.parametrize(("ours", "theirs"), [
    (names.E_MACHINE, ENUM_E_MACHINE),
    (names.E_TYPE, ENUM_E_TYPE),
    (names.EI_OSABI, ENUM_EI_OSABI),
    (names.ATTR_TAG_ARM, ENUM_ATTR_TAG_ARM),
], ids=["e_machine", "e_type", "ei_osabi", "arm_attr_tag"])
def test_tables_equal_pyelftools(ours: dict[int, str], theirs: dict[str, object]) -> None:
    assert ours == _reverse(dict(theirs))
    for name, value in theirs.items():
        if name != "_default_":
            assert isinstance(value, int)
            assert value in ours


def test_every_value_is_named_as_pyelftools_names_it() -> None:
    em, et, osabi, tags = (_reverse(dict(t)) for t in (ENUM_E_MACHINE, ENUM_E_TYPE, ENUM_EI_OSABI, ENUM_ATTR_TAG_ARM))
    for code in range(0x10000):
        assert header.machine_enum_name(code) == em.get(code, f"EM_{code}")
    for code in range(0x10000):
        assert header.type_name(code) == et.get(code, str(code))
    for code in range(256):
        assert header.osabi_name(code) == osabi.get(code, str(code))
    for tag in range(512):
        assert tag_name(tag) == tags.get(tag, f"TAG_{tag}").replace("TAG_", "Tag_", 1)
    assert header.machine_enum_name(183) == "EM_AARCH64"
    assert header.machine_enum_name(62) == "EM_X86_64"
    assert header.type_name(3) == "ET_DYN"
    assert header.osabi_name(0) == "ELFOSABI_SYSV"
    assert header.machine_enum_name(168) == "EM_ECOG1X"  # pyelftools names 168 twice; the later name


def test_the_library_bases_are_still_named() -> None:
    from elftools.common.exceptions import DWARFError, ELFError
    from elftools.construct.core import ConstructError

    from cgocheck.elf import damage

    assert damage.library_bases() == (ELFError, DWARFError, ConstructError)
    assert (ELFError, DWARFError, ConstructError) == damage.LIBRARY_BASES
