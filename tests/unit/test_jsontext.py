"""cgocheck.report.jsontext writes what ``json.dumps(obj, indent=2)`` writes: on real
reports (host libraries inspected against a target, with findings) and on random trees with
every kind of value JSON takes, and fails the same way on what JSON does not take."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgocheck.commands.inspect import InspectOptions, inspect_paths
from cgocheck.core.targets import parse_target
from cgocheck.report import jsonfmt, jsontext
from tests.support.resolve_tree import HOST_OK, HOST_REASON, T


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Name(str):
    pass


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 70), max_value=1 << 70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # every code point: control characters, non-ASCII, lone surrogates
    | st.sampled_from([Level.LOW, Level.HIGH, Name("sub-classed"), -0.0, 1e300, 5e-324])
)
keys = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6)
    | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(keys, inner, max_size=6)
    | st.dictionaries(st.text(), inner, max_size=3).map(OrderedDict),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(trees)
def test_random_trees_are_written_as_json_writes_them(tree: object) -> None:
    assert jsontext.dumps(tree) == json.dumps(tree, indent=2)


@pytest.mark.skipif(not HOST_OK, reason=HOST_REASON)
def test_real_reports_are_written_as_json_writes_them() -> None:
    libs = sorted(p for p in Path(f"/usr/lib/{T}").glob("lib*.so*") if p.is_file() and not p.is_symlink())[:40]
    report = inspect_paths([str(p) for p in libs], InspectOptions(target=parse_target("linux/arm64")), jobs=1)
    data = jsonfmt.report_to_json(report, 1)
    assert len(data["files"]) >= 20 and any(f["findings"] for f in data["files"])  # findings: a wrong target
    text = jsontext.dumps(data)
    assert text == json.dumps(data, indent=2)
    assert json.loads(text) == json.loads(json.dumps(data))


@pytest.mark.parametrize("bad", [{1, 2}, {"k": object()}, [b"bytes"], {(1, 2): "tuple key"}])
def test_what_json_refuses_is_refused_alike(bad: object) -> None:
    with pytest.raises(TypeError) as theirs:
        json.dumps(bad, indent=2)
    with pytest.raises(TypeError) as ours:
        jsontext.dumps(bad)
    assert type(theirs.value) is type(ours.value)
