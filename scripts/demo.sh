#!/usr/bin/env bash
# Run the Tracebot demo: bot + local Bot API emulator + web chat page, no token, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
exec .venv/bin/tracebot demo "$@"
