"""Searches go into the audit trail without their text: a keyed digest of the query and its length.

A query may itself be a phone number, so the clear text is never stored; the digest (HMAC with a key
derived from SECRET_KEY) still shows who repeated which query, and a run of many distinct queries
of growing length (someone rebuilding a hidden number) stands out. Each distinct query is recorded
once per person every few minutes, so paging through results or reloading adds nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from aiohttp import web

from review.context import current_moderator, database
from storage.models import utcnow
from storage.pii import normalise_search
from storage.privacy import Privacy
from storage.uow import UnitOfWork

SEARCH_ACTION = "tip.search"
REPEAT_WINDOW = timedelta(minutes=10)
Where = Literal["queue", "stats", "export", "api", "api_stats"]


async def audit_search(
    uow: UnitOfWork, privacy: Privacy, *, actor: str, moderator_id: int | None, where: Where, text: str
) -> str | None:
    """Record a search in `uow` (commit it with the request); returns the query's digest (None: no query)."""
    query = normalise_search(text)
    if not query:
        return None
    digest = privacy.search_digest(query)
    now = utcnow()
    since = now - REPEAT_WINDOW
    if not await uow.audit.recorded_since(action=SEARCH_ACTION, actor=actor, target_id=digest, since=since):
        uow.audit.append(
            actor=actor,
            action=SEARCH_ACTION,
            moderator_id=moderator_id,
            target_type="search",
            target_id=digest,
            details={"where": where, "length": len(query)},
            at=now,
        )
    return digest


async def audit_moderator_search(request: web.Request, uow: UnitOfWork, where: Where, text: str) -> str | None:
    """`audit_search` for the signed-in moderator."""
    me = current_moderator(request)
    return await audit_search(
        uow, database(request).privacy, actor=me.username, moderator_id=me.id, where=where, text=text
    )
