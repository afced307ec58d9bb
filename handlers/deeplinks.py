"""Deep-link payloads: `t.me/<bot>?start=<payload>`.

Grammar (Telegram allows `[A-Za-z0-9_-]{1,64}`): items joined by `_`, each `c-<campaign>`,
`o-<object reference>` or `s-<channel tag>` (where the link was posted, e.g. `s-insta`); a bare
item is read as an object reference when it looks like one (`TAO-0001`) and as a campaign code
otherwise. Example: `c-spring26_o-TAO-0001_s-x`. Anything malformed is a plain start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_PAYLOAD = 64
OBJECT_REFERENCE = re.compile(r"^[A-Za-z]{2,8}-\d{1,8}$")
CAMPAIGN_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
CHANNEL_TAG = re.compile(r"^[A-Za-z0-9-]{1,16}$")
PREFIXED = {"c-": CAMPAIGN_CODE, "o-": OBJECT_REFERENCE, "s-": CHANNEL_TAG}


@dataclass(frozen=True, slots=True)
class DeepLink:
    campaign_code: str | None = None
    object_reference: str | None = None
    channel: str | None = None


def parse_payload(payload: str | None) -> DeepLink:
    """Parse a /start payload; anything malformed yields an empty `DeepLink` (a normal start)."""
    if not payload or not PAYLOAD.match(payload):
        return DeepLink()
    campaign: str | None = None
    reference: str | None = None
    channel: str | None = None
    for item in payload.split("_"):
        prefix, value = item[:2], item[2:]
        if prefix in PREFIXED and not PREFIXED[prefix].match(value):
            return DeepLink()  # a mangled part: trust none of the link
        if prefix == "c-":
            campaign = value
        elif prefix == "o-":
            reference = value.upper()
        elif prefix == "s-":
            channel = value.lower()
        elif OBJECT_REFERENCE.match(item):
            reference = item.upper()
        elif CAMPAIGN_CODE.match(item):
            campaign = item
        else:
            return DeepLink()  # an empty or unknown part: as above
    return DeepLink(campaign_code=campaign, object_reference=reference, channel=channel)


def make_payload(
    campaign_code: str | None = None, object_reference: str | None = None, channel: str | None = None
) -> str:
    """The inverse of `parse_payload`, for share links and QR codes; ValueError if it would not fit."""
    if channel is not None and not CHANNEL_TAG.match(channel):
        raise ValueError("a channel tag is 1-16 letters, digits or hyphens")
    items = []
    if campaign_code:
        items.append(f"c-{campaign_code}")
    if object_reference:
        items.append(f"o-{object_reference}")
    if channel:
        items.append(f"s-{channel.lower()}")
    payload = "_".join(items)
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"the link would be {len(payload)} characters; Telegram allows {MAX_PAYLOAD}")
    if payload and not PAYLOAD.match(payload):
        raise ValueError("campaign code, object reference and channel do not fit in a deep link")
    return payload
