"""Contact details inside tip text (e-mail addresses, phone numbers) are masked for moderators.

A tip may carry a third party's contact details or the reporter's own; moderators see them
only when an admin reveals them on purpose, and every reveal is audited. The rules live in
`storage/` because the searchable copy of a tip is masked when it is written (`search_text`).
Change `MASK_VERSION` whenever the rules change: rows masked by older rules are then masked
again (`tracebot db reindex-search`, and at start-up), and search skips them until they are.
"""

from __future__ import annotations

import re
import unicodedata

MASK_VERSION = 1

# `@` and its full-width and small forms, which people type on phones and which NFKC folds to `@`.
EMAIL = re.compile(r"[\w.+-]{1,64}[@\uff20\ufe6b][\w-]{1,63}(?:\.[\w-]{1,63})+", re.UNICODE)
# Separators inside phone numbers: spaces of any kind (not line breaks), slashes, brackets, dashes.
# Not dots: dates and prices use them.
_SEPARATOR = r"(?:[^\S\r\n\v\f\u2028\u2029]|[/()\-\u2010-\u2015\u2212])"
PHONE_CANDIDATE = re.compile(rf"(?<![\w+.])\+?\(?\d(?:{_SEPARATOR}{{0,2}}\d){{6,16}}(?![\w.]\d)")
_HAS_SEPARATOR = re.compile(_SEPARATOR)
# Every e-mail match has one of EMAIL's at signs and every phone candidate a digit: without either,
# neither pattern can match.
_CONTACT_TRIGGER = re.compile(r"[@\uff20\ufe6b\d]")
EMAIL_MASK = "[e-mail hidden]"
PHONE_MASK = "[phone number hidden]"
_WHITESPACE = re.compile(r"\s+")
# Joins the masked original and the masked translation: normalised text and queries never contain it.
SEARCH_PART_SEPARATOR = "\n"


def looks_like_phone(candidate: str) -> bool:
    """International (+.. / 00..) or separated numbers are phones; a bare run must look national.

    Bare 8- and 13-digit runs are usually barcodes (EAN-8/EAN-13): evidence, never masked.
    """
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    if candidate.startswith("+") or digits.startswith("00"):
        return True
    if _HAS_SEPARATOR.search(candidate):
        return True
    return digits.startswith("0") and 9 <= len(digits) <= 12


def mask_contacts(text: str | None, *, email_mask: str = EMAIL_MASK, phone_mask: str = PHONE_MASK) -> str:
    """The text with e-mail addresses and phone numbers replaced by placeholders."""
    if not text:
        return text or ""
    if _CONTACT_TRIGGER.search(text) is None:
        return text  # most tips: exports mask two texts per row, and this check is 30x cheaper
    masked = EMAIL.sub(email_mask, text)
    return PHONE_CANDIDATE.sub(lambda match: phone_mask if looks_like_phone(match.group()) else match.group(), masked)


def remove_contacts(text: str | None) -> str:
    """The text with contact details cut out (a space each), for word counts: no placeholder words."""
    return mask_contacts(text, email_mask=" ", phone_mask=" ")


def has_contacts(text: str | None) -> bool:
    return bool(text) and mask_contacts(text) != text


def normalise_search(text: str) -> str:
    """How search text and queries are compared: NFKC, case-folded, whitespace runs as one space."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def search_text(text_original: str | None, text_english: str | None) -> str:
    """The searchable copy of a tip: the masked original and the masked translation, normalised.

    Masked again after normalising, in case folding turned something into a contact's shape.
    """
    parts = (text_original, text_english)
    return SEARCH_PART_SEPARATOR.join(mask_contacts(normalise_search(mask_contacts(part))) for part in parts if part)
