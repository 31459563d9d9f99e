"""The shipped JSON schemas, applied to the saved reports cgocheck reads back.

A saved report (``diff`` inputs, ``report merge`` inputs, the baseline, matrix cells) is read
by code that trusts its shape: a ``files`` that is a number, a ``needed`` that is a table,
would be a traceback deep in a renderer. So a report is checked against the schema its
writer follows (``cgocheck/data/report.schema.json``, ``matrix.schema.json``) when it is
read, and a mismatch is one line naming where (``files[0].facts.needed: not an array``).

jsonschema is a test dependency, not a runtime one; the schemas use a small part of JSON
Schema (type, enum, const, properties, required, additionalProperties, items, pattern,
minimum, minLength, local $ref), which :func:`first_error` implements. The recursion is
bounded by the nesting cap the bounded reader enforces (cgocheck.core.files).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """A shipped schema (``report`` or ``matrix``): package data, not user input."""
    from cgocheck.core import packagedata

    data: dict[str, Any] = json.loads(packagedata.read_text(f"{name}.schema.json"))
    return data


def _is(value: Any, typ: str) -> bool:
    if typ in ("integer", "number") and isinstance(value, bool):
        return False
    if typ == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[typ])


def _where(path: list[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _at(path: list[str | int]) -> str:
    return f"{_where(path)}: " if path else ""


def _kind(value: Any) -> str:
    for name in _TYPES:
        if _is(value, name):
            return {"object": "an object", "array": "an array", "integer": "an integer"}.get(name, f"a {name}")
    return type(value).__name__


def first_error(value: Any, node: dict[str, Any], root: dict[str, Any] | None = None,
                path: list[str | int] | None = None, *, required: bool = True) -> str | None:
    """The first place VALUE does not follow the schema NODE, as one line; None if it does.
    ``required=False`` checks the fields that are there, not that every required one is."""
    root = root if root is not None else node
    path = path if path is not None else []
    if "$ref" in node:
        ref = node["$ref"]
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return first_error(value, target, root, path, required=required)
    if "const" in node and value != node["const"]:
        return f"{_at(path)}must be {json.dumps(node['const'])}"
    if "enum" in node and not any(value == e and type(value) is type(e) for e in node["enum"]):
        return f"{_at(path)}must be one of {', '.join(json.dumps(e) for e in node['enum'])}"
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_is(value, t) for t in types):
            return f"{_at(path)}{_kind(value)}, not {' or '.join(types)}"
    if isinstance(value, str):
        if len(value) < node.get("minLength", 0):
            return f"{_at(path)}an empty string"
        if "pattern" in node and not re.search(node["pattern"], value):
            return f"{_at(path)}{value[:40]!r} does not match {node['pattern']}"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and "minimum" in node and value < node["minimum"]:
        return f"{_at(path)}less than {node['minimum']}"
    if isinstance(value, dict):
        for key in node.get("required", ()) if required else ():
            if key not in value:
                return f"{_at(path)}no {key}"
        props = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                err = first_error(item, props[key], root, [*path, key], required=required)
            elif extra is False:
                err = f"{_at([*path, key])}not a known field"
            elif isinstance(extra, dict):
                err = first_error(item, extra, root, [*path, key], required=required)
            else:
                err = None
            if err:
                return err
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            err = first_error(item, node["items"], root, [*path, i], required=required)
            if err:
                return err
    return None


def report_error(data: Any, *, required: bool = True) -> str | None:
    """Where a saved JSON report does not follow report.schema.json (a 1.x minor version is
    read as 1.0: its additions are the reader's to ignore). ``required=False``: the fields
    that are there have their types, whether or not all are there (a baseline written by
    hand, a report of an older 1.x cgocheck)."""
    if isinstance(data, dict) and str(data.get("schema_version", "")).startswith("1."):
        data = {**data, "schema_version": "1.0"}
    return first_error(data, schema("report"), required=required)
