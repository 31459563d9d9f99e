"""The pieces of cgocheck deps on text as Debian ships it: symbols files (deb-symbols(5)),
shlibs files (deb-shlibs(5)), dpkg's version order and Dpkg::Deps' sort."""

from __future__ import annotations

import pytest

from cgocheck.loader.shlibdeps import _normalise, _sort_key, parse_symbols, shlibs_dependency, split_soname, vcmp

LIBC = """\
libc.so.6 libc6 #MINVER#
| libc6 (>> 2.36), libc6 (<< 2.37)
* Build-Depends-Package: libc-dev
 GLIBC_2.17@GLIBC_2.17 2.17
 GLIBC_PRIVATE@GLIBC_PRIVATE 0 1
 __libc_start_main@GLIBC_2.34 2.34
 malloc@GLIBC_2.17 2.17
#MISSING: 2.30# old_symbol@GLIBC_2.17 2.17
 (c++)"foo::bar()@Base" 1.0
 (arch=arm64|optional)tagged@GLIBC_2.17 2.25
libm.so.6 libc6 #MINVER#
 sin@GLIBC_2.17 2.17
"""


def test_parse_symbols() -> None:
    objs = parse_symbols(LIBC)
    libc = objs["libc.so.6"]
    assert libc.deps == ["libc6 #MINVER#", "libc6 (>> 2.36), libc6 (<< 2.37)"]
    assert libc.fields == {"Build-Depends-Package": "libc-dev"}
    assert libc.symbols["__libc_start_main@GLIBC_2.34"].minver == "2.34"
    assert libc.symbols["GLIBC_PRIVATE@GLIBC_PRIVATE"].dep_id == 1
    assert libc.symbols["old_symbol@GLIBC_2.17"].deprecated
    assert libc.symbols["tagged@GLIBC_2.17"].minver == "2.25"  # a tag that is no pattern keeps the symbol
    assert libc.patterns == 1  # (c++): matched by no exact lookup, as in dpkg-shlibdeps
    assert libc.smallest() == "2.17" and libc.smallest(1) == "0"
    assert list(objs["libm.so.6"].symbols) == ["sin@GLIBC_2.17"]


@pytest.mark.parametrize(("soname", "want"), [
    ("libz.so.1", ("libz", "1")), ("libfoo-2.0.so", ("libfoo", "2.0")), ("libssl.so.3", ("libssl", "3")),
    ("libpcprofile.so", None),
])
def test_split_soname(soname: str, want: tuple[str, str] | None) -> None:
    assert split_soname(soname) == want


def test_shlibs() -> None:
    text = "libz 1 zlib1g (>= 1:1.2.3.3.dfsg)\nudeb: libz 1 zlib1g-udeb (>= 1:1.2.3.3.dfsg)\n# c\nlibfoo 2 libfoo2\n"
    assert shlibs_dependency(text, "libz.so.1") == "zlib1g (>= 1:1.2.3.3.dfsg)"
    assert shlibs_dependency(text, "libz.so.1", "udeb") == "zlib1g-udeb (>= 1:1.2.3.3.dfsg)"
    assert shlibs_dependency(text, "libfoo.so.2") == "libfoo2"
    assert shlibs_dependency(text, "libz.so.2") is None


@pytest.mark.parametrize(("a", "b", "want"), [
    ("2.34", "2.17", 1), ("1:1.2", "2.0", 1), ("3.0.3", "3.0.3~rc1", 1), ("1.2-1", "1.2-1+deb12u1", -1),
    ("2.36", "2.36", 0),
])
def test_debian_version_order(a: str, b: str, want: int) -> None:
    assert vcmp(a, b) == want


def test_sort_and_normalise() -> None:
    deps = ["libssl3 (>= 3.0.3)", "libc6 (>= 2.34)", "libc6 (<< 2.37)", "libc6 (>> 2.36)", "zlib1g"]
    assert sorted(deps, key=_sort_key) == ["libc6 (>= 2.34)", "libc6 (>> 2.36)", "libc6 (<< 2.37)",
                                           "libssl3 (>= 3.0.3)", "zlib1g"]
    assert _normalise("libfoo1  (>=1.2)|libbar ( >= 2 )") == "libfoo1 (>= 1.2) | libbar (>= 2)"
