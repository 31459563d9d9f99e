#!/usr/bin/env python3
"""Coverage-guided fuzzing of the ELF entry points with atheris (libFuzzer).

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_elf.py --make-corpus fuzz/corpus BIN...
    .venv/bin/python fuzz/fuzz_elf.py fuzz/corpus -max_total_time=300 -rss_limit_mb=4096 -timeout=20

Each input goes through the façade (``read_elf``, ``read_shared_object``) and the Go build
info parser directly (``parse_buildinfo_blob`` from the first ``\\xff Go buildinf:`` magic,
with the input's own PT_LOAD map for the pre-1.18 pointer layout; ``parse_modinfo`` on the
text between the modinfo sentinels, or on the whole input as text). The seed corpus is real
binaries (`--make-corpus` copies them; build some with the tests first: they land in
pytest's tmp `builds` folder). A crash is any exception other than cgocheck's BadInput, a
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
    """(pointer size, big endian, PT_LOAD (vaddr, offset, filesz)) of an ELF input, or None."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(data))
        loads = [
            (int(s["p_vaddr"]), int(s["p_offset"]), int(s["p_filesz"]))
            for s in elf.iter_segments()
            if s["p_type"] == "PT_LOAD"
        ]
        return (8 if elf.elfclass == 64 else 4), not elf.little_endian, loads
    except (ELFError, ValueError, KeyError, IndexError, TypeError, AttributeError, AssertionError, OSError,
            OverflowError, RecursionError):
        return None
    except Exception as exc:  # construct's own errors (pyelftools' struct parsing)
        if type(exc).__module__.startswith("elftools"):
            return None
        raise


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

    def one(data: bytes) -> None:
        with open(path, "wb") as f:
            f.write(data)
        for reader in (read_elf, read_shared_object):
            with contextlib.suppress(BadInput):
                reader(path)
        buildinfo(data)
        modinfo(data)

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
