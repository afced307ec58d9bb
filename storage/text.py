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
# A cheap test on the raw bytes comes before walking a payload: a NUL escape, a high surrogate escape
# not followed by a low one, a low one not preceded by a high one, or a surrogate's raw bytes (`json`
# decodes bytes with "surrogatepass"; a raw NUL is not valid JSON). Emoji arrive as escaped pairs in
# nearly every update (Telegram escapes all that is not ASCII) and need no walk. An escaped backslash
# counts as suspect too, since `\\ud83d` is six plain characters, not an escape: the test may send a
# clean payload to the walk, never an unclean one past it.
_UNSTORABLE_ESCAPE = re.compile(
    rb"\\\\"
    rb"|\\u0000"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F]"
    rb"|\xed[\xa0-\xbf]"
)


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
