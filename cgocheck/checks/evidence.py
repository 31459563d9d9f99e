"""What the L and S checks put in a finding's evidence: capped lists, searched folders,
the file a finding is about."""

from __future__ import annotations

from cgocheck.loader.model import Resolution, SearchStep

MAX_EVIDENCE = 20


def cap(items: list[str]) -> list[str]:
    if len(items) <= MAX_EVIDENCE:
        return items
    return [*items[:MAX_EVIDENCE], f"... and {len(items) - MAX_EVIDENCE} more"]


def searched(steps: tuple[SearchStep, ...]) -> list[str]:
    return [f"searched {s.dir} ({s.rule}{' of ' + s.source if s.source else ''})" for s in steps]


def file_of(res: Resolution, label: str) -> str:
    return res.binary if label == res.binary else label
