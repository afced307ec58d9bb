"""Deep-link payloads: `t.me/<bot>?start=<payload>`.

Grammar (Telegram allows `[A-Za-z0-9_-]{1,64}`): items joined by `_`, each `c-<campaign>`
or `o-<object reference>`; a bare item is read as an object reference when it looks like
one (`TAO-0001`) and as a campaign code otherwise. Example: `c-summer26_o-TAO-0001`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
OBJECT_REFERENCE = re.compile(r"^[A-Za-z]{2,8}-\d{1,8}$")
CAMPAIGN_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")


@dataclass(frozen=True, slots=True)
class DeepLink:
    campaign_code: str | None = None
    object_reference: str | None = None


def parse_payload(payload: str | None) -> DeepLink:
    """Parse a /start payload; anything malformed yields an empty `DeepLink` (a normal start)."""
    if not payload or not PAYLOAD.match(payload):
        return DeepLink()
    campaign: str | None = None
    reference: str | None = None
    for item in payload.split("_"):
        if item.startswith("c-") and CAMPAIGN_CODE.match(item[2:]):
            campaign = item[2:]
        elif item.startswith("o-") and OBJECT_REFERENCE.match(item[2:]):
            reference = item[2:].upper()
        elif OBJECT_REFERENCE.match(item):
            reference = item.upper()
        elif CAMPAIGN_CODE.match(item):
            campaign = item
    return DeepLink(campaign_code=campaign, object_reference=reference)


def make_payload(campaign_code: str | None = None, object_reference: str | None = None) -> str:
    """The inverse of `parse_payload`, for share links and QR codes."""
    items = []
    if campaign_code:
        items.append(f"c-{campaign_code}")
    if object_reference:
        items.append(f"o-{object_reference}")
    payload = "_".join(items)
    if payload and not PAYLOAD.match(payload):
        raise ValueError("campaign code and object reference do not fit in a deep link")
    return payload
