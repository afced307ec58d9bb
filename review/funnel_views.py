"""The campaign funnel: link opened → opted in → object viewed → tip started → tip sent, per day.

Read from aggregate counters only (`storage.repositories.funnel`); the page says how they are made.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aiohttp import web

from review import context
from review.charts import columns, horizontal_bars
from review.context import unit_of_work
from review.filters import FilterError, parse_day, parse_id
from review.render import error_page, render
from storage.models import FunnelStep
from storage.repositories.funnel import FunnelRow
from storage.repositories.review_stats import Tally

log = logging.getLogger(__name__)

STEPS = list(FunnelStep)
STEP_LABELS = {
    FunnelStep.LINK_OPENED: "Link opened",
    FunnelStep.OPTED_IN: "Opted in",
    FunnelStep.OBJECT_VIEWED: "Object viewed",
    FunnelStep.TIP_STARTED: "Tip started",
    FunnelStep.TIP_SENT: "Tip sent",
}
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class FunnelTable:
    """Rows (a day, an object or a channel) × the five steps."""

    title: str
    key_header: str
    rows: list[tuple[str, list[int]]]


def table(title: str, key_header: str, rows: list[FunnelRow], key: str, names: dict[int, str]) -> FunnelTable:
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(STEPS))
    for row in rows:
        value = getattr(row, key)
        label = value.isoformat() if isinstance(value, date) else names.get(value, value) if value else "(none)"
        counts[str(label)][STEPS.index(FunnelStep(row.step))] += row.count
    return FunnelTable(title, key_header, sorted(counts.items()))


async def funnel_page(request: web.Request) -> web.StreamResponse:
    query = request.query
    today = datetime.now(UTC).date()
    try:
        campaign_id = parse_id(query.get("campaign") or None, "campaign")
        since = parse_day(query.get("date_from") or None, "from") or today - timedelta(days=29)
        until = parse_day(query.get("date_to") or None, "to") or today
    except FilterError as exc:
        return error_page(request, 400, "Invalid filter", str(exc))
    if until < since or (until - since).days > MAX_DAYS:
        return error_page(request, 400, "Invalid period", f"Choose a period of 1 to {MAX_DAYS} days.")
    try:
        await context.database(
            request
        ).flush_counts()  # this process's latest turns (other instances': within a second)
    except Exception:  # the page shows what is written; the flusher keeps trying
        log.warning("the funnel page could not write this process's latest counts first", exc_info=True)
    async with unit_of_work(request) as uow:
        rows = await uow.funnel.rows(since=since, until=until, campaign_id=campaign_id)
        campaigns = await uow.campaigns.all()
        objects = {obj.id: obj.reference for obj in await uow.objects.all()}
    totals = [sum(row.count for row in rows if row.step == step) for step in STEPS]
    opened_per_day = {row.day: 0 for row in rows}
    for row in rows:
        if row.step == FunnelStep.LINK_OPENED:
            opened_per_day[row.day] += row.count
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    day_tallies = [Tally(day.isoformat(), day.isoformat(), opened_per_day.get(day, 0)) for day in days]
    return render(
        request,
        "funnel.html",
        campaigns=campaigns,
        campaign_id=campaign_id,
        since=since,
        until=until,
        steps=[STEP_LABELS[step] for step in STEPS],
        totals=totals,
        funnel_chart=horizontal_bars(
            "Funnel", [Tally(step.value, STEP_LABELS[step], total) for step, total in zip(STEPS, totals, strict=True)]
        ),
        day_chart=columns("Links opened per day (UTC)", day_tallies),
        tables=[
            table("Per day", "Day (UTC)", rows, "day", {}),
            table("Per object", "Object", rows, "object_id", objects),
            table("Per channel tag", "Channel", rows, "channel", {}),
        ],
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/funnel", funnel_page, name="review.funnel")
