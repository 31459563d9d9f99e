"""The format registry: one list of names every reporting command offers."""

from __future__ import annotations

import pytest

from cgocheck.core.errors import BadInput
from cgocheck.report import formats


def test_registry_names_and_lookup() -> None:
    assert formats.names() == ("table", "json", "junit", "sarif", "markdown", "html", "cyclonedx")
    assert formats.get("sarif").suffix == ".sarif"
    with pytest.raises(BadInput, match="unknown format 'pdf'"):
        formats.get("pdf")


def test_every_command_offers_every_format() -> None:
    """Every format but those describing binaries (cyclonedx), which inspect, resolve and
    verify offer on top."""
    from cgocheck.cli.options import REPORT_FORMATS as FORMATS
    from cgocheck.cli.options import SBOM_FORMATS

    assert tuple(FORMATS) == tuple(n for n in formats.names() if n not in formats.BINARY_ONLY)
    assert tuple(SBOM_FORMATS) == formats.names()
    for module, command in (("inspect", "inspect_cmd"), ("resolve", "resolve_cmd"), ("verify", "verify_cmd")):
        import importlib

        cmd = getattr(importlib.import_module(f"cgocheck.cli.{module}"), command)
        fmt = next(p for p in cmd.params if p.name == "fmt")
        assert tuple(fmt.type.choices) == formats.names()


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ("sarif=out.sarif", ("sarif", "out.sarif")),
        ("markdown:/tmp/summary.md", ("markdown", "/tmp/summary.md")),
        ("json=a=b.json", ("json", "a=b.json")),
    ],
)
def test_parse_output(spec: str, want: tuple[str, str]) -> None:
    assert formats.parse_output(spec) == want


@pytest.mark.parametrize("spec", ["sarif", "pdf=x.pdf", "=x", "html="])
def test_parse_output_rejects(spec: str) -> None:
    with pytest.raises(BadInput, match="--report"):
        formats.parse_output(spec)


def test_rule_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    formats.docs_url.cache_clear()
    monkeypatch.setenv("CGOCHECK_DOCS_URL", "https://example.org/cgocheck/rules.html")
    try:
        assert formats.rule_url("A001") == "https://example.org/cgocheck/rules.html#A001"
    finally:
        formats.docs_url.cache_clear()
    monkeypatch.delenv("CGOCHECK_DOCS_URL")
    assert formats.rule_url("S003").endswith("docs/rules.md#S003")
