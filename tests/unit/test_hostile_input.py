"""Hostile input, class by class, at the code that handles each class: properties checked
with Hypothesis around every cap and budget (CGOCHECK_FUZZ_EXAMPLES examples each; many
more under --exhaustive), against oracles where there is one (tomllib, json, jsonschema,
the regex the loader scan replaced, expansion without a budget), and a scan that keeps
every reader of a text file on the bounded one (cgocheck.core.files).

The command-line view of the same classes (time, memory, one error line, strace) is
tests/integration/test_hostile_inputs.py.
"""

from __future__ import annotations

import ast
import json
import os
import re
import time
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cgocheck.core import files
from cgocheck.core.errors import BadInput, one_line, shown
from cgocheck.core.schema import report_error, schema
from cgocheck.loader.ldconf import Budget, glob_in_root
from cgocheck.loader.search import builtin_dirs
from cgocheck.results import FileError
from cgocheck.settings import MAX_TIMEOUT, ConfigError, key_lines, load_settings
from cgocheck.sysroot import meta
from cgocheck.sysroot.fsroot import FsRoot
from cgocheck.sysroot.pkgconfig import MAX_EXPANDED, MAX_VALUE, parse_pc
from tests.support.cli import invoke
from tests.support.paths import REPO

EXAMPLES = int(os.environ.get("CGOCHECK_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow])
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


# --- the scan: every text, TOML or JSON read goes through the bounded reader ------------

# (module, function) -> why it may read without cgocheck.core.files. Anything else that calls
# read_text/read_bytes/open/os.fdopen/json.load(s)/tomllib.load(s) fails the test.
NOT_USER_INPUT = {
    ("core/packagedata.py", "read_bytes"): "cgocheck's own data files (rules, targets, schemas), shipped with it",
    ("core/packagedata.py", "read_toml"): "rules.toml and targets.toml, shipped with cgocheck",
    ("core/schema.py", "schema"): "the JSON schemas, package data",
    ("commands/matrix.py", "_tool_identity"): "cgocheck's own code and data, hashed",
    ("sysroot/creator.py", "creation_digest"): "cgocheck's own code, hashed",
    ("commands/matrix.py", "tree_digest"): "a source tree hashed in chunks, regular files only",
    ("build/toolchains.py", "_verify_and_extract"): "a wheel's members unpacked (zipfile), written",
    ("build/prebuilt.py", "_open_regular"): "ELF objects and ar archives, regular files only, under caps (ELF input)",
    ("commands/inspect.py", "expand_inputs"): "the first 4 bytes of a regular file, to sniff ELF (ELF input)",
    ("commands/matrix.py", "_write_atomic"): "writes the result cache",
    ("core/redact.py", "write_report"): "writes a report",
    ("sysroot/fsroot.py", "open_regular"): "the sysroot's opener; its files are read by files.read_open",
    ("core/sandbox.py", "_stat"): "/proc/PID/stat of a child cgocheck started (the kernel's, one line)",
    ("loader/qemu.py", "binfmt_registered"): "the kernel's binfmt_misc entries (a few lines each)",
    ("sysroot/dpkgdb.py", "read_control_members"): "a .deb's control.tar, already in memory (dpkg-deb's output)",
    ("sysroot/dpkgdb.py", "keep_package"): "appends to the sysroot's own dpkg status file (a write)",
    ("sysroot/image.py", "open"): "an image folder's opener: regular files only, their sizes to the callers' caps",
    ("sysroot/image.py", "_open_tar_source"): "an image tarball's member index, members read under the caps",
    ("sysroot/image.py", "_read_json"): "image JSON: regular file, at most MAX_JSON bytes, digest checked",
    ("sysroot/image.py", "_oci"): "index.json hashed, at most MAX_JSON bytes",
    ("sysroot/image.py", "_open_layer"): "a layer stream, inflated under the import's byte and entry budgets",
    ("sysroot/image.py", "_decompressed_image"): "a compressed image archive, inflated under the import's budgets",
    ("sysroot/image.py", "_members"): "a layer's tar stream, member by member under the import's budgets",
    ("sysroot/image.py", "add"): "writes a layer member into the new sysroot (O_EXCL, O_NOFOLLOW)",
}


def _reads(tree: ast.AST) -> list[tuple[str, str, int]]:
    """(function, call, line) of every direct file read in a module's syntax tree."""
    found: list[tuple[str, str, int]] = []
    stack: list[str] = []

    def bounded(call: ast.Call) -> bool:  # files.X(...), or a call handed files.LIMIT (or `limits`)
        f = call.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "files":
            return True
        return any((isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name) and a.value.id == "files"
                    and a.attr.isupper()) or (isinstance(a, ast.Name) and a.id == "limits") for a in call.args)

    class Visitor(ast.NodeVisitor):
        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            stack.append(node.name)
            self.generic_visit(node)
            stack.pop()

        def visit_Call(self, node: ast.Call) -> None:
            f, what = node.func, None
            if isinstance(f, ast.Attribute):
                module = f.value.id if isinstance(f.value, ast.Name) else None
                if f.attr in ("read_text", "read_bytes"):
                    what = f.attr
                elif module in ("json", "tomllib") and f.attr in ("load", "loads"):
                    what = f"{module}.{f.attr}"
                elif module == "os" and f.attr == "fdopen":
                    what = "os.fdopen"
                elif f.attr == "open" and module != "os":
                    what = ".open"
            elif isinstance(f, ast.Name) and f.id == "open":
                what = "open"
            if what and not bounded(node):
                found.append((stack[0] if stack else "<module>", what, node.lineno))
            self.generic_visit(node)

    Visitor().visit(tree)
    return found


def test_every_reader_of_a_text_file_uses_the_bounded_one() -> None:
    package = REPO / "cgocheck"
    unexplained, used = [], set()
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel.startswith(("elf/", "data/")) or rel == "core/files.py":
            continue  # ELF files (their own reader), the shim run inside builds, the reader itself
        for func, what, line in _reads(ast.parse(path.read_text(encoding="utf-8"))):
            if (rel, func) in NOT_USER_INPUT:
                used.add((rel, func))
            else:
                unexplained.append(f"cgocheck/{rel}:{line}: {what} in {func}")
    assert not unexplained, "read through cgocheck.core.files instead:\n" + "\n".join(unexplained)
    assert used == set(NOT_USER_INPUT), f"stale exceptions: {set(NOT_USER_INPUT) - used}"


# --- nesting and size around the caps ---------------------------------------------------

_STRING_NOISE = st.text(alphabet="[]{}\"'#\\ ,.=\nx\u00e9", max_size=12)


def _json_nested(depth: int, kinds: list[str], noise: str) -> str:
    text = json.dumps(noise)
    for i in range(depth):
        text = f"[{text}, 1]" if kinds[i % len(kinds)] == "[" else f'{{"k{i}": {text}}}'
    return text


@FUZZ
@given(depth=st.integers(0, 80), kinds=st.lists(st.sampled_from("[{"), min_size=1, max_size=4), noise=_STRING_NOISE,
       cap=st.sampled_from([8, 32, 64]))
def test_json_nesting_around_the_cap(depth: int, kinds: list[str], noise: str, cap: int) -> None:
    """Accepted (and parsed as json parses it) exactly when nested no deeper than the cap;
    brackets inside strings never count."""
    text = _json_nested(depth, kinds, noise)
    limits = files.Limits("test file", 1 << 20, cap)
    if depth <= cap:
        assert files.loads_json(text, "t.json", limits) == json.loads(text)
    else:
        with pytest.raises(files.FileProblem, match=rf"t\.json: nested {depth} levels deep"):
            files.loads_json(text, "t.json", limits)


_TOML_STRING = st.sampled_from(['"{s}"', "'{s}'", '"""{s}"""', "'''{s}'''"])


@FUZZ
@given(depth=st.integers(0, 70), inline=st.booleans(), quote=_TOML_STRING,
       noise=st.text(alphabet="[]{}#=, .x", max_size=10), comment=st.text(alphabet="[]{}\"' x", max_size=10),
       cap=st.sampled_from([4, 32]))
def test_toml_nesting_around_the_cap(depth: int, inline: bool, quote: str, noise: str, comment: str,
                                     cap: int) -> None:
    """Arrays and inline tables nested DEPTH deep, a string of any of TOML's four kinds
    (holding brackets) inside and a comment (holding brackets and quotes) after: accepted,
    and as tomllib reads it, exactly when DEPTH is within the cap."""
    if quote.startswith("'"):
        noise = noise.replace("'", "")
    value = quote.format(s=noise)
    for i in range(depth):
        value = f"{{k{i} = {value}}}" if inline else f"[{value}, 1]"
    text = f"x = {value} # {comment}\n"
    tomllib.loads(text)  # the text is valid TOML (when deep, tomllib would fail on recursion)
    limits = files.Limits("test file", 1 << 20, cap)
    if depth <= cap:
        assert files.loads_toml(text, "t.toml", limits) == tomllib.loads(text)
    else:
        with pytest.raises(files.FileProblem, match=rf"t\.toml: nested {depth} levels deep"):
            files.loads_toml(text, "t.toml", limits)


@FUZZ
@given(parts=st.integers(1, 80), header=st.booleans(), spaces=st.text(alphabet=" \t", max_size=3),
       quoted=st.booleans())
def test_toml_dotted_keys_around_the_cap(parts: int, header: bool, spaces: str, quoted: bool) -> None:
    """A dotted key (tomllib's handling is quadratic in its parts) is accepted exactly when it
    has at most the cap's parts, with blanks around its dots and quoted parts too."""
    names = [f'"p.{i}"' if quoted and i % 2 else f"p{i}" for i in range(parts)]
    key = f"{spaces}.{spaces}".join(names)
    text = f"[{key}]\nv = 1\n" if header else f"{key} = 1\n"
    cap = files.CONFIG.max_depth
    if parts <= cap:
        assert files.loads_toml(text, "t.toml", files.CONFIG) == tomllib.loads(text)
    else:
        with pytest.raises(files.FileProblem, match="a dotted key of more than 32 parts"):
            files.loads_toml(text, "t.toml", files.CONFIG)


_TOMLISH = st.lists(st.sampled_from([*"[]{}\"'#=,. \n\\xa1", '"""', "'''", "\\u00e9", "true", "x = ", "[[t]]\n"]),
                    max_size=40).map("".join)


@FUZZ
@given(text=_TOMLISH)
def test_any_toml_text_is_data_or_one_file_problem(text: str) -> None:
    """Whatever the text: tomllib's data, or a FileProblem; never another exception."""
    try:
        expected: Any = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        expected = None
    try:
        got: Any = files.loads_toml(text, "t.toml", files.CONFIG)
    except files.FileProblem as exc:
        assert "\n" not in exc.message
        return
    assert got == expected


@FUZZ
@given(size=st.integers(-3, 3), cap=st.sampled_from([1, 100, 4096]))
def test_sizes_around_the_cap(tmp_path: Path, size: int, cap: int) -> None:
    """A file of the cap's size is read whole; one byte more is refused, by its size unread."""
    n = max(0, cap + size)
    p = tmp_path / f"f{n}"
    p.write_bytes(b"x" * n)
    limits = files.Limits("test file", cap)
    if n <= cap:
        assert files.read_bytes(p, limits) == b"x" * n
        with p.open("rb") as f:
            assert files.read_open(f, limits, p) == b"x" * n
    else:
        with pytest.raises(files.FileProblem, match=f"{n} bytes, larger than the"):
            files.read_bytes(p, limits)


def test_what_is_not_a_regular_file_is_refused_unopened(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    os.symlink(fifo, tmp_path / "to-fifo")
    os.symlink("/dev/zero", tmp_path / "to-zero")
    (tmp_path / "real").write_text("x")
    os.symlink("real", tmp_path / "link")
    for path, says in ((fifo, "a FIFO"), (tmp_path / "to-fifo", "a FIFO"), ("/dev/zero", "a character device"),
                       (tmp_path / "to-zero", "a character device"), (tmp_path, "a folder")):
        with pytest.raises(files.FileProblem, match=f"{says}, not a regular file"):
            files.read_bytes(path, files.CONFIG)
    assert files.read_bytes(tmp_path / "link", files.CONFIG) == b"x"
    with pytest.raises(files.FileProblem, match="symbolic link"):
        files.read_bytes(tmp_path / "link", files.CONFIG, follow=False)
    with pytest.raises(files.FileProblem, match=r"not UTF-8 text \(byte 0xff on line 2\)"):
        files.decode(b"ok\n\xff", "t")
    with pytest.raises(files.FileProblem, match="4300 digits"):
        files.loads_json("[" + "1" * 5000 + "]", "t", files.REPORT)


def test_json_values_cap() -> None:
    limits = files.Limits("test file", 1 << 20, 8, max_values=100)
    assert files.loads_json("[" + ",".join(["{}"] * 50) + "]", "t", limits)
    with pytest.raises(files.FileProblem, match="more than 100 values"):
        files.loads_json("[" + ",".join(["{}"] * 51) + "]", "t", limits)


def test_shape_is_linear_on_what_made_regexes_quadratic() -> None:
    for text in ('"' + '\\"' * (4 << 20), "[a" + " " * (4 << 20) + ".b]", "." + " ." * (2 << 20), "/*" * (2 << 20)):
        t0 = time.monotonic()
        files.shape(text, "json", 64)
        files.shape(text, "toml", 32)
        assert time.monotonic() - t0 < 5, text[:20]
    t0 = time.monotonic()
    key_lines("[a" + " " * (1 << 20) + ".b]\nx = 1\n")  # the header regex took minutes here
    assert time.monotonic() - t0 < 5


# --- saved reports: the shipped schemas -------------------------------------------------


@pytest.fixture(scope="module")
def real_report() -> dict[str, Any]:
    """The JSON report of inspecting a real binary of this machine (and its libraries)."""
    from cgocheck.commands.inspect import inspect
    from cgocheck.policy import report_exit
    from cgocheck.report.jsonfmt import report_to_json

    report = inspect(["/bin/ls"], target=None)
    data: dict[str, Any] = report_to_json(report, report_exit(report, "error"))
    copied: dict[str, Any] = json.loads(json.dumps(data))
    return copied


_JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(
    max_size=3), lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), _JSON_VALUES, st.booleans()), min_size=1, max_size=3))
