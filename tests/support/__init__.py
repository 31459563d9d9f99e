"""What the tests share, in one place. Test modules import from here (``tests.support.*``),
never from each other, from ``tests.conftest``, or by a bare module name;
tests/unit/test_suite_layout.py checks it.

- paths: the repository and its fixtures
- need: what a test needs from the machine (tools, Go toolchains, sysroots): skip, or fail under CI
- builder: the session's fixture builds (``Builder``; the ``builder`` fixture is in conftest.py)
- oracles: binutils readelf and ``go version -m``, parsed, and the comparisons of cgocheck's
  facts with them
- tally: the differential runs' counts (printed at the end of the run by tests/conftest.py),
  the ELF files of a corpus, deterministic samples and the default run's time box
- cli: running cgocheck's command line (a new process, or click's runner) and other commands
- home: a private CGOCHECK_HOME sharing the real one's caches
- install: the wheel of this checkout, and fresh venvs
- formats: SARIF schema validation, JUnit counts, headless Chromium, PNG decoding
- contamination: the fixtures/contaminated/ scenarios, built by verify
- gobuild: pure-Go builds with the installed Go toolchains (build info blobs), and the record
  of every Go binary the session built
- resolve: the dynamic loader under qemu-user, against cgocheck's static resolution
- strace: which files a cgocheck run touches, traced by strace
- host: the x86-64 Debian host's own loader and libc
- resolve_tree, resolve_hostile, hostile_debs, mirror, faults: sysroot trees, hostile
  sysroots and archives, a local Debian mirror, fault injection
"""
