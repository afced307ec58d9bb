"""Decode QR codes the way a phone would, with Debian's zbarimg (package zbar-tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# CI installs zbar-tools and sets TRACEBOT_REQUIRE_BROWSER=1: there a missing zbarimg fails the
# tests (FileNotFoundError) instead of skipping them; elsewhere they are reported as skipped.
needs_zbar = pytest.mark.skipif(
    shutil.which("zbarimg") is None and os.environ.get("TRACEBOT_REQUIRE_BROWSER") != "1",
    reason="zbar-tools (zbarimg) is not installed",
)


def decode_qr(png: bytes, folder: Path) -> str:
    """The text of the one QR code in `png`."""
    path = folder / "qr.png"
    path.write_bytes(png)
    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True)
    return result.stdout.strip()
