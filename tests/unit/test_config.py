"""Configuration parsing: the file, the environment and the command line resolved in one
place; every bad key or value is one line naming the file, the line and the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cgocheck.settings import (
    ConfigError,
    Settings,
    find_config_file,
    key_lines,
    load_settings,
    locate,
)
from tests.support.cli import cgocheck

TODAY = date(2026, 1, 15)


def write(folder: Path, name: str, text: str) -> Path:
    p = folder / name
    p.write_text(text)
    return p


def load(folder: Path, env: dict[str, str] | None = None, **cli: object) -> Settings:
    return load_settings(cli=cli, env=env or {}, cwd=folder, today=TODAY)


def error_of(folder: Path, env: dict[str, str] | None = None, **cli: object) -> str:
    with pytest.raises(ConfigError) as info:
        load(folder, env, **cli)
    msg = info.value.message
    assert "\n" not in msg
    return msg


# --- key_lines: where a key is, since tomllib does not say ---------------------------------


def test_key_lines_tables_arrays_of_tables_and_quoted_keys() -> None:
    text = """# top comment
go = ["1.19"]          # trailing comment with = sign
"fail-on" = 'warning'
targets = [
  "linux/arm64",
  "linux/arm/v7",   # a comment [with brackets]
]
notes = \"\"\"
fake = "not a key"
\"\"\"
[sysroots]
"linux/arm64" = "bookworm-arm64"
linux.x = 1

[[suppress]]
rule = "R001"

[[suppress]]
rule = "R002"
reason = "second"
"""
    lines = key_lines(text)
    assert lines[("go",)] == 2
    assert lines[("fail-on",)] == 3
    assert lines[("targets",)] == 4
    assert lines[("notes",)] == 8
    assert ("fake",) not in lines  # inside a multi-line string
    assert lines[("sysroots",)] == 11
    assert lines[("sysroots", "linux/arm64")] == 12
    assert lines[("sysroots", "linux", "x")] == 13  # a dotted key
    assert lines[("suppress", 0)] == 15
    assert lines[("suppress", 0, "rule")] == 16
    assert lines[("suppress", 1)] == 18
    assert lines[("suppress", 1, "reason")] == 20


def test_key_lines_skip_keys_inside_multiline_inline_values() -> None:
    text = 'suppress = [\n  { rule = "R001",\n    reason = "x" },\n]\nbaseline = "b.json"\n'
    lines = key_lines(text)
    assert lines[("suppress",)] == 1
    assert ("reason",) not in lines
    assert lines[("baseline",)] == 5
    # a key we cannot see maps to its nearest enclosing key
    assert locate(lines, ("suppress", 0, "reason")) == 1


def test_key_lines_pyproject_subtables() -> None:
    text = '[project]\nname = "x"\n\n[tool.cgocheck]\nfail-on = "info"\n\n[[tool.cgocheck.suppress]]\nrule = "R001"\n'
    lines = key_lines(text)
    assert lines[("tool", "cgocheck", "fail-on")] == 5
    assert lines[("tool", "cgocheck", "suppress", 0, "rule")] == 8
    assert locate(lines, ("tool", "cgocheck", "nope")) == 4


# --- discovery and precedence --------------------------------------------------------------


def test_defaults_without_a_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    cfg = load(tmp_path)
    assert cfg == Settings(origins=())
    assert cfg.file is None and cfg.fail_on == "error" and cfg.go == ("newest",)


def test_full_file_is_read_and_normalised(tmp_path: Path) -> None:
    write(tmp_path, "base.json", '{"schema_version": "1.0", "files": []}')
    write(
        tmp_path,
        "cgocheck.toml",
        """
go = ["1.19", "newest"]
targets = ["arm64", "linux/arm/v5", "linux/arm64/musl"]
compilers = ["gcc", "clang"]
packages = ["./cmd/..."]
glibc-floor = "GLIBC_2.31"
fail-on = "warning"
baseline = "base.json"

[sysroots]
"linux/arm64" = "bookworm-arm64"
"*" = "bookworm-armel"

