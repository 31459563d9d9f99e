"""The PKG_CONFIG wrapper of a traced build (cgocheck.build.pkgconfig_trace.wrapper_body):
the caller gets exactly what the real pkg-config says (output, errors, exit status), and
read_trace gets each call back with its arguments, pkg-config variables, and the .pc file and
version that answered for each module, as the real pkg-config reports them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cgocheck.build.pkgconfig_trace import ask_module, env_key, read_trace, wrapped_real, wrapper_body

REAL = shutil.which("pkg-config")
pytestmark = pytest.mark.skipif(REAL is None, reason="needs pkg-config (scripts/bootstrap setup)")

PC = """prefix=/opt/demo
libdir=${prefix}/lib
includedir=${prefix}/include
Name: {name}
Description: a demo module
Version: {version}
Libs: -L${libdir} -l{name}
Cflags: -I${includedir}/{name}
"""


def setup(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    pcdir = tmp_path / "pc dir"  # a space in the path
    pcdir.mkdir()
    for name, version in (("alpha", "1.2.3"), ("beta", "0.9")):
        (pcdir / f"{name}.pc").write_text(PC.replace("{name}", name).replace("{version}", version))
    assert REAL is not None
    wrapper = tmp_path / "pkg-config"
    wrapper.write_text(wrapper_body(REAL))
    wrapper.chmod(0o755)
    trace = tmp_path / "trace"
    (trace / "pc").mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "PKG_CONFIG_LIBDIR": str(pcdir), "PKG_CONFIG_ALLOW_SYSTEM_LIBS": "1"}
    return wrapper, trace, env


def run(argv: list[str], env: dict[str, str]) -> tuple[int, bytes, bytes]:
    p = subprocess.run(argv, env=env, capture_output=True, check=False)
    return p.returncode, p.stdout, p.stderr


CALLS = [
    ["--cflags", "--", "alpha"],
    ["--libs", "--", "alpha", "beta >= 0.1"],
    ["--modversion", "beta"],
    ["--cflags", "--libs", "nosuch"],  # fails: exit 1 and pkg-config's message
    ["--atleast-version", "9", "alpha"],  # fails quietly
    ["--variable=libdir", "alpha"],
    ["--define-variable", "prefix=/a b'c \"d\" $HOME", "--cflags", "alpha"],  # quotes and a $ get through
]


@pytest.mark.parametrize("args", CALLS, ids=[" ".join(a) for a in CALLS])
def test_the_caller_gets_what_pkg_config_says(tmp_path: Path, args: list[str]) -> None:
    wrapper, trace, env = setup(tmp_path)
    assert REAL is not None
    traced = run([str(wrapper), *args], {**env, "CGOCHECK_TRACE": str(trace)})
    assert traced == run([REAL, *args], env)
    untraced = run([str(wrapper), *args], env)  # no trace folder: the real pkg-config itself
    assert untraced == traced
    assert len(os.listdir(trace / "pc")) == 5  # args, env, out, err, rc of the one traced call


def test_read_trace_gives_each_call_back(tmp_path: Path) -> None:
    wrapper, trace, env = setup(tmp_path)
    assert REAL is not None
    for args in CALLS:
        run([str(wrapper), *args], {**env, "CGOCHECK_TRACE": str(trace)})
    got = read_trace(trace, env)
    assert [r["argv"] for r in got] == CALLS  # in the order they were made
    for rec, args in zip(got, CALLS, strict=True):
        code, out, err = run([REAL, *args], env)
        assert (rec["returncode"], rec["stdout"], rec["stderr"]) == (code, out.decode(), err.decode())
        assert rec["real"] == REAL and rec["cwd"] == os.getcwd()
        assert rec["env"] == {"PKG_CONFIG_LIBDIR": env["PKG_CONFIG_LIBDIR"], "PKG_CONFIG_ALLOW_SYSTEM_LIBS": "1"}
    mods = {m["module"]: m for rec in got for m in rec["modules"]}
    assert set(mods) == {"alpha", "beta", "nosuch"}
    pcdir = Path(env["PKG_CONFIG_LIBDIR"])
    assert (mods["alpha"]["pc_path"], mods["alpha"]["version"]) == (str(pcdir / "alpha.pc"), "1.2.3")
    assert (mods["beta"]["pc_path"], mods["beta"]["version"]) == (str(pcdir / "beta.pc"), "0.9")
    assert mods["nosuch"]["pc_path"] is None and mods["nosuch"]["version"] is None
    assert "nosuch" in (mods["nosuch"]["error"] or "")
    assert wrapped_real(str(wrapper)) == REAL


def test_answers_asked_while_go_built_are_used_and_others_asked(tmp_path: Path) -> None:
    wrapper, trace, env = setup(tmp_path)
    assert REAL is not None
    run([str(wrapper), "--cflags", "--", "alpha", "beta"], {**env, "CGOCHECK_TRACE": str(trace)})
    known = {(env_key(env), "alpha"): ("/known/alpha.pc", "7.7", None)}
    mods = {m["module"]: m for m in read_trace(trace, env, known)[0]["modules"]}
    assert (mods["alpha"]["pc_path"], mods["alpha"]["version"]) == ("/known/alpha.pc", "7.7")
    assert (mods["beta"]["pc_path"], mods["beta"]["version"]) == ask_module(REAL, "beta", env)[:2]


def test_an_unfinished_or_damaged_record_is_left_out(tmp_path: Path) -> None:
    wrapper, trace, env = setup(tmp_path)
    run([str(wrapper), "--cflags", "alpha"], {**env, "CGOCHECK_TRACE": str(trace)})
    (trace / "pc" / "99999999.args").write_bytes(b"/usr/bin/pkg-config\0/\0--libs\0alpha\0")  # no .rc: running
    (trace / "pc" / "99999998.args").write_bytes(b"")
    (trace / "pc" / "99999998.rc").write_text("not a number\n")
    got = read_trace(trace, env)
    assert [r["argv"] for r in got] == [["--cflags", "alpha"]]
