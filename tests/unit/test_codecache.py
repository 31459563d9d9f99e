"""cgocheck.core.codecache: the dataclass methods a command line takes from its cache are the
ones dataclasses compiles (same bytecode, same behaviour), the cache is written once and
then only read, and a damaged, forged or hostile cache file is ignored, never trusted, never
followed, never waited on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# dataclasses of every kind, their methods' code and what they do, as one JSON line
PROBE = r'''
import dataclasses, json, sys
from cgocheck.core import codecache
if sys.argv[1] == "cached":
    codecache.install()
from dataclasses import dataclass, field

@dataclass(frozen=True)
class Frozen:
    a: int
    b: str = "x"
    c: tuple = field(default_factory=tuple)

@dataclass(order=True)
class Ordered:
    n: int
    tags: list = field(default_factory=list, compare=False)

@dataclass(eq=False, repr=False)
class Plain:
    """has a docstring"""
    v: object = None

@dataclass(frozen=True, slots=True, kw_only=True)
class Slotted:
    k: int = 0

def code(f):
    c = f.__code__
    return [c.co_code.hex(), repr(c.co_consts), c.co_names, c.co_varnames, c.co_filename, c.co_name]

methods = {f"{cls.__name__}.{m}": code(getattr(cls, m)) for cls in (Frozen, Ordered, Plain, Slotted)
           for m in ("__init__", "__repr__", "__eq__", "__lt__", "__hash__", "__setattr__", "__delattr__")
           if m in vars(cls) and getattr(cls, m) is not None}
f = Frozen(1)
try:
    f.a = 2
    frozen = "mutable"
except dataclasses.FrozenInstanceError as e:
    frozen = type(e).__name__
behaviour = [repr(f), f == Frozen(1, "x", ()), hash(f) == hash(Frozen(1)), frozen,
             Ordered(1, ["a"]) < Ordered(2), Ordered(1, ["a"]) == Ordered(1, ["b"]),
             repr(Slotted(k=3)), Slotted(k=3) == Slotted(k=3), Plain() == Plain(),
             [f.name for f in dataclasses.fields(Frozen)], dataclasses.asdict(dataclasses.replace(f, b="y"))]
codecache.save()
print(json.dumps({"methods": methods, "behaviour": behaviour, "stats": codecache.stats()}))
'''


def probe(home: Path, mode: str, **env: str) -> dict[str, object]:
    p = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, cwd=REPO, check=False,
                       env={**os.environ, "PYTHONPATH": str(REPO), "CGOCHECK_HOME": str(home), **env})
    assert p.returncode == 0, p.stderr
    out: dict[str, object] = json.loads(p.stdout)
    return out


def cache_files(home: Path) -> list[Path]:
    d = home / "cache" / "code"
    return sorted(d.iterdir()) if d.is_dir() else []


def test_cached_methods_are_the_ones_dataclasses_compiles(tmp_path: Path) -> None:
    plain = probe(tmp_path, "plain")
    first = probe(tmp_path, "cached")  # compiles and writes the cache
    assert cache_files(tmp_path) and first["stats"][0] > 10  # type: ignore[index]
    again = probe(tmp_path, "cached")  # every method from the file
    assert again["stats"] == [0, first["stats"][0]]  # type: ignore[index]
    assert plain["methods"] == first["methods"] == again["methods"]
    assert plain["behaviour"] == first["behaviour"] == again["behaviour"]


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cgocheck", *args], capture_output=True, text=True, cwd=REPO,
                          check=False, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO), "CGOCHECK_HOME": str(home), **env})


def test_the_command_line_writes_the_cache_once(tmp_path: Path) -> None:
    first = cli(tmp_path, "config", "--format", "json")
    assert first.returncode == 0, first.stderr
    (cached,) = cache_files(tmp_path)
    stamp = cached.stat().st_mtime_ns
    again = cli(tmp_path, "config", "--format", "json")
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, first.stderr)
    assert cached.stat().st_mtime_ns == stamp  # nothing new compiled: not rewritten
    off = tmp_path / "off"
    assert cli(off, "config", "--format", "json", CGOCHECK_CODECACHE="0").stdout == first.stdout.replace(
        str(tmp_path), str(off))
    assert not cache_files(off)


def _damage(kind: str, f: Path) -> None:
    import marshal

    if kind == "garbage":
        f.write_bytes(b"\x00not marshal data" * 50)
    elif kind == "truncated":
        data = f.read_bytes()
        f.write_bytes(data[: len(data) // 2])
    elif kind == "other interpreter":
        head, table, tables = marshal.loads(f.read_bytes())
        f.write_bytes(marshal.dumps((head.replace("cpython", "otherpy"), table, tables)))
    elif kind == "not code":
        head, table, tables = marshal.loads(f.read_bytes())
        f.write_bytes(marshal.dumps((head, {k: "print('owned')" for k in table}, tables)))
    elif kind == "old format":
        head, table, _ = marshal.loads(f.read_bytes())
        f.write_bytes(marshal.dumps((head, table)))
    elif kind == "fifo":
        f.unlink()
        os.mkfifo(f)
    elif kind == "link to /dev/zero":
        f.unlink()
        f.symlink_to("/dev/zero")
    elif kind == "folder":
        f.unlink()
        f.mkdir()
        (f / "x").write_text("x")
    elif kind == "too big":
        with open(f, "ab") as out:
            out.truncate(17 << 20)


KINDS = ["garbage", "truncated", "other interpreter", "not code", "old format", "fifo", "link to /dev/zero", "folder",
         "too big"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_cache_is_ignored(tmp_path: Path, kind: str) -> None:
    good = cli(tmp_path, "config", "--format", "json")
    assert good.returncode == 0
    (cached,) = cache_files(tmp_path)
    _damage(kind, cached)
    got = cli(tmp_path, "config", "--format", "json")  # timeout=60: a FIFO must not be waited on
    assert (got.returncode, got.stdout, got.stderr) == (0, good.stdout, good.stderr)
    assert "owned" not in got.stdout + got.stderr
    if kind == "folder":
        assert cached.is_dir()  # cannot be replaced: left alone, the command works without it
        return
    assert cached.is_file() and not cached.is_symlink()  # replaced by a good one (a link: never followed)
    stamp = cached.stat().st_mtime_ns
    assert cli(tmp_path, "config", "--format", "json").stdout == good.stdout
    assert cached.stat().st_mtime_ns == stamp  # and that one is read: nothing compiled, nothing written


PARSED = r'''
import json, sys
from cgocheck.core import codecache, packagedata
codecache.install()
out = {name: packagedata.read_toml(name) for name in ("rules.toml", "targets.toml")}
codecache.save()
print(json.dumps({"tables": out, "stats": codecache.stats()}, sort_keys=True))
'''


def test_package_tables_from_the_cache_are_the_parsed_ones(tmp_path: Path) -> None:
    import tomllib

    from cgocheck.core import packagedata

    runs = []
    for _ in range(2):  # parsed and kept, then taken from the cache
        p = subprocess.run([sys.executable, "-c", PARSED], capture_output=True, text=True, cwd=REPO, check=False,
                           env={**os.environ, "PYTHONPATH": str(REPO), "CGOCHECK_HOME": str(tmp_path)})
        assert p.returncode == 0, p.stderr
        runs.append(json.loads(p.stdout)["tables"])
    fresh = {n: tomllib.loads((Path(packagedata.DATA) / n).read_text()) for n in ("rules.toml", "targets.toml")}
    assert runs[0] == runs[1] == json.loads(json.dumps(fresh))