def test_schema_check_agrees_with_jsonschema(real_report: dict[str, Any], edits: list[tuple[int, Any, bool]]) -> None:
    """A real report with values replaced (or keys dropped) anywhere: cgocheck's own check
    of the shipped schema says what jsonschema says."""
    data = json.loads(json.dumps(real_report))
    for pos, value, drop in edits:
        nodes: list[tuple[Any, Any]] = []
        todo: list[Any] = [data]
        while todo:
            node = todo.pop()
            items = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) \
                else []
            for k, v in items:
                nodes.append((node, k))
                todo.append(v)
        if not nodes:
            break
        parent, key = nodes[pos % len(nodes)]
        if drop and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = value
    assume(not isinstance(data, dict) or data.get("schema_version") in ("1.0", None) or
           not str(data.get("schema_version")).startswith("1."))
    valid = jsonschema.Draft202012Validator(schema("report")).is_valid(data)
    assert (report_error(data) is None) == valid, report_error(data)


def test_real_report_follows_the_schema(real_report: dict[str, Any]) -> None:
    assert report_error(real_report) is None
    broken = json.loads(json.dumps(real_report))
    broken["files"][0]["facts"]["needed"] = {"libc.so.6": 1}
    assert report_error(broken) == "files[0].facts.needed: an object, not array"
    broken = json.loads(json.dumps(real_report))
    finding: dict[str, Any] = {"rule": "X001", "name": "n", "severity": "warning", "message": "m", "fix": "f",
                               "evidence": [], "file": None}
    broken["files"][0]["findings"] = [finding]
    assert report_error(broken) is None
    finding["severity"] = "fatal"
    assert report_error(broken) == 'files[0].findings[0].severity: must be one of "info", "warning", "error"'


