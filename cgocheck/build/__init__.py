"""Hermetic builds: the environment, Go toolchains, compiler presets, and what a build really
used (compiler and pkg-config traces, provenance)."""
