"""CSV and JSON export of any filtered view, streamed in keyset batches (constant memory), audit-logged."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from review import context
from review.context import current_moderator, unit_of_work
from review.filters import FilterError, parse_filters
from review.queue import record
from review.render import error_page
from review.search_audit import audit_moderator_search
from review.security import neutralise_cell
from storage.pii import mask_contacts
from storage.repositories.review import ReviewTip, TipQuery
from storage.uow import Database

BATCH = 1000
SLICE = 200  # rows made into bytes at a time on the event loop (a few milliseconds)
COLUMNS = (
    "reference", "id", "received_utc", "status", "object", "campaign", "country_code", "country_text",
    "latitude", "longitude", "language", "language_confidence", "text_original", "text_english",
    "translation_status", "reporter_alias", "assigned_to", "duplicate_of",
)  # fmt: skip


def finite(value: float | None) -> float | None:
    """A stored number, or None where it is not finite (JSON has no NaN or Infinity)."""
    return value if value is not None and math.isfinite(value) else None


def strict_dumps(value: Any) -> str:
    """JSON that any strict parser reads: refuses NaN and Infinity instead of writing them."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def tip_row(tip: ReviewTip) -> dict[str, Any]:
    """The exported fields of a tip: the reporter appears only by alias."""
    return {
        "reference": tip.reference,
        "id": tip.id,
        "received_utc": tip.created_at.astimezone(UTC).isoformat(),
        "status": tip.status,
        "object": tip.object_reference,
        "campaign": tip.campaign_code,
        "country_code": tip.country_code,
        "country_text": tip.country_text,
        "latitude": finite(tip.latitude),
        "longitude": finite(tip.longitude),
        "language": tip.language,
        "language_confidence": finite(tip.language_confidence),
        "text_original": mask_contacts(tip.text_original),
        "text_english": mask_contacts(tip.text_english) if tip.text_english is not None else None,
        "translation_status": tip.translation_status,
        "reporter_alias": tip.reporter_alias,
        "assigned_to": tip.assigned_to,
        "duplicate_of": tip.duplicate_of_reference,
    }


async def iterate_tips(database: Database, query: TipQuery, batch: int = BATCH) -> AsyncIterator[list[ReviewTip]]:
    """Every matching tip, newest first, one short transaction per batch (no long-held locks).

    The next batch is read while the caller turns this one into bytes, so the database and Python
    work side by side instead of taking turns.
    """

    async def fetch(before: int | None) -> list[ReviewTip]:
        async with database.unit_of_work() as uow:
            return await uow.review.page(query, before_id=before, limit=batch)

    pending = asyncio.create_task(fetch(None))
    try:
        while True:
            tips = await pending
            if not tips:
                return
            if len(tips) == batch:
                pending = asyncio.create_task(fetch(tips[-1].id))
            yield tips
            if len(tips) < batch:
                return
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending


def slices(tips: list[ReviewTip], size: int = SLICE) -> list[list[ReviewTip]]:
    """A batch in short runs: each is turned into bytes between two writes, so other requests get a turn."""
    return [tips[start : start + size] for start in range(0, len(tips), size)]


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise_cell(value)
    return str(value)


def csv_line(values: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().encode("utf-8")


def csv_chunk(tips: list[ReviewTip]) -> bytes:
    """A batch of tips as CSV lines: each row built once (masking its texts once), one writer per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in map(tip_row, tips):
        writer.writerow([csv_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue().encode("utf-8")


async def export(request: web.Request) -> web.StreamResponse:
    me = current_moderator(request)
    kind = request.match_info["kind"]
    try:
        filters = parse_filters(request.query)
    except FilterError as exc:
        return error_page(request, 400, "Invalid filter", str(exc))
    query = filters.to_query(me.id)
    database = context.database(request)
    async with unit_of_work(request) as uow:
        search = await audit_moderator_search(request, uow, "export", filters.q)
        # The search text stays out of the trail (it may be a phone number): only its digest.
        searched = {"search": search} if search else {}
        record(uow, me, "export", "tips", None, format=kind, filters=filters.params(q=""), **searched)
        await uow.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8" if kind == "csv" else "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="tracebot-tips-{stamp}.{kind}"',
        }
    )
    await response.prepare(request)
    count = 0
    if kind == "csv":
        await response.write(b"\xef\xbb\xbf" + csv_line(list(COLUMNS)))  # BOM: spreadsheets then read UTF-8
        async for tips in iterate_tips(database, query):
            for part in slices(tips):
                await response.write(csv_chunk(part))
            count += len(tips)
    else:
        await response.write(b'{"exported_utc": ' + json.dumps(stamp).encode() + b', "tips": [')
        async for tips in iterate_tips(database, query):
            for part in slices(tips):
                items = ",\n".join(strict_dumps(tip_row(tip)) for tip in part)
                await response.write(((",\n" if count else "\n") + items).encode("utf-8"))
                count += len(part)
        await response.write(b"\n]}\n")
    await response.write_eof()
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/export.{kind:csv|json}", export, name="review.export")
