#!/usr/bin/env python3
"""Coverage-guided fuzzing of the ELF entry points with atheris (libFuzzer).

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_elf.py --make-corpus fuzz/corpus BIN...
    .venv/bin/python fuzz/fuzz_elf.py fuzz/corpus -max_total_time=300 -rss_limit_mb=4096 -timeout=10
    CGOCHECK_FUZZ_STRUCTURED=1 .venv/bin/python fuzz/fuzz_elf.py fuzz/corpus ...   # structure-aware

With ``CGOCHECK_FUZZ_STRUCTURED=1`` half of the mutations are structure-aware ones
(``tests/support/elfedit.py``'s :func:`mutate_structure`: header fields, section and program
headers, version chains, DWARF unit and line-table headers, compression headers, ARM
attribute sub-sections, dynamic entries, string tables), the other half libFuzzer's own.

Each input goes through the façade (``read_elf``, ``read_shared_object``) and the Go build
info parser directly (``parse_buildinfo_blob`` from the first ``\\xff Go buildinf:`` magic,
with the input's own PT_LOAD map for the pre-1.18 pointer layout; ``parse_modinfo`` on the
text between the modinfo sentinels, or on the whole input as text). The seed corpus is real
binaries (`--make-corpus` copies them; build some with the tests first: they land in
pytest's tmp `builds` folder). A crash is any exception other than cgocheck's BadInput (or
facts holding bytes, or a MemoryError/RecursionError the façade turned into a warning), a
hang (-timeout) or runaway memory (-rss_limit_mb): libFuzzer writes the input to
crash-<sha1> / timeout-<sha1> / oom-<sha1>. Turn it into a regression: an ``@example`` in
tests/integration/test_fuzz_elf.py (the mutation of a seed), or a file in tests/regressions/
that tests/integration/test_fuzz_elf.py::test_regression_inputs reads.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

MAGIC = b"\xff Go buildinf:"
MODINFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
MODINFO_END = bytes.fromhex("f932433186182072008242104116d8f2")


def make_corpus(dest: str, binaries: list[str]) -> None:
    os.makedirs(dest, exist_ok=True)
    for b in binaries:
        shutil.copy(b, os.path.join(dest, os.path.basename(b)))


def load_map(data: bytes) -> tuple[int, bool, list[tuple[int, int, int]]] | None:
    """(pointer size, big endian, PT_LOAD (vaddr, offset, held bytes)) of an ELF input, or
    None: the façade's own bounded layout reader (which raises only HeaderError)."""
    from cgocheck.elf.header import HeaderError
    from cgocheck.elf.layout import Layout

    try:
        layout = Layout(io.BytesIO(data), len(data))
    except HeaderError:
        return None
    loads = [(s.vaddr, s.offset, s.held) for s in layout.loads]
    return (8 if layout.is64 else 4), layout.header.endian == "big", loads


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--make-corpus":
        make_corpus(sys.argv[2], sys.argv[3:])
        return
    import atheris

    with atheris.instrument_imports():
        from cgocheck.core.errors import BadInput
        from cgocheck.elf import read_elf, read_shared_object
        from cgocheck.elf.gobuildinfo import parse_buildinfo_blob, parse_modinfo

    fd, path = tempfile.mkstemp(prefix="cgocheck-fuzz-")
    os.close(fd)

    def buildinfo(data: bytes) -> None:
        at = data.find(MAGIC)
        if at < 0:
            return
        shape = load_map(data)
        ptr, big, loads = shape if shape is not None else (8, False, [])

        def read_ptr(addr: int, size: int) -> bytes:
            for vaddr, off, filesz in loads:
                if vaddr <= addr < vaddr + filesz:
                    d = addr - vaddr
                    return data[off + d : off + d + min(size, filesz - d)]
            return b""

        with contextlib.suppress(BadInput):
            parse_buildinfo_blob(data[at : at + (4 << 20)], read_ptr, ptr, big)

    def modinfo(data: bytes) -> None:
        start = data.find(MODINFO_START)
        end = data.find(MODINFO_END, start + 16) if start >= 0 else -1
        text = data[start + 16 : end] if start >= 0 and end > start else data[: 1 << 16]
        with contextlib.suppress(BadInput):
            parse_modinfo(text.decode("utf-8", "replace"))

    import resource

    from tests.support.elfedit import all_str

    def vm_size() -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))

    def guarded(reader: Any) -> Any:
        """READER on the input with an address-space limit of the process's size + 1 GiB:
        libFuzzer's -rss_limit_mb also counts its in-memory corpus (2-3 MB an ELF input),
        so the per-input bound is this one (a runaway shows as a MemoryError)."""
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (vm_size() + (1 << 30), hard))
        try:
            return reader(path)
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

    def one(data: bytes) -> None:
        with open(path, "wb") as f:
            f.write(data)
        for reader in (read_elf, read_shared_object):
            try:
                facts = guarded(reader)
            except BadInput as err:
                if "\n" in err.message or "MemoryError" in err.message:
                    raise AssertionError(f"bad error line: {err.message!r}") from None
                continue
            # a crash for libFuzzer: bytes in the facts, or a runaway caught behind a warning
            if not all_str(facts):
                raise AssertionError("a fact that should be str is not")
            bad = [w for w in getattr(facts, "warnings", ()) if "MemoryError" in w or "RecursionError" in w]
            if bad:
                raise AssertionError(bad[0])
        buildinfo(data)
        modinfo(data)

    if os.environ.get("CGOCHECK_FUZZ_STRUCTURED") == "1":
        import random

        from tests.support.elfedit import KINDS, mutate_structure

        def mutator(data: bytes, max_size: int, seed: int) -> bytes:
            rng = random.Random(seed)
            if data and rng.random() < 0.5:
                out = mutate_structure(data, rng.choice(KINDS), rng.randrange(1 << 16), rng.randrange(1 << 16),
                                       rng.randrange(1 << 16))
                return out[:max_size] if out != data else atheris.Mutate(data, max_size)
            return atheris.Mutate(data, max_size)

        atheris.Setup(sys.argv, one, custom_mutator=mutator)
    else:
        atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
