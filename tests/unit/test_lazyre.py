"""cgocheck.core.lazyre: a pattern compiled on first use is the pattern re.compile gives."""

from __future__ import annotations

import re

from cgocheck.core.lazyre import lazy


def test_lazy_is_compiled_once_with_its_flags() -> None:
    p = lazy(r"a.b", re.S)
    assert p._compiled is None
    assert p() is p()
    assert p().pattern == "a.b"
    assert p().flags == re.compile(r"a.b", re.S).flags
    assert p().match("a\nb")


def test_lazy_bytes() -> None:
    p = lazy(rb"\x00(lib)")
    m = p().search(b"x\x00lib")
    assert m is not None
    assert m.group(1) == b"lib"
