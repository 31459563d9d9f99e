"""apt output parsing and the closure policy, on output captured from real apt runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cgocheck.core.errors import EnvironmentProblem
from cgocheck.sysroot.apt import (
    MAINTSCRIPT_ONLY,
    AptSource,
    host_source,
    parse_deb822,
    parse_depends,
    parse_show,
    resolve_closure,
)

# `apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces
#  --no-enhances libpam0g zlib1g-dev musl-dev libsqlite3-dev debconf`, bookworm arm64.
DEPENDS = """\
libpam0g
  Depends: libaudit1
  Depends: libc6
 |Depends: debconf
  Depends: <debconf-2.0>
    cdebconf
    debconf
zlib1g-dev
  Depends: zlib1g
 |Depends: libc6-dev
  Depends: <libc-dev>
    libc6-dev
musl-dev
  Depends: musl
  Depends: <gcc-aarch64-linux-gnu>
    gcc
libsqlite3-dev
  Depends: libsqlite3-0
  Depends: <libc-dev>
    libc6-dev
debconf
libc6-dev
  Depends: libc6
libc6
  Depends: libgcc-s1
libgcc-s1
  Depends: libc6
zlib1g
  Depends: libc6
libsqlite3-0
  Depends: libc6
musl
gcc
  Depends: cpp
cpp
libaudit1
  Depends: libc6
cdebconf
<debconf-2.0>
<libc-dev>
<gcc-aarch64-linux-gnu>
"""

SHOW = """\
Package: zlib1g
Source: zlib
Version: 1:1.2.13.dfsg-1
Architecture: arm64
Provides: libz1
Depends: libc6 (>= 2.17)
Description: compression library - runtime
Multi-Arch: same
Filename: pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_arm64.deb
Size: 82744
MD5sum: 6ba599acc93552795f92ccf3ba0f7360
SHA256: 52b8b8a145bbe1956bba82034f77022cbef0c3d0885c9e32d9817a7932fe1913

Package: musl-dev
Version: 1.2.3-1
Architecture: arm64
Depends: musl (= 1.2.3-1), gcc-aarch64-linux-gnu
Filename: pool/main/m/musl/musl-dev_1.2.3-1_arm64.deb
Size: 566724
SHA256: 55C2CA4BC3041C8ED8AC7DC3EF6080D9551A21650568B2FD7610B59EAF98A4F4
"""


def test_parse_depends_groups_alternatives_and_providers() -> None:
    deps, real = parse_depends(DEPENDS)
    assert "debconf-2.0" not in real and "libc-dev" not in real and "musl" in real
    groups = deps["zlib1g-dev"]
    assert [[a.name for a in g] for g in groups] == [["zlib1g"], ["libc6-dev", "libc-dev"]]
    alt = groups[1][1]
    assert alt.virtual and alt.providers == ("libc6-dev",)
    pam = deps["libpam0g"]
    assert [[a.name for a in g] for g in pam] == [["libaudit1"], ["libc6"], ["debconf", "debconf-2.0"]]
    assert pam[2][1].providers == ("cdebconf", "debconf")
    assert deps["debconf"] == []


def test_closure_follows_the_first_real_alternative() -> None:
    deps, real = parse_depends(DEPENDS)
    c = resolve_closure(["zlib1g-dev", "libsqlite3-dev"], deps, real)
    assert c.packages == ["zlib1g-dev", "libsqlite3-dev", "zlib1g", "libc6-dev", "libsqlite3-0", "libc6", "libgcc-s1"]
    assert c.skipped == []


def test_closure_leaves_out_maintainer_script_helpers() -> None:
    deps, real = parse_depends(DEPENDS)
    c = resolve_closure(["libpam0g"], deps, real)
    assert "debconf" not in c.packages and "cdebconf" not in c.packages
    assert c.skipped == [
        {
            "package": "libpam0g",
            "dependency": "debconf | debconf-2.0",
            "reason": "maintainer scripts only: " + MAINTSCRIPT_ONLY["debconf"],
        }
    ]
    # asked for by name, it is kept
    assert "debconf" in resolve_closure(["libpam0g", "debconf"], deps, real).packages
    # and the default list can be switched off: then apt's first choice is taken
    c2 = resolve_closure(["libpam0g"], deps, real, maintscript_only={})
    assert "debconf" in c2.packages


def test_closure_virtual_provider_and_recipe_exclude() -> None:
    deps, real = parse_depends(DEPENDS)
    # without exclude the virtual gcc-aarch64-linux-gnu is provided by the native gcc
    assert {"gcc", "cpp"} <= set(resolve_closure(["musl-dev"], deps, real).packages)
    c = resolve_closure(["musl-dev"], deps, real, ["gcc-aarch64-linux-gnu"], exclude_reason="host compiler")
    assert c.packages == ["musl-dev", "musl"]
    assert c.skipped[0]["reason"] == "excluded by the recipe: host compiler"


def test_closure_skips_what_this_arch_lacks() -> None:
    deps, real = parse_depends("a\n  Depends: <ghost>\n<ghost>\n")
    c = resolve_closure(["a"], deps, real)
    assert c.packages == ["a"]
    assert c.skipped == [{"package": "a", "dependency": "ghost", "reason": "no installable package for this arch"}]


def test_parse_show() -> None:
    recs = parse_show(SHOW)
    assert [(r.name, r.version, r.size) for r in recs] == [
        ("zlib1g", "1:1.2.13.dfsg-1", 82744),
        ("musl-dev", "1.2.3-1", 566724),
    ]
    assert recs[1].sha256 == recs[1].sha256.lower()
    assert recs[0].spec == "zlib1g=1:1.2.13.dfsg-1"


def test_deb822_round_trip_and_inline_key() -> None:
    src = AptSource(
        uris=("http://deb.debian.org/debian",),
        suite="trixie",
        components=("main",),
        signed_by="/usr/share/keyrings/debian-archive-keyring.gpg",
    )
    (st,) = parse_deb822(src.render())
    assert st == {
        "Types": "deb",
        "URIs": "http://deb.debian.org/debian",
        "Suites": "trixie",
        "Components": "main",
        "Signed-By": "/usr/share/keyrings/debian-archive-keyring.gpg",
    }
    key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nabc\n-----END PGP PUBLIC KEY BLOCK-----"
    src2 = AptSource(uris=("http://x/",), suite="s", components=("main",), signed_by=key)
    (st2,) = parse_deb822(src2.render())
    assert st2["Signed-By"] == key


def test_host_source_copies_the_first_stanza(tmp_path: Path) -> None:
    (tmp_path / "a.sources").write_text(
        "Types: deb deb-src\n# a comment\nURIs: http://mirror/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\nSigned-By: /k.gpg\n\nTypes: deb\nURIs: http://other/\nSuites: x\n"
        "Components: main\n"
    )
    s = host_source("trixie", tmp_path)
    assert (s.uris, s.suite, s.components, s.signed_by) == (
        ("http://mirror/debian",),
        "trixie",
        ("main", "contrib"),
        "/k.gpg",
    )
    with pytest.raises(EnvironmentProblem, match="no deb822 apt source"):
        host_source("trixie", tmp_path / "empty")


def test_host_source_of_this_machine() -> None:
    d = Path("/etc/apt/sources.list.d")
    if not any(d.glob("*.sources")):
        pytest.skip("this machine has no deb822 apt source")
    s = host_source("bullseye")
    assert s.suite == "bullseye" and s.uris and s.components
