"""run = true / [run] in cgocheck.toml and test = true: validated with the file's line, and
the arguments for each binary found by the names its package goes by."""

from __future__ import annotations

from pathlib import Path

import pytest

from cgocheck.settings import ConfigError, RunSettings, load_settings


def settings(tmp_path: Path, text: str) -> RunSettings:
    (tmp_path / "cgocheck.toml").write_text(text)
    return load_settings(cwd=tmp_path, env={}).run


def test_run_true_and_the_run_table(tmp_path: Path) -> None:
    assert settings(tmp_path, "run = true\n") == RunSettings(enabled=True)
    assert not settings(tmp_path, "").enabled
    run = settings(tmp_path, '[run]\nargs = { "./cmd/app" = ["--version"], "*" = "-v --name \'a b\'" }\n'
                             'timeout = 30\nmax-output = 1024\nbindings = true\nenv = { TZ = "UTC" }\n')
    assert run.enabled and run.timeout == 30 and run.max_output == 1024 and run.bindings and run.env == (("TZ", "UTC"),)
    assert run.args_for(["cmd/app/"]) == ("--version",)
    assert run.args_for(["example.com/x/cmd/other", "./cmd/other"]) == ("-v", "--name", "a b")
    assert settings(tmp_path, '[run]\nargs = ["--help"]\n').args_for(["anything"]) == ("--help",)
    assert settings(tmp_path, "[run]\nenabled = false\n").enabled is False
    (tmp_path / "cgocheck.toml").write_text("test = true\n")
    assert load_settings(cwd=tmp_path, env={}).test is True


@pytest.mark.parametrize(("text", "says"), [
    ("run = 3\n", "cgocheck.toml:1: run: must be true, false or a table"),
    ('[run]\nargs = { "./a" = [1] }\n', "cgocheck.toml:2: run.args.\"./a\": must be a list of strings"),
    ("[run]\ntimeuot = 3\n", "cgocheck.toml:2: run.timeuot: unknown key (did you mean 'timeout'?)"),
    ("[run]\ntimeout = -1\n", "run.timeout: must be a positive number of seconds"),
    ('[run]\nenv = { LD_PRELOAD = "/x.so" }\n', "run.env.LD_PRELOAD: the loader's and qemu's variables"),
    ("[run]\nmax-output = 0\n", "run.max-output: must be a positive number of bytes"),
])
def test_bad_run_settings_name_the_line_and_key(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "cgocheck.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=tmp_path, env={})
    assert says in err.value.message
