"""Network guard for tests: see `sitecustomize` (also loaded by child processes)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.netguard.sitecustomize import LOG_ENV, install

GUARD_DIR = Path(__file__).resolve().parent

__all__ = ["GUARD_DIR", "LOG_ENV", "child_environment", "install"]


def child_environment(log_path: Path) -> dict[str, str]:
    """Variables that make Python child processes load the guard at startup."""
    existing = os.environ.get("PYTHONPATH", "")
    return {
        "PYTHONPATH": os.pathsep.join(p for p in (str(GUARD_DIR), existing) if p),
        LOG_ENV: str(log_path),
    }
