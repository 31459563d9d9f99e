#!/usr/bin/env python3
"""Coverage-guided fuzzing of the ELF entry points with atheris (libFuzzer).

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_elf.py fuzz/corpus -max_total_time=600

The seed corpus is real binaries: `python fuzz/fuzz_elf.py --make-corpus fuzz/corpus BIN...`
copies them (build some with the tests first: they land in pytest's tmp builds folder).
A crash is any exception other than cgocheck's BadInput, or a hang: libFuzzer writes the
input to crash-<sha1>; copy it to tests/regressions/ (see tests/unit/test_fuzz_regressions.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def make_corpus(dest: str, binaries: list[str]) -> None:
    os.makedirs(dest, exist_ok=True)
    for b in binaries:
        shutil.copy(b, os.path.join(dest, os.path.basename(b)))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--make-corpus":
        make_corpus(sys.argv[2], sys.argv[3:])
        return
    import atheris

    with atheris.instrument_imports():
        from cgocheck.elf import read_elf, read_shared_object
        from cgocheck.errors import BadInput

    fd, path = tempfile.mkstemp(prefix="cgocheck-fuzz-")
    os.close(fd)

    def one(data: bytes) -> None:
        with open(path, "wb") as f:
            f.write(data)
        for reader in (read_elf, read_shared_object):
            try:
                reader(path)
            except BadInput:
                pass

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