[[suppress]]
rule = "r001"
path = "*.so"
symbol = "pthread_*"
reason = "vendor library"
expires = 2026-01-15
""",
    )
    cfg = load(tmp_path)
    assert cfg.go == ("1.19", "newest")
    assert cfg.targets == ("linux/arm64", "linux/arm/v5", "linux/arm64/musl")
    assert cfg.compilers == ("gcc", "clang")
    assert cfg.glibc_floor == "2.31"
    assert cfg.fail_on == "warning"
    assert cfg.baseline == tmp_path / "base.json"
    assert cfg.sysroot_for("linux/arm64") == "bookworm-arm64"
    assert cfg.sysroot_for("linux/arm/v5") == "bookworm-armel"
    (s,) = cfg.suppressions
    assert (s.rule, s.path, s.symbol, s.expires) == ("R001", "*.so", "pthread_*", date(2026, 1, 15))
    assert s.origin == "cgocheck.toml:14"
    assert cfg.origin("fail_on") == "cgocheck.toml:7"


def test_pyproject_tool_table_and_cgocheck_toml_wins(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.cgocheck]\nfail-on = "info"\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config_file(sub) == tmp_path / "pyproject.toml"
    assert load(sub).fail_on == "info"
    assert load(sub).origin("fail_on") == f"{tmp_path / 'pyproject.toml'}:5"
    write(tmp_path, "cgocheck.toml", 'fail-on = "warning"\n')
    assert load(sub).fail_on == "warning"


def test_pyproject_without_tool_table_is_not_a_config(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    (tmp_path / ".git").mkdir()
    assert find_config_file(tmp_path) is None


@pytest.mark.parametrize("table", ['[tool."\\u0063gocheck"]', '[tool."\\U00000063gocheck"]', "[tool.cgocheck]",
                                   "[ tool . cgocheck ]"])
def test_a_tool_table_is_found_however_its_key_is_spelled(tmp_path: Path, table: str) -> None:
    write(tmp_path, "pyproject.toml", f'[project]\nname = "x"\n\n{table}\nfail-on = "info"\n')
    (tmp_path / ".git").mkdir()
    assert find_config_file(tmp_path) == tmp_path / "pyproject.toml"
    assert load(tmp_path).fail_on == "info"


def test_a_pyproject_that_cannot_name_cgocheck_is_not_parsed(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[project\nthis is not TOML = = =\n")  # another tool's broken file
    (tmp_path / ".git").mkdir()
    assert find_config_file(tmp_path) is None
    write(tmp_path, "pyproject.toml", "[tool.cgocheck\nthis is not TOML = = =\n")  # ours, broken: said
    assert find_config_file(tmp_path) == tmp_path / "pyproject.toml"


def test_discovery_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path, "cgocheck.toml", 'fail-on = "info"\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert find_config_file(repo) is None


def test_precedence_cli_over_env_over_file(tmp_path: Path) -> None:
    write(tmp_path, "cgocheck.toml", 'fail-on = "info"\ntargets = ["linux/arm64"]\ngo = ["1.19"]\n')
    env = {"CGOCHECK_FAIL_ON": "warning", "CGOCHECK_TARGETS": "linux/arm/v7, linux/riscv64", "CGOCHECK_HOME": "/x"}
    cfg = load(tmp_path, env)
    assert cfg.fail_on == "warning" and cfg.origin("fail_on") == "env CGOCHECK_FAIL_ON"
    assert cfg.targets == ("linux/arm/v7", "linux/riscv64")
    assert cfg.go == ("1.19",) and cfg.origin("go") == "cgocheck.toml:3"
    cfg = load(tmp_path, env, fail_on="error", targets=("linux/amd64",))
    assert cfg.fail_on == "error" and cfg.origin("fail_on") == "cli"
    assert cfg.targets == ("linux/amd64",)
    assert load(tmp_path, env, fail_on=None).fail_on == "warning"  # None: not given on the command line


def test_env_sysroots_and_config_file_variable(tmp_path: Path) -> None:
    other = write(tmp_path, "other.toml", 'fail-on = "info"\n')
    cfg = load(tmp_path, {"CGOCHECK_CONFIG": str(other), "CGOCHECK_SYSROOTS": "linux/arm64=bookworm-arm64"})
    assert cfg.file == other and cfg.fail_on == "info"
    assert cfg.sysroots == (("linux/arm64", "bookworm-arm64"),)
    assert load(tmp_path, {"CGOCHECK_SYSROOTS": "bookworm-arm64"}).sysroot_for("linux/riscv64") == "bookworm-arm64"


# --- errors name the file, the line and the key ---------------------------------------------

BAD = [
    (
        "unknown-key",
        'go = ["1.19"]\nfail_on = "error"\n',
        "cgocheck.toml:2: fail_on: unknown key (did you mean 'fail-on'?)",
    ),
    ("wrong-type", "fail-on = 3\n", "cgocheck.toml:1: fail-on: must be a string, not an integer"),
    ("bad-severity", '\n\nfail-on = "fatal"\n', "cgocheck.toml:3: fail-on: 'fatal' is not a severity"),
    (
        "unknown-target",
        'targets = [\n  "linux/arm64",\n  "linux/sparc",\n]\n',
        "cgocheck.toml:3: targets[1]: unknown target 'linux/sparc'",
    ),
    ("targets-not-list", "targets = {a = 1}\n", "cgocheck.toml:1: targets: must be a list of targets, not a table"),
    ("bad-go", 'go = ["1.19", "tip"]\n', "cgocheck.toml:1: go[1]: 'tip' is not a Go version"),
    ("bad-compiler", 'compilers = ["gcc", "icc"]\n', "cgocheck.toml:1: compilers[1]: unknown compiler preset 'icc'"),
    ("float-floor", "glibc-floor = 2.30\n", "cgocheck.toml:1: glibc-floor: write the version as a string"),
    ("bad-floor", 'glibc-floor = "two"\n', "cgocheck.toml:1: glibc-floor: not a glibc version"),
    ("sysroot-target", '[sysroots]\n"linux/vax" = "x"\n', 'cgocheck.toml:2: sysroots."linux/vax": unknown target'),
    (
        "no-reason",
        '[[suppress]]\nrule = "R001"\nreason = "ok"\n\n[[suppress]]\nrule = "R002"\npath = "*.so"\n',
        "cgocheck.toml:5: suppress[1]: reason is required",
    ),
    (
        "empty-reason",
        '[[suppress]]\nrule = "R001"\nreason = "  "\n',
        "cgocheck.toml:3: suppress[0].reason: must not be empty",
    ),
    (
        "unknown-rule",
        '[[suppress]]\nrule = "R0001"\nreason = "x"\n',
        "cgocheck.toml:2: suppress[0].rule: unknown rule 'R0001'",
    ),
    (
        "suppress-key",
        '[[suppress]]\nrule = "R001"\nreason = "x"\nfiles = "*.so"\n',
        "cgocheck.toml:4: suppress[0].files: unknown key",
    ),
    (
        "expired",
        '[[suppress]]\nrule = "R001"\nreason = "vendor blob"\nexpires = 2026-01-14\n',
        "cgocheck.toml:4: suppress[0].expires: the suppression of R001 expired on 2026-01-14"
        " (reason given: vendor blob)",
    ),
    (
        "bad-date",
        '[[suppress]]\nrule = "R001"\nreason = "x"\nexpires = "soon"\n',
        "cgocheck.toml:4: suppress[0].expires: must be a date",
    ),
    ("missing-baseline", '\nbaseline = "nope.json"\n', "cgocheck.toml:2: baseline: "),
    ("not-toml", "fail-on = \n", "cgocheck.toml: not valid TOML"),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in BAD])
def test_config_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, "cgocheck.toml", text)
    msg = error_of(tmp_path)
    assert msg.startswith(expected), msg


def test_pyproject_errors_point_into_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.cgocheck]\ngo = ["1.19"]\ntarget = ["x"]\n')
    assert error_of(tmp_path).startswith("pyproject.toml:6: target: unknown key (did you mean 'targets'?)")


def test_env_and_cli_errors_name_the_variable_or_option(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert error_of(tmp_path, {"CGOCHECK_FAIL_ON": "loud"}).startswith("environment variable CGOCHECK_FAIL_ON=loud:")
    assert error_of(tmp_path, {"CGOCHECK_SYSROOTS": "linux/arm64=a,b"}).startswith(
        "environment variable CGOCHECK_SYSROOTS: 'b' is not TARGET=SYSROOT"
    )
    assert error_of(tmp_path, glibc_floor="2.x").startswith("--glibc-floor: ")
    assert error_of(tmp_path, config="missing.toml").endswith("missing.toml: configuration file not found")


def test_expiry_is_inclusive(tmp_path: Path) -> None:
    write(tmp_path, "cgocheck.toml", '[[suppress]]\nrule = "R001"\nreason = "x"\nexpires = 2026-01-15\n')
    assert load(tmp_path).suppressions[0].expires == TODAY


@pytest.mark.parametrize("command", [["config"], ["inspect", "/bin/sh"]])
def test_cli_exits_2_with_one_line(tmp_path: Path, command: list[str]) -> None:
    write(tmp_path, "cgocheck.toml", 'go = ["1.19"]\n\n[[suppress]]\nrule = "R001"\npath = "*.so"\n')
    proc = cgocheck(*command, cwd=tmp_path, timeout=60, env={"PATH": "/usr/bin:/bin"})  # this checkout on PYTHONPATH
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "cgocheck: error: cgocheck.toml:3: suppress[0]: reason is required (say why the finding is accepted)"
    ]
    assert proc.stdout == ""


def test_config_command_shows_origins(tmp_path: Path) -> None:
    write(tmp_path, "cgocheck.toml", 'fail-on = "info"\ntargets = ["linux/arm64"]\n')
    env = {"PATH": "/usr/bin:/bin", "CGOCHECK_GO": "1.19"}  # and this checkout on PYTHONPATH
    proc = cgocheck("config", cwd=tmp_path, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {
        line.split()[0]: line
        for line in proc.stdout.splitlines()
        if line and line.split()[0] in ("fail-on", "targets", "go", "compilers")
    }
    assert rows["fail-on"].split()[1:] == ["info", "cgocheck.toml:1"]
    assert rows["targets"].split()[1:] == ["linux/arm64", "cgocheck.toml:2"]
    assert rows["go"].split()[1:] == ["1.19", "env", "CGOCHECK_GO"]
    assert rows["compilers"].split()[1:] == ["gcc", "default"]
