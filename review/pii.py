"""Contact details inside tip text (e-mail addresses, phone numbers) are masked for moderators.

A tip may carry a third party's contact details or the reporter's own; moderators see them
only when an admin reveals them on purpose, and every reveal is audited.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+", re.UNICODE)
# Candidates: digit runs with the separators phone numbers use (not dots: dates and prices use them).
PHONE_CANDIDATE = re.compile(r"(?<![\w+.])\+?\(?\d(?:[ \t/()-]{0,2}\d){6,16}(?![\w.]\d)")
EMAIL_MASK = "[e-mail hidden]"
PHONE_MASK = "[phone number hidden]"


def looks_like_phone(candidate: str) -> bool:
    """International (+.. / 00..) or separated numbers are phones; a bare run must look national.

    Bare 8- and 13-digit runs are usually barcodes (EAN-8/EAN-13): evidence, never masked.
    """
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    if candidate.startswith("+") or digits.startswith("00"):
        return True
    if re.search(r"[ \t/()-]", candidate):
        return True
    return digits.startswith("0") and 9 <= len(digits) <= 12


def mask_contacts(text: str | None) -> str:
    """The text with e-mail addresses and phone numbers replaced by placeholders."""
    if not text:
        return text or ""
    masked = EMAIL.sub(EMAIL_MASK, text)
    return PHONE_CANDIDATE.sub(lambda match: PHONE_MASK if looks_like_phone(match.group()) else match.group(), masked)


def has_contacts(text: str | None) -> bool:
    return bool(text) and mask_contacts(text) != text
