"""`.env.example` documents every setting, each with a comment."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings
from review.config import DashboardConfig

EXAMPLE = Path(__file__).parents[1] / ".env.example"


def test_every_setting_is_documented() -> None:
    lines = EXAMPLE.read_text().splitlines()
    documented = {}
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            documented[match.group(1)] = index
    fields = {name.upper() for name in Settings.model_fields}
    fields |= {"DASHBOARD_" + name.upper() for name in DashboardConfig.model_fields}
    assert fields - documented.keys() == set(), "settings missing from .env.example"
    assert documented.keys() - fields == set(), ".env.example lists settings that do not exist"
    for name, index in documented.items():
        above = index - 1
        while above >= 0 and re.match(r"^[A-Z][A-Z0-9_]*=", lines[above]):
            above -= 1  # a group of related settings may share one comment
        assert above >= 0 and lines[above].startswith("#"), f"{name} has no comment above it"
