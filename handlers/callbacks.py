"""Callback-data grammar for inline buttons (Telegram allows 1-64 bytes)."""

from __future__ import annotations

OPT_IN = "optin"
STOP = "stop"
NEWS_ON = "news:on"
OBJECT_NEXT = "obj:next"  # obj:next:<object id>
OBJECT_PREVIOUS = "obj:prev"  # obj:prev:<object id>
OBJECT_SHOW = "obj:show"  # obj:show:<object id>
TIP_START = "tip:new"  # tip:new:<object id>
COUNTRY = "cty"  # cty:<ISO alpha-2> | cty:other | cty:unknown
COUNTRY_OTHER = "other"
COUNTRY_UNKNOWN = "unknown"
TIP_SEND = "tip:send"  # tip:send:<draft revision>: Send on an outdated preview is refused
TIP_EDIT = "tip:edit"
TIP_CANCEL = "tip:cancel"
TIP_SKIP_DETAILS = "tip:skip"
URGENT = "urgent"  # the help screen's "I know of a child in danger"
URGENT_COUNTRY = "ucty"  # ucty:<ISO alpha-2> | ucty:other | ucty:unknown (the urgent path's country picker)
TIP_FOLLOWUP = "tip:fu"  # the preview's follow-up consent toggle
ANSWER = "fq:a"  # fq:a:<question id>: answer a follow-up question
DECLINE = "fq:n"  # fq:n:<question id>: "I'd rather not"
WITHDRAW = "fq:w"  # fq:w:<tip id>: no more follow-up questions about this tip
ADD_TO_TIP = "fq:add"  # fq:add:<tip id>: /mytips, add text to an earlier tip

# Patterns for CallbackQueryHandler.
OBJECT_PATTERN = r"^obj:(next|prev|show):\d{1,12}$"
TIP_START_PATTERN = r"^tip:new:\d{1,12}$"
COUNTRY_PATTERN = r"^cty:([A-Z]{2}|other|unknown)$"
URGENT_COUNTRY_PATTERN = r"^ucty:([A-Z]{2}|other|unknown)$"
TIP_ACTION_PATTERN = r"^tip:(send(:\d{1,9})?|edit|cancel|skip|fu)$"
QUESTION_PATTERN = r"^fq:(a|n):\d{1,12}$"
WITHDRAW_PATTERN = r"^fq:w:\d{1,12}$"
ADD_TO_TIP_PATTERN = r"^fq:add:\d{1,12}$"


def with_id(prefix: str, object_id: int) -> str:
    return f"{prefix}:{object_id}"


# Row ids are 32-bit integers; a forged larger one would make PostgreSQL refuse the query parameter.
MAX_ID = 2**31 - 1


def trailing_id(data: str | None) -> int | None:
    """The id at the end of `data`; None when there is none or it cannot be a row id (forged)."""
    if not data:
        return None
    tail = data.rsplit(":", 1)[-1]
    if not tail.isdigit():
        return None
    value = int(tail)
    return value if value <= MAX_ID else None
