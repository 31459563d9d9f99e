"""Regular expressions compiled when first used, not when their module is imported.

A module-level ``re.compile`` costs every process that imports the module (0.1-0.4 ms each
for the longer patterns, most of them for an input few commands read); ``_X = lazy(...)``
and ``_X().match(...)`` compile once, on the first call, the same pattern with the same
flags.
"""

from __future__ import annotations

import re
from typing import AnyStr, Generic


class lazy(Generic[AnyStr]):
    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self._pattern: AnyStr = pattern
        self._flags = flags
        self._compiled: re.Pattern[AnyStr] | None = None

    def __call__(self) -> re.Pattern[AnyStr]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._pattern, self._flags)
        return compiled
