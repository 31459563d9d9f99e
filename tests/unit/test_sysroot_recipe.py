"""Recipe validation: every shipped recipe loads; mistakes name the file, key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cgocheck.core.errors import BadInput
from cgocheck.sysroot.recipe import all_recipes, find_recipe, load_recipe, recipes_dir
from tests.support.cli import invoke

GOOD = """\
name = "bookworm-arm64"
suite = "bookworm"
arch = "arm64"
libc = "glibc"
libc_version = "2.36"
packages = ["libc6-dev", "zlib1g-dev"]
"""


def write(tmp_path: Path, text: str, name: str = "bookworm-arm64") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


def test_shipped_recipes_load_and_follow_the_naming_rule() -> None:
    recipes = all_recipes()
    names = {r.name for r in recipes}
    assert {"bookworm-arm64", "bullseye-armhf", "trixie-riscv64", "bookworm-arm64-musl"} <= names
    for r in recipes:
        want = f"{r.suite}-{r.arch}" + ("-musl" if r.libc == "musl" else "")
        assert r.name == want
        assert r.path is not None and r.path.parent == recipes_dir().resolve()
        if r.libc == "glibc":
            assert {"libc6-dev", "zlib1g-dev", "libsqlite3-dev", "libssl-dev"} <= set(r.packages)
            assert r.libc_version == {"bullseye": "2.31", "bookworm": "2.36", "trixie": "2.41"}[r.suite]


def test_riscv64_only_where_the_suite_has_it() -> None:
    # Checked against each suite's Release file (Architectures:) on this machine's mirror:
    # bullseye (now LTS): amd64 arm64 armhf i386; bookworm: no riscv64; trixie: riscv64.
    by_suite: dict[str, set[str]] = {}
    for r in all_recipes():
        if r.libc == "glibc":
            by_suite.setdefault(r.suite, set()).add(r.arch)
    assert by_suite["bullseye"] == {"amd64", "arm64", "armhf"}
    assert by_suite["bookworm"] == {"amd64", "arm64", "armhf", "armel"}
    assert by_suite["trixie"] == {"amd64", "arm64", "armhf", "armel", "riscv64"}


def test_good_recipe(tmp_path: Path) -> None:
    r = load_recipe(write(tmp_path, GOOD))
    assert (r.suite, r.arch, r.libc, r.libc_version) == ("bookworm", "arm64", "glibc", "2.36")
    assert r.usrmerge and r.source is None
    assert r.triplet() == "aarch64-linux-gnu"


def test_unknown_key_names_file_key_and_line(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + 'pacakges = ["x"]\n')
    with pytest.raises(BadInput) as e:
        load_recipe(p)
    msg = e.value.message
    assert str(p) in msg and "'pacakges'" in msg and "(line 7)" in msg


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD.replace('packages = ["libc6-dev", "zlib1g-dev"]', 'packages = "libc6-dev"'))
    with pytest.raises(BadInput, match=r"\(line 6\): packages must be a list, not str"):
        load_recipe(p)
    p = write(tmp_path, GOOD + "usrmerge = 1\n")
    with pytest.raises(BadInput, match=r"usrmerge must be true or false"):
        load_recipe(p)


def test_source_table_is_checked(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + '[source]\nuris = ["http://x/debian"]\ncomponents = ["main"]\nkeyring = "k"\n')
    with pytest.raises(BadInput, match=r"\(line 10\): unknown key 'source.keyring'"):
        load_recipe(p)
    p = write(tmp_path, GOOD + '[source]\nuris = "http://x/debian"\ncomponents = ["main"]\n')
    with pytest.raises(BadInput, match=r"source.uris must be a list"):
        load_recipe(p)
    p = write(tmp_path, GOOD + '[source]\nuris = ["http://x/debian"]\ncomponents = ["main", "contrib"]\n')
    src = load_recipe(p).source
    assert src is not None and src.components == ("main", "contrib")


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (('libc = "glibc"', 'libc = "uclibc"'), "libc must be one of glibc, musl"),
        (('arch = "arm64"', 'arch = "aarch64"'), "unknown Debian arch 'aarch64'"),
        (('name = "bookworm-arm64"', 'name = "other"'), "differs from file name"),
        (('suite = "bookworm"\n', ""), "missing required key 'suite'"),
        (('"zlib1g-dev"', '"Zlib Dev"'), "bad package name"),
        (('libc_version = "2.36"', 'libc_version = "two"'), "bad libc_version"),
        (("packages = [", "packages = [[]"), "not valid TOML|must list strings"),
    ],
)
def test_bad_recipes(tmp_path: Path, change: tuple[str, str], pattern: str) -> None:
    p = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(BadInput, match=pattern):
        load_recipe(p)


def test_find_recipe() -> None:
    r = find_recipe("bookworm-arm64")
    assert r is not None and r.name == "bookworm-arm64"
    assert find_recipe("no-such-recipe") is None
    with pytest.raises(BadInput, match="no such recipe file"):
        find_recipe("/nonexistent/x.toml")


def test_cli_bad_recipe_is_one_line_exit_2(tmp_path: Path) -> None:
    res = invoke("sysroot", "create", "no-such-recipe")
    assert res.exit_code == 2
    assert "unknown sysroot recipe 'no-such-recipe'" in res.stderr
    assert "Traceback" not in res.stderr
    p = write(tmp_path, GOOD + "colour = 1\n", name="mine")
    res = invoke("sysroot", "create", str(p))
    assert res.exit_code == 2
    assert "unknown key 'colour'" in res.stderr and len(res.stderr.strip().splitlines()) == 1
