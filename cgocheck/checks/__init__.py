"""Checks: pure functions from facts (and a target) to findings. No I/O here."""
