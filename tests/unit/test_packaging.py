"""The wheel's package list (pyproject.toml lists packages: the recipes need a mapping) names
every package of cgocheck/, and the shipped recipes and cgocheck/data travel as package data."""

from __future__ import annotations

import tomllib

from tests.support.paths import REPO


def test_every_package_is_listed() -> None:
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "cgocheck").rglob("__init__.py")}
    assert found <= listed, f"not in pyproject.toml's packages: {sorted(found - listed)}"
    assert conf["package-dir"]["cgocheck.recipes"] == "sysroots"
    assert "*.toml" in conf["package-data"]["cgocheck.recipes"]
    data = {"cgocheck.data"}  # a folder of data files, no __init__.py
    assert {"*.toml", "*.json"} <= set(conf["package-data"]["cgocheck.data"])
    assert listed - found == {"cgocheck.recipes", *data}, sorted(listed - found)  # nothing listed that is gone
    assert all((REPO / "cgocheck" / "data").glob(g) for g in ("*.toml", "*.json"))