# --- ld.so.conf globs: budgets ----------------------------------------------------------


@pytest.fixture(scope="module")
def glob_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An /etc/ld.so.conf.d with real files, folders, and links to itself and its parent."""
    root = tmp_path_factory.mktemp("globs")
    d = root / "etc" / "ld.so.conf.d"
    (d / "sub").mkdir(parents=True)
    for name in ("a.conf", "b.conf", "sub/c.conf", ".hidden.conf", "x.txt"):
        (d / name).write_text("/opt/lib\n")
    for name, target in (("s1", "."), ("s2", "."), ("up", ".."), ("abs", "/etc/ld.so.conf.d")):
        os.symlink(target, d / name)
    return root


_PART = st.sampled_from(["*", "?", "*.conf", "s?", "[ab].conf", "sub", "up", "..", ".", "s1", "abs", "etc",
                         "ld.so.conf.d", "[!a]*"])


@FUZZ
@given(parts=st.lists(_PART, min_size=1, max_size=14), budget=st.sampled_from([50, 500, 5000]))
def test_glob_budget(glob_tree: Path, parts: list[str], budget: int) -> None:
    """Any pattern ends within its budget of paths: when an unbudgeted glob looks at no more
    than the budget, the same matches and no note; when it looks at more, a note naming the
    budget and a subset of its matches."""
    pattern = "/etc/ld.so.conf.d/" + "/".join(parts)
    root = FsRoot(glob_tree)
    notes: list[str] = []
    t0 = time.monotonic()
    got = glob_in_root(root, pattern, Budget(notes, paths=budget))
    assert time.monotonic() - t0 < 5
    if len(parts) > 8:  # the unbudgeted oracle would explode (3 links per level)
        assert len(got) <= budget
        return
    unbounded = Budget([], paths=10**9)
    full = glob_in_root(root, pattern, unbounded)
    looked = 10**9 - unbounded.paths
    if looked > budget:
        assert any(f"more than {budget} paths" in n and "budget of glob paths" in n for n in notes), (looked, notes)
        assert set(got) <= set(full)
    else:
        assert got == full and not notes


def test_glob_through_self_links_stops_at_the_budget(tmp_path: Path) -> None:
    """Four `x -> .` links and 14 levels of '*': 4^13 paths; the budget ends it, with a note."""
    d = tmp_path / "etc" / "ld.so.conf.d"
    d.mkdir(parents=True)
    for x in "abcd":
        os.symlink(".", d / x)
    notes: list[str] = []
    t0 = time.monotonic()
    glob_in_root(FsRoot(tmp_path), "/etc/ld.so.conf.d/" + "*/" * 13 + "*.conf", Budget(notes))
    assert time.monotonic() - t0 < 5 and any("budget of glob paths" in n for n in notes)


def test_pattern_components_budget(glob_tree: Path) -> None:
    notes: list[str] = []
    assert glob_in_root(FsRoot(glob_tree), "/etc/ld.so.conf.d/" + "s1/" * 40 + "*.conf", Budget(notes)) == []
    assert any("budget of pattern components" in n for n in notes)


# --- .pc variable expansion: a size budget ----------------------------------------------


def _oracle_sizes(graph: list[tuple[str, list[int]]]) -> list[int]:
    sizes: list[int] = []
    for literal, refs in graph:
        sizes.append(len(literal) + sum(sizes[r] for r in refs))
    return sizes


def _oracle_values(graph: list[tuple[str, list[int]]]) -> list[str]:
    values: list[str] = []
    for literal, refs in graph:
        values.append(literal + "".join(values[r] for r in refs))
    return values


_GRAPH = st.integers(1, 40).flatmap(lambda n: st.tuples(*[
    st.tuples(st.text(alphabet="abc -=/", max_size=40), st.lists(st.integers(0, max(0, i - 1)), max_size=3 if i else 0))
    for i in range(n)
]))


@FUZZ
@given(graph=_GRAPH)
def test_pc_expansion_budget(graph: tuple[tuple[str, list[int]], ...]) -> None:
    """Variables built from earlier ones (doubling, tripling, ...): each value at most
    MAX_VALUE, all of them at most MAX_EXPANDED, fast; the values pkg-config would give when
    they fit, and a warning naming the budget when not."""
    g = [(lit, refs) for lit, refs in graph]
    lines = [f"v{i}={lit.strip()}" + "".join(f"${{v{r}}}" for r in refs) for i, (lit, refs) in enumerate(g)]
    text = "\n".join([*lines, "Name: x", "Description: y", "Version: 1", f"Libs: ${{v{len(g) - 1}}}"]) + "\n"
    t0 = time.monotonic()
    pc = parse_pc(text, "/usr/lib/pkgconfig/x.pc")
    assert time.monotonic() - t0 < 2
    values = [pc.variables[f"v{i}"] for i in range(len(g))]
    assert all(len(v) <= MAX_VALUE for v in values) and sum(map(len, values)) <= MAX_EXPANDED
    stripped = [(lit.strip(), refs) for lit, refs in g]
    sizes = _oracle_sizes(stripped)
    if max(sizes) <= MAX_VALUE and sum(sizes) + sizes[-1] <= MAX_EXPANDED:
        assert values == _oracle_values(stripped) and not pc.warnings
    elif max(sizes) > MAX_VALUE:
        assert any("expands to more than" in w for w in pc.warnings)


def test_doubling_pc_is_cut_at_the_budget() -> None:
    lines = ["a=" + "x" * 64] + [f"v{i}=${{{'a' if i == 0 else f'v{i - 1}'}}}${{{'a' if i == 0 else f'v{i - 1}'}}}"
                                 for i in range(40)]
    pc = parse_pc("\n".join([*lines, "Libs: ${v39}"]) + "\n", "/x.pc")
    assert len(pc.libs) == MAX_VALUE and any("v10 expands to more than" in w for w in pc.warnings)


# --- the loader's built-in folders: a linear scan, the regex's answers ------------------


def _regex_dirs(data: bytes) -> list[str] | None:
    """What the loader scan said before it was made linear (fine on small inputs)."""
    for m in re.finditer(rb"(?:/[\x21-\x7e]{1,200}/\x00){2,16}", data):
        dirs = [d.decode() for d in m.group(0).split(b"\x00") if d]
        if any("lib" in d for d in dirs):
            return dirs
    return None


_LOADER_BYTES = st.lists(st.sampled_from([b"/", b"\x00", b"lib", b"x", b"\x01", b"/lib/", b"\x00/usr/lib/\x00",
                                          b"/" * 90, b"a" * 150, b"/a/\x00", b"/a/\x00" * 9, b"\xff"]), max_size=40)


@FUZZ
@given(chunks=_LOADER_BYTES)
def test_builtin_dirs_match_the_regex(chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    assert builtin_dirs(data) == _regex_dirs(data)


def test_builtin_dirs_of_real_loaders_and_of_a_hostile_one() -> None:
    loaders = [Path("/lib64/ld-linux-x86-64.so.2"), *Path.home().glob(".cache/cgocheck/sysroots/*/usr/lib/*/ld-*.so*")]
    seen = 0
    for ld in loaders:
        if ld.is_file():
            data = ld.read_bytes()
            assert builtin_dirs(data) == _regex_dirs(data)
            assert builtin_dirs(data) is not None
            seen += 1
    assert seen
    data = loaders[0].read_bytes()[: 1 << 20]
    dirs = "\0".join(builtin_dirs(data) or []).encode() + b"\0"
    gone = data.replace(dirs, dirs[:-1].replace(b"\0", b"x") + b"\0")  # no run of folders left
    for hostile, found in ((data + b"/" * (3 << 20), True), (gone + b"/" * (3 << 20), False)):
        t0 = time.monotonic()
        assert (builtin_dirs(hostile) is not None) is found
        assert time.monotonic() - t0 < 3  # the regex: about 8 s a MiB of '/'


# --- one line whatever a path holds -----------------------------------------------------


@FUZZ
@given(path=st.text(min_size=1, max_size=20))
def test_paths_are_shown_on_one_line(path: str) -> None:
    for text in (shown(path), one_line(f"{path}: bad"), BadInput(f"{path}: bad").message,
                 FileError(path, f"{path}: bad").message, files.FileProblem(path, "bad").message):
        assert not CONTROL.search(text), repr(text)
    if not CONTROL.search(path):
        assert shown(path) == path


@FUZZ
@given(path=st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), min_size=1,
                    max_size=12))
def test_one_error_line_per_bad_file(tmp_path: Path, path: str) -> None:
    """inspect and diff of a file that is not there, whatever its name holds: one line."""

    missing = f"{tmp_path / 'nothere'}/{path}"  # joined as text: pathlib would take "/" as the root
    for args in (["inspect", missing], ["diff", missing, missing], ["config", "--config", missing]):
        res = invoke(*args)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("cgocheck: error: "), (args, res.stderr)
        assert res.exit_code == 2 and isinstance(res.exception, SystemExit), (args, res.exception)


# --- timeouts ---------------------------------------------------------------------------


@FUZZ
@given(value=st.one_of(st.floats(), st.integers(-10, 10**30), st.text(max_size=8),
                       st.sampled_from(["nan", "inf", "-inf", "1e999", "1e20", "604800", "604801", " 5 ", "0x10"])))
def test_timeout_is_a_finite_number_of_seconds_up_to_a_week(tmp_path: Path, value: object) -> None:
    """The command line's, the environment's and the file's timeout: a number of seconds in
    (0, one week], or a ConfigError; never an exception a build would hit later."""
    text = str(value)
    accepted: list[Any] = []
    for kw in ({"cli": {"timeout": text}}, {"env": {"CGOCHECK_TIMEOUT": text}}):
        try:
            s = load_settings(cwd=tmp_path, use_file=False, **kw)  # type: ignore[arg-type]
        except ConfigError as err:
            assert "\n" not in err.message
            accepted.append(None)
            continue
        accepted.append(s.timeout)
    if text.strip():
        assert accepted[0] == accepted[1]
    for t in accepted:
        assert t is None or 0 < t <= MAX_TIMEOUT


# --- sysroot metadata: no link followed -------------------------------------------------


def test_metadata_links_are_not_metadata(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / ".cgocheck"
    other.mkdir(parents=True)
    (other / "complete").write_text("x\n")
    (other / "meta.json").write_text('{"digest": "from elsewhere"}')
    a = tmp_path / "a"
    a.mkdir()
    os.symlink(other, a / ".cgocheck")  # the whole folder a link
    b = tmp_path / "b" / ".cgocheck"
    b.mkdir(parents=True)
    os.symlink(other / "complete", b / "complete")  # the marker a link
    os.symlink(other / "meta.json", b / "meta.json")
    c = tmp_path / "c" / ".cgocheck"
    c.mkdir(parents=True)
    (c / "complete").write_text("x\n")
    assert meta.state(a) == "linked" and meta.state(b.parent) == "incomplete" and meta.state(c.parent) == "complete"
    assert meta.read_meta_json(a, "meta.json") == {} and meta.read_meta_json(b.parent, "meta.json") == {}
    assert meta.state(tmp_path / "nothing") == "none"


@FUZZ
@given(drops=st.lists(st.integers(0, 10_000), min_size=1, max_size=6), as_cell=st.booleans())
def test_saved_reports_missing_fields(tmp_path: Path, real_report: dict[str, Any], drops: list[int],
                                      as_cell: bool) -> None:
    """A real report (or a matrix cell holding it) with fields taken out anywhere: diff and
    report merge give their result or one error line, never an exception."""

    data = json.loads(json.dumps(real_report))
    for pos in drops:
        places: list[tuple[dict[str, Any], str]] = []
        todo: list[Any] = [data]
        while todo:
            node = todo.pop()
            if isinstance(node, dict):
                places += [(node, k) for k in node]
                todo += node.values()
            elif isinstance(node, list):
                todo += node
        if places:
            parent, key = places[pos % len(places)]
            del parent[key]
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(real_report))
    if as_cell:
        cell = {"id": "c", "cell": {"go": "1.22", "target": "linux/amd64", "compiler": "gcc", "package": ".",
                                    "sysroot": None}, "exit_code": 0, "error": None, "seconds": 1.0, "cached": False,
                "key": "k", "suppressed": [], "report": data}
        head.write_text(json.dumps(cell))
        args = ["report", "merge", str(head)]
    else:
        head.write_text(json.dumps(data))
        args = ["diff", str(base), str(head)]
    for fmt in ("table", "json", "sarif", "junit", "markdown", "html"):
        res = invoke(*args, "--format", fmt)
        ok = res.exception is None or isinstance(res.exception, SystemExit)
        assert ok and res.exit_code in (0, 1, 2), (args, fmt, repr(res.exception), res.stderr[-2000:])
        if res.exit_code == 2:
            lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("cgocheck: error: "), res.stderr
