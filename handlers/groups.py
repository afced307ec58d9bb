"""Named handler groups: PTB runs at most one handler per group, lower groups first."""

from __future__ import annotations

import enum


class Group(enum.IntEnum):
    GUARD = -10  # flood control, before anything touches the database
    CONVERSATION = 0
