"""Refuse, where it enters, text the database cannot hold: U+0000 (PostgreSQL text rejects it) and lone
surrogates (not encodable as UTF-8), in paths, query strings and form fields, plus bodies that do not
decode. A 400 instead of a 500 from deep inside a query."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from review.context import Handler
from storage.text import UNSTORABLE

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REASON = "Text with a character that cannot be stored (such as U+0000)"


def storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


def _all_storable(pairs: Iterable[tuple[str, object]]) -> bool:
    return all(storable(key) and (not isinstance(value, str) or storable(value)) for key, value in pairs)


@web.middleware
async def refuse_unstorable_text(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On the dashboard and the API; their error middlewares turn the 400 into a page or JSON."""
    if not storable(request.path) or not _all_storable(request.query.items()):
        raise web.HTTPBadRequest(reason=REASON)
    if request.method in BODY_METHODS:
        try:
            # aiohttp keeps the parsed form, so handlers reading it later get the same one.
            form = await request.post()
        except (ValueError, LookupError):  # not UTF-8 (UnicodeDecodeError), or an unknown charset
            raise web.HTTPBadRequest(reason="The form could not be decoded") from None
        if not _all_storable(form.items()):
            raise web.HTTPBadRequest(reason=REASON)
    return await handler(request)
