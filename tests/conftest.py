"""pytest's hooks and the session fixtures. Shared helpers live in tests/support/ (real
toolchains, real builds, oracles); test modules import them from there, never from here.

Integration tests need what `scripts/bootstrap setup` installs. When something is missing
they skip with the reason, except under CI or CGOCHECK_STRICT=1, where a missing tool is
a failure: a green CI run must have run the real thing (tests/support/need.py).
"""

from __future__ import annotations

import os

import pytest

from tests.support import tally
from tests.support.builder import Builder


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--exhaustive", action="store_true", help="run the full Go x target x compiler matrix")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--exhaustive"):
        # the Hypothesis fuzz tests read this when their modules are imported (after this)
        os.environ.setdefault("CGOCHECK_FUZZ_EXAMPLES", "5000")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tests marked `last` walk what the whole session built: they run after every other one
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)
    if config.getoption("--exhaustive"):
        return
    skip = pytest.mark.skip(reason="exhaustive matrix: run with --exhaustive")
    for item in items:
        if "exhaustive" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("builds"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """The differential runs' counts (tests/support/tally.py), whatever their outcome."""
    hostile = tally.hostile_lines()
    if hostile:
        terminalreporter.section("hostile inputs (every one ended within its time and memory limits)")
        for line in hostile:
            terminalreporter.write_line(line)
    lines = tally.summary_lines()
    if not lines:
        return
    mode = "--exhaustive: every file" if config.getoption("--exhaustive") else "default: time-boxed samples"
    terminalreporter.section(f"differential runs ({mode})")
    for line in lines:
        terminalreporter.write_line(line)
