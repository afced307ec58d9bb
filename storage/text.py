"""Text that every supported database can store.

PostgreSQL `text` cannot hold U+0000, and a lone UTF-16 surrogate (which JSON's `\\ud800` escape
can smuggle into a Python string) cannot be encoded as UTF-8 for either database. Telegram
itself may pass a NUL through, and a forged webhook body can carry both; they are dropped where
an update enters the bot, so a tip can always be saved.
"""

from __future__ import annotations

import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In JSON text these characters can only arrive escaped: a cheap test before walking a payload.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def storable_text(text: str) -> str:
    """`text` without the characters no database here can store."""
    return UNSTORABLE.sub("", text)


def storable_json(value: Any) -> Any:
    """A decoded JSON value with `storable_text` applied to every string, keys included."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    if isinstance(value, dict):
        return {storable_json(key): storable_json(item) for key, item in value.items()}
    return value


def storable_payload(raw: bytes, decoded: Any) -> Any:
    """`decoded` (the JSON value of `raw`), cleaned by `storable_json` if `raw` may need it."""
    return storable_json(decoded) if _UNSTORABLE_ESCAPE.search(raw) else decoded
