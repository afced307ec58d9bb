"""Text that every supported database can store.

PostgreSQL `text` cannot hold U+0000, and a lone UTF-16 surrogate (which JSON's `\\ud800` escape
can smuggle into a Python string) cannot be encoded as UTF-8 for either database. Telegram
itself may pass a NUL through, and a forged webhook body can carry both; they are dropped where
an update enters the bot, so a tip can always be saved.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Every ASCII digit as "0", so that `bytes.find` (C, memchr-fast) finds runs of digits: a regular
# expression scanning for them took 10 ns a byte, 13 µs for a button press's update.
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= byte <= 0x39 else byte for byte in range(256))
_LONG_RUN = b"0" * 19  # Telegram's numeric ids have at most 16 digits
_NOT_ZERO = re.compile(rb"[^0]")
_JSON_SPACE = b" \t\r\n"


def _has_long_integer(raw: bytes) -> bool:
    """Whether `raw` may hold a number of 19 digits or more (which orjson would make an inexact float).

    Such a number follows `:`, `,` or `[` (or starts the text), spaces and its sign aside. The
    19-digit strings of every real button press (a callback query's id, its `chat_instance`) follow
    a quote, so they keep the fast way; user text that happens to read `: 1234567890123456789`
    takes the slow, exact one.
    """
    digits = raw.translate(_DIGITS_AS_ZEROS)
    at = digits.find(_LONG_RUN)
    while at >= 0:  # `at` starts a run of 19 digits or more
        start = at - 1 if at and raw[at - 1] == 0x2D else at  # a minus sign
        while start and raw[start - 1] in _JSON_SPACE:
            start -= 1
        if start == 0 or raw[start - 1] in b":,[":
            return True
        after_run = _NOT_ZERO.search(digits, at + len(_LONG_RUN))
        if after_run is None:
            return False
        at = digits.find(_LONG_RUN, after_run.start())
    return False


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


def loads_storable(raw: bytes, *, lenient: bool = False) -> Any:
    """Decode JSON from Telegram (a webhook body, a Bot API answer) without the characters above.

    orjson is fast and strict: it takes only valid UTF-8 and refuses lone surrogates, escaped or
    not, so of what no database can store only an escaped NUL (`\\u0000`) gets through it, and a
    body without one is used as decoded. What orjson refuses (a lone surrogate, bytes that are not
    UTF-8, deep nesting) takes the standard library's lenient way and is walked: that is forged
    input, rare. So does a body with a number of 19 digits or more, which orjson would turn into an
    inexact float past 64 bits. Raises ValueError (or RecursionError) for what is not JSON; `lenient`
    replaces bytes that are not UTF-8 instead of refusing them.
    """
    if not _has_long_integer(raw):
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            return storable_json(decoded) if b"\\u0000" in raw else decoded
    # As UTF-8 whatever it starts with (`json.loads(bytes)` would take `{\x00` for UTF-16).
    return storable_json(json.loads(raw.decode("utf-8", "replace" if lenient else "surrogatepass")))
