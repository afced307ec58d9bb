#!/usr/bin/env bash
# Refresh requirements/lock.txt: every dependency of Tracebot (runtime and dev), direct and
# transitive, pinned to one exact version with its hashes.
#
#   scripts/lock.sh                 re-resolve, keeping every pin that still satisfies pyproject.toml
#   scripts/lock.sh --upgrade       move every pin to the newest allowed release
#   scripts/lock.sh -P babel        move one package (repeatable)
#
# Uses pip-tools' pip-compile (pinned below) because it resolves with pip itself and pip's
# configured sources, so it picks the same files that `pip install` will: on the project's
# machines that includes the CPU-only torch wheel kept on local disk (constraints.txt), which
# uv does not look at. Review the diff, run ./scripts/test.sh, then commit the lock with the change.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TOOLS=${LOCK_TOOLS_VENV:-.venv-lock}
PIP_TOOLS_VERSION=7.6.2

if [ ! -x "$TOOLS/bin/pip-compile" ]; then
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet "pip-tools==$PIP_TOOLS_VERSION"
fi

# The header records this command line; keep it free of machine-specific paths.
CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$TOOLS/bin/pip-compile" --quiet \
  --extra dev --strip-extras --allow-unsafe --generate-hashes \
  --no-emit-index-url --no-emit-find-links \
  --constraint constraints.txt \
  --output-file requirements/lock.txt "$@" pyproject.toml
echo "requirements/lock.txt: $(grep -c '^[A-Za-z0-9]' requirements/lock.txt) packages pinned"
