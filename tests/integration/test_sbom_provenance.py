"""--format cyclonedx (inspect, resolve, verify) validated against the CycloneDX 1.6 schema
cyclonedx-python-lib ships, and verify --provenance validated against the in-toto Statement
v1 and SLSA Provenance v1 schemas in tests/schemas (written from the published specs), each
checked for what it must say about a real hermetic build against a sysroot."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.builder import GO_NEW
from tests.support.cli import cgocheck
from tests.support.home import private_home
from tests.support.need import need, need_tool
from tests.support.paths import REPO

pytestmark = [pytest.mark.integration, pytest.mark.sysroot]
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validate_cyclonedx(text: str) -> dict[str, Any]:
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError:
        need(False, "cyclonedx-python-lib[json-validation]")
        raise
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    return json.loads(text)  # type: ignore[no-any-return]


def validate_statement(data: dict[str, Any]) -> None:
    import jsonschema
    from referencing import Registry, Resource

    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json")}
    base = "https://cgocheck.invalid/tests/schemas/"
    registry = Registry().with_resources((base + n, Resource.from_contents(s)) for n, s in schemas.items())
    jsonschema.Draft202012Validator(schemas["in-toto-statement-v1.schema.json"], registry=registry).validate(data)
    jsonschema.Draft202012Validator(schemas["slsa-provenance-v1.schema.json"], registry=registry).validate(
        data["predicate"])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_tool("dpkg-deb")
    h = private_home(tmp_path_factory.mktemp("sbom") / "cgocheck-home")
    proc = cgocheck("sysroot", "create", "bookworm-arm64", env={**os.environ, "CGOCHECK_HOME": str(h)})
    need(proc.returncode == 0, f"sysroot bookworm-arm64 from the download cache ({proc.stderr[-300:]})")
    return h


@pytest.fixture(scope="module")
def verified(home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need_tool("aarch64-linux-gnu-gcc")
    out = tmp_path_factory.mktemp("verify")
    binary, sbom, prov = out / "sqlite3", out / "sbom.cdx.json", out / "provenance.json"
    proc = cgocheck("verify", str(REPO / "fixtures" / "clean" / "sqlite3"), "--target", "linux/arm64", "--sysroot",
                    "bookworm-arm64", "--go", GO_NEW, "-o", str(binary), "--format", "cyclonedx",
                    "--report", f"json={out / 'report.json'}", "--provenance", str(prov), "--show-paths",
                    env={**os.environ, "CGOCHECK_HOME": str(home)}, cwd=out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sbom.write_text(proc.stdout)
    return {"binary": binary, "sbom": sbom, "provenance": prov, "report": out / "report.json"}


def _components(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in bom.get("components", [])}


def test_verify_sbom(verified: dict[str, Path], home: Path) -> None:
    bom = validate_cyclonedx(verified["sbom"].read_text())
    main = bom["metadata"]["component"]
    assert main["name"] == "sqlite3" and main["type"] == "application"
    assert main["hashes"] == [{"alg": "SHA-256", "content": sha256(verified["binary"])}]
    comps = _components(bom)
    purls = {c.get("purl", "") for c in comps.values()}
    lock = json.loads((home / "sysroots/bookworm-arm64/.cgocheck/lock.json").read_text())
    versions = {p["name"]: p for p in lock["packages"]}
    for pkg in ("libc6", "libsqlite3-0"):
        want = f"pkg:deb/debian/{pkg}@{versions[pkg]['version'].replace('+', '%2B')}?arch=arm64&distro=bookworm"
        assert want in purls, purls
        comp = next(c for c in comps.values() if c.get("purl") == want)
        assert comp["hashes"][0]["content"] == versions[pkg]["sha256"]  # the .deb the lock names
    assert any(p.startswith("pkg:golang/stdlib@") for p in purls)
    edges = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    direct = {comps[r]["name"] for r in edges[main["bom-ref"]] if r in comps}
    assert {"libc6", "libsqlite3-0", "stdlib"} <= direct
    sqlite = next(r for r, c in comps.items() if c["name"] == "libsqlite3-0")
    assert any(comps[r]["name"] == "libc6" for r in edges[sqlite])  # libsqlite3.so.0 needs libc.so.6
    files = [p["value"] for p in comps[sqlite]["properties"] if p["name"] == "cgocheck:file"]
    assert files == ["/usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6"]


def vendored_module(top: Path) -> Path:
    """A main module with one vendored dependency (no proxy needed: vendor/ is used as it is)."""
    app = top / "app"
    (app / "vendor" / "example.com" / "greet").mkdir(parents=True)
    (app / "go.mod").write_text("module example.com/app\n\ngo 1.21\n\nrequire example.com/greet v1.2.3\n")
    (app / "vendor" / "modules.txt").write_text("# example.com/greet v1.2.3\n## explicit\nexample.com/greet\n")
    (app / "vendor" / "example.com" / "greet" / "greet.go").write_text(
        'package greet\n\nfunc Hello() string { return "hello" }\n')
    (app / "main.go").write_text(
        'package main\n\nimport "example.com/greet"\n\nfunc main() { println(greet.Hello()) }\n')
    return app


def test_sbom_lists_go_modules(tmp_path: Path) -> None:
    app = vendored_module(tmp_path)
    out = tmp_path / "app-bin"
    proc = cgocheck("verify", str(app), "--target", "linux/arm64", "--no-cgo", "--go", GO_NEW, "-o", str(out),
                    "--format", "cyclonedx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bom = validate_cyclonedx(proc.stdout)
    mods = [c for c in bom["components"] if c.get("purl") == "pkg:golang/example.com/greet@v1.2.3"]
    assert len(mods) == 1 and mods[0]["name"] == "example.com/greet"
    main = bom["metadata"]["component"]
    edges = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    assert mods[0]["bom-ref"] in edges[main["bom-ref"]]
    props = {p["name"]: p["value"] for p in main["properties"]}
    assert props["cgocheck:go-package"] == "example.com/app" and props["cgocheck:go-setting:GOARCH"] == "arm64"
    # inspect of the same binary says the same of its modules
    again = validate_cyclonedx(cgocheck("inspect", str(out), "--format", "cyclonedx").stdout)
    assert [c["purl"] for c in again["components"] if "golang/example.com" in c.get("purl", "")] == \
        ["pkg:golang/example.com/greet@v1.2.3"]


def test_resolve_sbom_of_a_sysroot_library(home: Path) -> None:
    lib = home / "sysroots/bookworm-arm64/usr/lib/aarch64-linux-gnu/libkrb5.so.3"
    proc = cgocheck("resolve", str(lib), "--sysroot", "bookworm-arm64", "--format", "cyclonedx",
                    env={**os.environ, "CGOCHECK_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    bom = validate_cyclonedx(proc.stdout)
    names = {c["name"] for c in bom["components"]}
    assert {"libc6", "libk5crypto3", "libkrb5support0", "libcom-err2", "libkeyutils1"} <= names
    assert bom["metadata"]["component"]["type"] == "library"


def test_cyclonedx_is_offered_only_where_it_describes_binaries() -> None:
    for words in (("doctor",), ("diff", "a.json", "b.json")):
        proc = cgocheck(*words, "--format", "cyclonedx")
        assert proc.returncode == 2 and "cyclonedx" in proc.stderr
    proc = cgocheck("doctor", "--report", "cyclonedx=x.json")
    assert proc.returncode == 2 and "this command writes" in proc.stderr


def test_provenance(verified: dict[str, Path], home: Path) -> None:
    data = json.loads(verified["provenance"].read_text())
    validate_statement(data)
    assert data["_type"] == "https://in-toto.io/Statement/v1"
    assert data["predicateType"] == "https://slsa.dev/provenance/v1"
    assert data["subject"] == [{"name": "sqlite3", "digest": {"sha256": sha256(verified["binary"])}}]
    bd = data["predicate"]["buildDefinition"]
    ext = bd["externalParameters"]
    assert ext["target"] == "linux/arm64" and ext["package"].endswith("fixtures/clean/sqlite3")
    assert ext["options"]["sysroot"] == "bookworm-arm64" and ext["options"]["compiler"] == "gcc"
    env = bd["internalParameters"]["environment"]
    assert env["GOOS"] == "linux" and env["GOARCH"] == "arm64" and env["CGO_ENABLED"] == "1"
    deps = {d["name"]: d for d in bd["resolvedDependencies"]}
    report = json.loads(verified["report"].read_text())
    goroot = Path(deps["go"]["annotations"]["goroot"])
    assert deps["go"]["digest"]["sha256"] == sha256(goroot / "bin" / "go")
    assert deps["go"]["annotations"]["version"] == report["build"]["go_version"]
    lock = home / "sysroots/bookworm-arm64/.cgocheck/lock.json"
    assert deps["sysroot:bookworm-arm64"]["digest"]["sha256"] == sha256(lock)
    cc = deps["cc"]
    assert cc["annotations"]["version"].startswith("aarch64-linux-gnu-gcc") and len(cc["digest"]["sha256"]) == 64
    assert len(deps["source"]["digest"]["sha256"]) == 64 and deps["source"]["annotations"]["files"] >= 2
    run = data["predicate"]["runDetails"]
    assert run["builder"]["id"].startswith("https://") and run["builder"]["version"]["cgocheck"]
    assert run["metadata"]["startedOn"] <= run["metadata"]["finishedOn"]
