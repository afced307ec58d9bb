"""The read-only JSON API under /api/: per-token bearer auth; tips (filtered, keyset pages), objects, stats."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiohttp import web

from review.context import Handler, database, unit_of_work
from review.export import strict_dumps, thread_rows, tip_row
from review.filters import FilterError, parse_cursor, parse_filters, parse_id
from review.search_audit import Where, audit_search
from review.security import token_hash
from review.text_guard import refuse_unstorable_text
from storage.models import utcnow
from storage.repositories.audit import ApiTokenRecord
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_LIMIT = 200
TOUCH_EVERY = timedelta(minutes=5)
_API_CLIENT = web.RequestKey("review_api_token", ApiTokenRecord)


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


async def _authenticate(request: web.Request) -> ApiTokenRecord | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        return None
    now = utcnow()
    async with unit_of_work(request) as uow:
        record = await uow.api_tokens.active_by_hash(token_hash(token.strip()))
        if record is not None and (record.last_used_at is None or now - record.last_used_at > TOUCH_EVERY):
            await uow.api_tokens.touch(record.id, now)
            await uow.commit()
    return record


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer token on every route; every error as JSON."""
    if request.match_info.http_exception is not None:
        return _error(request.match_info.http_exception.status, request.match_info.http_exception.reason)
    token = await _authenticate(request)
    if token is None:
        return _error(401, "a valid API token is required", **{"WWW-Authenticate": 'Bearer realm="tracebot"'})
    request[_API_CLIENT] = token
    try:
        return await handler(request)
    except FilterError as exc:
        return _error(400, str(exc))
    except web.HTTPException as exc:
        return _error(exc.status, exc.reason)


async def _audit_search(request: web.Request, uow: UnitOfWork, where: Where, text: str) -> None:
    """Searches through the API are audited like the dashboard's, under the token's id."""
    if text:
        actor = f"api-token {request[_API_CLIENT].id}"
        await audit_search(uow, database(request).privacy, actor=actor, moderator_id=None, where=where, text=text)
        await uow.commit()


async def tips(request: web.Request) -> web.StreamResponse:
    filters, cursor = parse_filters(request.query), parse_cursor(request.query)
    limit = parse_id(request.query.get("limit"), "limit") or 50
    if limit > MAX_LIMIT:
        raise FilterError(f"limit must be at most {MAX_LIMIT}")
    if filters.assigned == "me":
        raise FilterError("assigned=me needs a moderator; API tokens have none")
    async with unit_of_work(request) as uow:
        rows = await uow.review.page(
            filters.to_query(), before_id=cursor.before, after_id=cursor.after, limit=limit + 1, urgent_first=False
        )
        await _audit_search(request, uow, "api", filters.q)
    if cursor.after is not None:
        page, more = (rows[1:], True) if len(rows) > limit else (rows, False)
        body: dict[str, Any] = {
            "tips": [tip_row(tip) for tip in page],
            "next_after": page[0].id if more and page else None,
        }
    else:
        page = rows[:limit]
        body = {"tips": [tip_row(tip) for tip in page], "next_before": page[-1].id if len(rows) > limit else None}
    return web.json_response(body, dumps=strict_dumps)


async def tip(request: web.Request) -> web.StreamResponse:
    tip_id = parse_id(request.match_info["tip_id"], "tip")
    async with unit_of_work(request) as uow:
        found = await uow.review.get(tip_id) if tip_id else None
        thread = await uow.followup.thread(found.id) if found else []
    if found is None:
        raise web.HTTPNotFound(reason="no such tip")
    return web.json_response({**tip_row(found), "thread": thread_rows(thread)}, dumps=strict_dumps)


async def objects(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request) as uow:
        summaries = await uow.review_stats.objects()
    return web.json_response(
        {
            "objects": [
                {"id": item.id, "reference": item.reference, "question": item.question, "status": item.status,
                 "tips": item.tips, "new_tips": item.new_tips}
                for item in summaries
            ]
        }
    )  # fmt: skip


async def stats(request: web.Request) -> web.StreamResponse:
    filters = parse_filters(request.query)
    if filters.assigned == "me":
        raise FilterError("assigned=me needs a moderator; API tokens have none")
    query = filters.to_query()
    async with unit_of_work(request) as uow:
        body: dict[str, Any] = {"total": await uow.review_stats.total(query)}
        body["per_day"] = {t.key: t.count for t in await uow.review_stats.per_day(query)}
        for dimension in ("status", "language", "country", "object", "campaign"):
            tallies = await uow.review_stats.grouped(dimension, query, limit=1000)
            body[f"by_{dimension}"] = {(t.label or t.key or "unknown"): t.count for t in tallies}
        await _audit_search(request, uow, "api_stats", filters.q)
    return web.json_response(body)


def build_api() -> web.Application:
    api = web.Application(middlewares=[api_middleware, refuse_unstorable_text])
    api.router.add_get("/tips", tips, name="api.tips")
    api.router.add_get(r"/tips/{tip_id:\d+}", tip, name="api.tip")
    api.router.add_get("/objects", objects, name="api.objects")
    api.router.add_get("/stats", stats, name="api.stats")
    return api
