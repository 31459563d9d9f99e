"""The target ABI table (cgocheck/data/targets.toml), loaded and validated once.

A target spec is ``linux/<goarch>[/v<goarm>][/<libc>]``: ``linux/arm64``,
``linux/arm64/musl``, ``linux/arm/v5``, ``linux/arm/v7/musl``. Aliases such as ``armhf``
and ``aarch64`` are accepted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from cgocheck.core.errors import BadInput

LIBCS = ("glibc", "musl")


@dataclass(frozen=True)
class Arch:
    """One row of the table: a Go target and its ELF expectations (both libc flavours)."""

    name: str
    aliases: tuple[str, ...]
    goarch: str
    goarm: str | None
    machine: str
    machine_code: int
    elf_class: int
    endian: str
    float_abi: str
    eabi: int | None
    debian_arch: str
    qemu: str
    go_internal_loader: str
    triplets: dict[str, str]
    loaders: dict[str, str]


@dataclass(frozen=True)
class Target:
    """A target as the user means it: an architecture row plus a libc flavour."""

    arch: Arch
    libc: str

    @property
    def name(self) -> str:
        return self.arch.name if self.libc == "glibc" else f"{self.arch.name}/{self.libc}"

    @property
    def goos(self) -> str:
        return "linux"

    @property
    def goarch(self) -> str:
        return self.arch.goarch

    @property
    def goarm(self) -> str | None:
        return self.arch.goarm

    @property
    def triplet(self) -> str:
        return self.arch.triplets[self.libc]

    @property
    def loader(self) -> str:
        return self.arch.loaders[self.libc]

    @property
    def debian_arch(self) -> str:
        return self.arch.debian_arch

    def go_env(self) -> dict[str, str]:
        env = {"GOOS": "linux", "GOARCH": self.arch.goarch}
        if self.arch.goarm:
            env["GOARM"] = self.arch.goarm
        return env


_REQUIRED: dict[str, type] = {
    "name": str,
    "goarch": str,
    "machine": str,
    "machine_code": int,
    "class": int,
    "endian": str,
    "float_abi": str,
    "debian_arch": str,
    "qemu": str,
    "go_internal_loader": str,
    "triplet": dict,
    "loader": dict,
}


def _arch_from_row(row: dict[str, Any]) -> Arch:
    for key, typ in _REQUIRED.items():
        if not isinstance(row.get(key), typ):
            raise ValueError(f"targets.toml: target {row.get('name')!r}: {key} must be {typ.__name__}")
    for key in ("triplet", "loader"):
        if set(row[key]) != set(LIBCS):
            raise ValueError(f"targets.toml: target {row['name']!r}: {key} needs {LIBCS}")
    if row["class"] not in (32, 64) or row["endian"] not in ("little", "big"):
        raise ValueError(f"targets.toml: target {row['name']!r}: bad class or endian")
    return Arch(
        name=row["name"],
        aliases=tuple(row.get("aliases", ())),
        goarch=row["goarch"],
        goarm=row.get("goarm"),
        machine=row["machine"],
        machine_code=row["machine_code"],
        elf_class=row["class"],
        endian=row["endian"],
        float_abi=row["float_abi"],
        eabi=row.get("eabi"),
        debian_arch=row["debian_arch"],
        qemu=row["qemu"],
        go_internal_loader=row["go_internal_loader"],
        triplets=dict(row["triplet"]),
        loaders=dict(row["loader"]),
    )


@functools.cache
def all_arches() -> tuple[Arch, ...]:
    from cgocheck.core import packagedata

    return tuple(_arch_from_row(r) for r in packagedata.read_toml("targets.toml")["target"])


def _lookup() -> dict[str, Arch]:
    table: dict[str, Arch] = {}
    for arch in all_arches():
        for key in (arch.name, *arch.aliases):
            table[key.lower()] = arch
            if not key.startswith("linux/"):
                table["linux/" + key.lower()] = arch
    return table


def parse_target(spec: str) -> Target:
    """Parse ``linux/arm64``, ``linux/arm/v5/musl``, ``armhf`` ... into a Target."""
    raw = spec.strip().lower()
    libc = "glibc"
    for flavour in LIBCS:
        for sep in ("/", "-"):
            if raw.endswith(sep + flavour):
                raw, libc = raw[: -len(flavour) - 1], flavour
    if raw.endswith("/gnu"):
        raw = raw[:-4]
    if raw == "linux/arm":
        raw = "linux/arm/v7"  # Go's default GOARM for a cross build
    arch = _lookup().get(raw)
    if arch is None:
        known = ", ".join(a.name for a in all_arches())
        raise BadInput(f"unknown target {spec!r}; known targets: {known} (append /musl for musl)")
    return Target(arch=arch, libc=libc)


def targets_for_machine(machine: str) -> tuple[Arch, ...]:
    return tuple(a for a in all_arches() if a.machine == machine)
