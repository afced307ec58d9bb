#!/usr/bin/env bash
# Lint, type-check and run the whole test suite (sets up .venv first).
# PostgreSQL tests run when TRACEBOT_TEST_POSTGRES_URL points at a server (CI starts one);
# browser tests need Debian's chromium. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/pytest "$@"
