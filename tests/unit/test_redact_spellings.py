"""The redactor's own html.escape and urllib.parse.quote (written out so that every command's
start imports neither) give what the standard library gives, on every kind of home path."""

from __future__ import annotations

import html
import random
from urllib.parse import quote

import pytest

from cgocheck.core import redact

SAMPLES = [
    "", "/", "/home/alice", "/home/a b", "/home/o'neil", '/home/"q"', "/home/a&b<c>d", "/home/ünï", "/home/日本",
    "/home/%41", "/home/~x_y.z-w", "/home/a+b=c;d,e?f#g@h!i$j*k(l)m[n]o{p}q|r\\s^t`u", "/home/\x00\x1f\x7f",
    "/home/😀", "relative/x", "/home/\u2028",
]


def _random_paths(n: int) -> list[str]:
    rng = random.Random(16)
    alphabet = [chr(c) for c in range(0x20, 0x250)] + ["😀", "日", "\u2028", "\t", "\n"]
    return ["/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(n)]


def test_same_as_the_standard_library() -> None:
    for s in SAMPLES + _random_paths(5000):
        assert redact.html_escape(s, quote=True) == html.escape(s, quote=True), s
        assert redact.html_escape(s, quote=False) == html.escape(s, quote=False), s
        assert redact.uri_quote(s) == quote(s), s


def test_not_utf8_raises_as_quote_does() -> None:
    s = "/home/\udcff"
    with pytest.raises(UnicodeEncodeError):
        quote(s)
    with pytest.raises(UnicodeEncodeError):
        redact.uri_quote(s)
