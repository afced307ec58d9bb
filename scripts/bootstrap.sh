#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv (idempotent).
# Needs only python3 (>= 3.11) with venv. Installs exactly requirements/lock.txt (every package
# pinned with its hashes, torch as the CPU build), then Tracebot itself without touching the
# resolver. Re-installs when the lock or pyproject.toml change; otherwise returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
LOCK=requirements/lock.txt
stamp="$VENV/.tracebot-installed"
want="$(cat pyproject.toml "$LOCK" | sha256sum | cut -d' ' -f1)"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Tracebot needs Python >= 3.11 (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi

if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing Tracebot and its pinned dependencies into $VENV (first run takes a few minutes)..."
  # --no-deps: nothing outside the lock can sneak in; pip check below proves the lock is complete.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --no-deps -r "$LOCK"
  # The build backend (setuptools) comes from the lock too, not from a fresh isolated download.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps --no-build-isolation --editable .
  "$VENV/bin/python" -m pip check
  echo "$want" > "$stamp"
fi
