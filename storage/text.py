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
# A surrogate escape without its other half: a high one not followed by a low one, a low one not
# preceded by a high one. Emoji arrive as escaped pairs in nearly every update (Telegram escapes all
# that is not ASCII) and need no walk. Every branch starts with `\\u`, which the regex engine skips to.
_LONE_SURROGATE_ESCAPE = re.compile(
    rb"\\u(?:[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    rb"|[dD][c-fC-F][0-9a-fA-F]{2}(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}))"
)
_RAW_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")  # UTF-8 bytes of U+D800-U+DFFF


def may_be_unstorable(raw: bytes) -> bool:
    """Whether JSON text may decode to a NUL or a lone surrogate: a cheap test on the bytes (about 6 µs
    for an update with emoji, where walking the decoded value takes 23 µs). It may say True of a clean
    payload, never False of an unclean one.
    """
    return (
        b"\\\\" in raw  # an escaped backslash: then `\\ud83d` may be six plain characters, not an escape
        or b"\\u0000" in raw
        or (b"\xed" in raw and _RAW_SURROGATE.search(raw) is not None)  # `json` decodes with surrogatepass
        or _LONE_SURROGATE_ESCAPE.search(raw) is not None
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
    return storable_json(decoded) if may_be_unstorable(raw) else decoded
