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

import orjson
from aiohttp import web

from review import context
from review.context import current_moderator, unit_of_work
from review.filters import FilterError, parse_filters
from review.queue import record
from review.render import error_page
from review.search_audit import audit_moderator_search
from review.security import FORMULA_TRIGGERS, neutralise_cell
from storage.pii import mask_contacts
from storage.repositories.followup import ThreadEntry
from storage.repositories.review import ReviewTip, TipQuery
from storage.uow import Database

BATCH = 1000
SLICE = 200  # rows made into bytes at a time on the event loop (a few milliseconds)
COLUMNS = (
    "reference", "id", "received_utc", "status", "object", "campaign", "country_code", "country_text",
    "latitude", "longitude", "language", "language_confidence", "text_original", "text_english",
    "translation_status", "reporter_alias", "assigned_to", "duplicate_of", "urgent", "followup_consent",
    "answers_waiting", "thread",
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
        "urgent": tip.urgent,
        "followup_consent": tip.followup_consent,
        "answers_waiting": tip.answers_waiting,
    }


def thread_rows(thread: list[ThreadEntry]) -> list[dict[str, Any]]:
    """A tip's follow-up thread as exported: contacts masked, the moderator by username, never the reporter."""
    return [
        {
            "kind": entry.kind,
            "at_utc": entry.created_at.astimezone(UTC).isoformat(),
            "moderator": entry.moderator,
            "language": entry.language,
            "text_original": mask_contacts(entry.text_original),
            "text_english": mask_contacts(entry.text_english) if entry.text_english is not None else None,
            "text_sent": entry.text_sent,
            "state": entry.state,
            "delivered_utc": entry.delivered_at.astimezone(UTC).isoformat() if entry.delivered_at else None,
            "delivery_failure": entry.delivery_failure,
        }
        for entry in thread
    ]


Batch = tuple[list[ReviewTip], dict[int, list[ThreadEntry]]]


def export_rows(batch: Batch) -> list[dict[str, Any]]:
    """The batch's rows, each with its thread."""
    tips, threads = batch
    return [{**tip_row(tip), "thread": thread_rows(threads[tip.id])} for tip in tips]


async def iterate_tips(database: Database, query: TipQuery, batch: int = BATCH) -> AsyncIterator[Batch]:
    """Every matching tip with its thread in queue order, one short transaction per batch (no long-held locks).

    The next batch and its threads are read while the caller turns this one into bytes, so the
    database and Python work side by side instead of taking turns.
    """

    async def fetch(before: int | None) -> Batch:
        async with database.unit_of_work() as uow:
            tips = await uow.review.page(query, before_id=before, limit=batch)
            return tips, await uow.followup.threads([tip.id for tip in tips])

    pending = asyncio.create_task(fetch(None))
    try:
        while True:
            tips, threads = await pending
            if not tips:
                return
            if len(tips) == batch:
                pending = asyncio.create_task(fetch(tips[-1].id))
            yield tips, threads
            if len(tips) < batch:
                return
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending


def slices(rows: list[dict[str, Any]], size: int = SLICE) -> list[list[dict[str, Any]]]:
    """A batch in short runs: each is turned into bytes between two writes, so other requests get a turn."""
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise_cell(value)
    if isinstance(value, list):  # the thread: JSON inside the cell
        return neutralise_cell(strict_dumps(value))
    return str(value)


def csv_line(values: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().encode("utf-8")


def csv_chunk(rows: list[dict[str, Any]]) -> bytes:
    """Rows (each built once, its texts masked once) as CSV lines, with one writer for them all.

    The same cells as `csv_cell`, inlined: it runs for every cell of an export of millions.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    triggers = FORMULA_TRIGGERS
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row[column]
            if value is None:
                cells.append("")
            elif value.__class__ is str:
                cells.append("'" + value if value.startswith(triggers) else value)
            else:
                cells.append(csv_cell(value))
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def json_chunk(rows: list[dict[str, Any]], first: bool) -> bytes:
    """Rows as the elements of the export's JSON array (after a comma unless `first`), one a line.

    orjson: several times faster than the standard library. Rows hold no NaN or Infinity (`finite`),
    which it would write as null where `strict_dumps` refuses them.
    """
    items = b",\n".join(orjson.dumps(row) for row in rows)
    return (b"\n" if first else b",\n") + items


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
        async for fetched in iterate_tips(database, query):
            for part in slices(export_rows(fetched)):
                await response.write(csv_chunk(part))
            count += len(fetched[0])
    else:
        await response.write(b'{"exported_utc": ' + json.dumps(stamp).encode() + b', "tips": [')
        async for fetched in iterate_tips(database, query):
            for part in slices(export_rows(fetched)):
                await response.write(json_chunk(part, first=not count))
                count += len(part)
        await response.write(b"\n]}\n")
    await response.write_eof()
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/export.{kind:csv|json}", export, name="review.export")
