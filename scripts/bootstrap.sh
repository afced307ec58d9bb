#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv (idempotent).
# Needs only python3 (>= 3.11) with venv. Re-installs when pyproject.toml or
# constraints.txt change; otherwise it returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-dev}
stamp="$VENV/.tracebot-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)-$EXTRAS"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Tracebot needs Python >= 3.11 (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi

if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing Tracebot and its dependencies into $VENV (first run takes a few minutes)..."
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  # constraints.txt pins torch to the CPU build (argostranslate -> stanza -> torch).
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[$EXTRAS]"
  echo "$want" > "$stamp"
fi
