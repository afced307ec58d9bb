"""Chaos tests: SIGKILLed bot processes, several instances on one database, fuzzed webhooks (issue #5)."""
