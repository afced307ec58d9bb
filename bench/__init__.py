"""Benchmarks: runnable scripts that print figures (they are not pass/fail tests)."""
