"""Message lengths as Telegram counts them, and user text shortened to fit.

Telegram limits a message to 4,096 and a caption to 1,024 UTF-16 code units of the text *after*
HTML parsing (tags removed, `&amp;` one character), so an emoji counts two and `<b>` nothing.
Quoted user text is cut before it is escaped, on a character boundary that keeps combining
marks and joiners with their base, and marked with an ellipsis; markup is never cut.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_TEXT = 4096
MAX_CAPTION = 1024
ELLIPSIS = "…"

_TAG = re.compile(r"<[^>]*>")
# The character references Telegram's HTML parser understands; anything else is literal text.
_REFERENCE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|lt|gt|amp|quot);", re.IGNORECASE)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# Characters that belong to the one before them: cutting before one would change what that one looks like.
_JOINERS = {"\u200d", "\u034f"}


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, Telegram's unit."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _reference(match: re.Match[str]) -> str:
    ref = match.group(1)
    if not ref.startswith("#"):
        return _NAMED[ref.lower()]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)


def visible_text(markup: str) -> str:
    """What Telegram shows for our HTML: tags dropped, character references resolved."""
    return _REFERENCE.sub(_reference, _TAG.sub("", markup))


def visible_length(markup: str) -> int:
    """The length Telegram checks against its limits, for HTML built by Tracebot."""
    return utf16_length(visible_text(markup))


def _continues(char: str) -> bool:
    """Whether `char` attaches to the character before it (combining mark, variation selector, joiner)."""
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0xFE00 <= ord(char) <= 0xFE0F
        or 0xE0100 <= ord(char) <= 0xE01EF
        or 0x1F3FB <= ord(char) <= 0x1F3FF  # skin tones
        or 0xE0020 <= ord(char) <= 0xE007F  # tag characters (subdivision flags)
        or char in _JOINERS
    )


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` UTF-16 units, else its longest clean prefix that fits with "…"."""
    if utf16_length(text) <= limit:
        return text
    budget = limit - utf16_length(ELLIPSIS)
    if budget <= 0:
        return ELLIPSIS if limit >= utf16_length(ELLIPSIS) else ""
    used = end = 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > budget:
            break
        used += size
        end += 1
    # Step back to the start of a cluster: never keep a base whose marks or joined parts were cut off,
    # nor leave a dangling joiner at the end.
    while end > 0 and _continues(text[end]):
        end -= 1
    while end > 0 and text[end - 1] in _JOINERS:
        end -= 1
    return text[:end].rstrip() + ELLIPSIS


def quote(text: str, limit: int) -> str:
    """User text for an HTML message: shortened to `limit` visible units, then escaped."""
    return html.escape(shorten(text, limit), quote=False)
