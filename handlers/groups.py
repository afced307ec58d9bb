"""Named handler groups: PTB runs at most one handler per group, lower groups first."""

from __future__ import annotations

import enum


class Group(enum.IntEnum):
    CONVERSATION = 0
