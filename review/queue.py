"""The review queue: filtered, newest first, keyset-paginated, with per-status counts and bulk actions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from review.aggregates import COUNTS_TTL, aggregates
from review.context import OPTIONS, config, current_moderator, unit_of_work
from review.filters import FilterError, TipFilters, parse_cursor, parse_filters
from review.render import error_page, render, see_other, with_notice
from review.search_audit import audit_moderator_search
from review.security import DEFAULT_LANDING, safe_next
from storage.models import TipStatus
from storage.repositories.moderators import ModeratorRecord
from storage.repositories.review import ReviewTip
from storage.uow import UnitOfWork

MAX_BULK = 500
# Statuses a bulk action may set; `duplicate` needs a link to the original, one tip at a time.
BULK_STATUSES = tuple(status for status in TipStatus if status != TipStatus.DUPLICATE)


@dataclass(frozen=True, slots=True)
class Page:
    tips: list[ReviewTip]
    newer: int | None  # `after` cursor for the newer page, if there is one
    older: int | None  # `before` cursor for the older page, if there is one


def record(uow: UnitOfWork, me: ModeratorRecord, action: str, target_type: str, target_id: Any, **details: Any) -> None:
    """Append a moderator's action to the audit trail (committed with the action itself)."""
    uow.audit.append(
        actor=me.username,
        moderator_id=me.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )


async def load_page(
    uow: UnitOfWork, filters: TipFilters, me: ModeratorRecord, before: int | None, after: int | None, size: int
) -> Page:
    rows = await uow.review.page(filters.to_query(me.id), before_id=before, after_id=after, limit=size + 1)
    if after is not None:
        more_newer = len(rows) > size
        tips = rows[1:] if more_newer else rows
        return Page(tips, tips[0].id if more_newer and tips else None, tips[-1].id if tips else None)
    tips = rows[:size]
    newer = tips[0].id if before is not None and tips else None
    return Page(tips, newer, tips[-1].id if len(rows) > size else None)


async def queue_page(request: web.Request) -> web.StreamResponse:
    me = current_moderator(request)
    try:
        filters, cursor = parse_filters(request.query), parse_cursor(request.query)
    except FilterError as exc:
        return error_page(request, 400, "Invalid filter", str(exc))
    async with unit_of_work(request) as uow:
        page = await load_page(uow, filters, me, cursor.before, cursor.after, config(request).page_size)
        # Tab counts are kept briefly: counting a million tips on every click was most of a page's time.
        counting = filters.to_query(me.id).without_status()
        counts = await aggregates(request).get(
            ("status_counts", counting), COUNTS_TTL, lambda: uow.review.status_counts(counting)
        )
        waiting = replace(filters.to_query(me.id), answer_waiting=True)
        answers = await aggregates(request).get(
            ("answers_waiting", waiting), COUNTS_TTL, lambda: uow.review_stats.total(waiting)
        )
        if filters.q:
            await audit_moderator_search(request, uow, "queue", filters.q)
            await uow.commit()
    options = await request.config_dict[OPTIONS].get(request)
    return render(
        request,
        "queue.html",
        filters=filters,
        page=page,
        counts=counts,
        total=sum(counts.values()),
        answers_waiting=answers,
        options=options,
        bulk_statuses=BULK_STATUSES,
        back=request.path_qs,
    )


def _selected_ids(values: list[Any]) -> list[int]:
    ids = []
    for value in values:
        if isinstance(value, str) and value.isdigit() and len(value) <= 10 and 0 < int(value) < 2**31:
            ids.append(int(value))
    return sorted(set(ids))


async def bulk_action(request: web.Request) -> web.StreamResponse:
    """Change the status of, or assign to me, the tips ticked in the queue."""
    me = current_moderator(request)
    form = await request.post()
    back = safe_next(str(form.get("back", DEFAULT_LANDING)))
    ids = _selected_ids(form.getall("tip", []))
    if len(ids) > MAX_BULK:
        return error_page(request, 400, "Too many tips", f"Select at most {MAX_BULK} tips at a time.")
    action = str(form.get("action", ""))
    if not ids:
        return see_other(with_notice(back, "bulk_none"))
    async with unit_of_work(request) as uow:
        if action == "assign_me":
            changed = await uow.review.assign(ids, me.id)
            record(uow, me, "tip.bulk_assign", "tip", "bulk", tips=changed, assigned_to=me.username)
        elif action.startswith("status:") and action.removeprefix("status:") in BULK_STATUSES:
            status = TipStatus(action.removeprefix("status:"))
            before = await uow.review.set_status(ids, status)
            record(
                uow,
                me,
                "tip.bulk_status",
                "tip",
                "bulk",
                status=status.value,
                tips=sorted(before),
                previous={str(tip_id): old for tip_id, old in before.items()},
            )
        else:
            return error_page(request, 400, "Unknown action", "Choose an action for the selected tips.")
        await uow.commit()
    aggregates(request).invalidate()
    return see_other(with_notice(back, "bulk"))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/tips", queue_page, name="review.queue")
    app.router.add_post("/tips/bulk", bulk_action, name="review.bulk")
