"""Objects (with their image, country tally and top words), campaigns, and the statistics page."""

from __future__ import annotations

import mimetypes
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiohttp import web

from review.aggregates import COUNTS_TTL, STATS_TTL, aggregates
from review.charts import columns, horizontal_bars
from review.context import MEDIA_DIR, OPTIONS, current_moderator, unit_of_work
from review.filters import FilterError, TipFilters, parse_filters, path_id, start_of
from review.queue import record
from review.render import STATUS_LABELS, error_page, render, see_other, with_notice
from review.search_audit import audit_moderator_search
from review.words import top_words
from storage.models import ObjectStatus
from storage.repositories.review import TipQuery
from storage.repositories.review_stats import Tally
from translations.countries import country_name

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})


async def objects_page(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request) as uow:
        objects = await aggregates(request).get("objects", COUNTS_TTL, uow.review_stats.objects)
    return render(request, "objects.html", objects=objects)


async def object_page(request: web.Request) -> web.StreamResponse:
    object_id = path_id(request, "object_id")
    query = TipQuery(object_id=object_id)
    async with unit_of_work(request) as uow:
        summary = await uow.review_stats.object(object_id)
        if summary is None:
            return error_page(request, 404, "No such object", "This object is not in the catalog.")
        tips = await uow.review.page(query, limit=20)

        async def tallies() -> tuple[list[Tally], list[Tally], list[tuple[str, int]], int]:
            # Tens of milliseconds each for an object with 100,000 tips; a minute old is fine for charts.
            countries = await uow.review_stats.grouped("country", query, limit=25)
            statuses = await uow.review_stats.grouped("status", query)
            texts = await uow.review_stats.english_texts(object_id)
            return countries, statuses, top_words(texts), len(texts)

        countries, statuses, common_words, translated = await aggregates(request).get(
            ("object", object_id), STATS_TTL, tallies
        )
    countries = [Tally(tally.key, _country(tally.key), tally.count) for tally in countries]
    return render(
        request,
        "object.html",
        obj=summary,
        tips=tips,
        countries=countries,
        country_chart=horizontal_bars("Tips by suggested country", countries, width=460, label_width=130),
        statuses=statuses,
        words=common_words,
        translated=translated,
    )


async def object_status(request: web.Request) -> web.StreamResponse:
    me, object_id = current_moderator(request), path_id(request, "object_id")
    form = await request.post()
    value = str(form.get("status", ""))
    if value not in ObjectStatus.__members__.values():
        return error_page(request, 400, "Unknown status", "Choose active, identified or archived.")
    async with unit_of_work(request) as uow:
        old = await uow.review_stats.set_object_status(object_id, ObjectStatus(value))
        if old is None:
            raise web.HTTPNotFound()
        if old != value and value == ObjectStatus.IDENTIFIED:
            # Closing the loop: its tipsters who asked for news are thanked (in the same commit, once each).
            thanked = await uow.outbox.enqueue_thanks(object_id, datetime.now(UTC))
            record(uow, me, "object.thanks_queued", "object", object_id, recipients=thanked)
        if old != value:
            record(uow, me, "object.status", "object", object_id, status=value, previous=old)
        await uow.commit()
    request.config_dict[OPTIONS].invalidate()
    aggregates(request).invalidate()
    page = f"/review/objects/{object_id}" if me.reads_tips else f"/review/objects/{object_id}/edit"
    return see_other(with_notice(page, "object_status"))


async def object_image(request: web.Request) -> web.StreamResponse:
    """An object's image, found by database lookup and served only from inside the media folder."""
    object_id = path_id(request, "object_id")
    async with unit_of_work(request) as uow:
        stored = await uow.review_stats.image_path(object_id)
    if not stored:
        raise web.HTTPNotFound()
    media = request.config_dict[MEDIA_DIR].resolve()
    path = (media / stored).resolve()
    content_type = mimetypes.guess_type(path.name)[0]
    if not path.is_relative_to(media) or content_type not in IMAGE_TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": "private, max-age=3600"})


async def campaigns_page(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request) as uow:
        campaigns = await uow.review_stats.campaigns()
    return render(request, "campaigns.html", campaigns=campaigns)


def _country(code: str) -> str:
    return f"{country_name(code, 'en')} ({code})" if code else "unknown"


def with_empty_days(tallies: list[Tally], start: datetime | None, end: datetime | None) -> list[Tally]:
    """Days without tips as zero bars, so the chart's time axis is even (at most a year of bars)."""
    if not tallies:
        return tallies
    counts = {tally.key: tally.count for tally in tallies}
    first = start.date() if start else date.fromisoformat(tallies[0].key)
    last = (
        (end - timedelta(days=1)).date() if end else max(date.fromisoformat(tallies[-1].key), datetime.now(UTC).date())
    )
    if (last - first).days > 366:
        return tallies
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    return [Tally(day.isoformat(), day.isoformat(), counts.get(day.isoformat(), 0)) for day in days]


def _default_period(filters: TipFilters, query: TipQuery) -> TipQuery:
    """Without a date range, the per-day chart covers the last 30 days."""
    if query.created_from or query.created_before:
        return query
    return replace(query, created_from=start_of(datetime.now(UTC).date() - timedelta(days=29)))


async def stats_page(request: web.Request) -> web.StreamResponse:
    me = current_moderator(request)
    try:
        filters = parse_filters(request.query)
    except FilterError as exc:
        return error_page(request, 400, "Invalid filter", str(exc))
    if filters.q and not me.reads_tips:  # counting matches would reveal what tips say
        raise web.HTTPForbidden(text="Searching tip text is for moderators.")
    query = filters.to_query(me.id)
    period = _default_period(filters, query)
    cache = aggregates(request)
    async with unit_of_work(request) as uow:
        breakdown = await cache.get(("breakdown", query), STATS_TTL, lambda: uow.review_stats.breakdown(query))
        per_day = await cache.get(("per_day", period), STATS_TTL, lambda: uow.review_stats.per_day(period))
        if filters.q:
            await audit_moderator_search(request, uow, "stats", filters.q)
            await uow.commit()
    total = breakdown.total
    groups: dict[str, list[Tally]] = {str(dimension): tallies for dimension, tallies in breakdown.groups.items()}
    groups["status"] = [Tally(t.key, STATUS_LABELS.get(t.key, t.key), t.count) for t in groups["status"]]
    groups["country"] = [Tally(t.key, _country(t.key), t.count) for t in groups["country"]]
    groups["language"] = [Tally(t.key, t.key or "undetected", t.count) for t in groups["language"]]
    groups["campaign"] = [Tally(t.key, t.label or "(none)", t.count) for t in groups["campaign"]]
    titles = {
        "status": "Status",
        "language": "Language",
        "country": "Country",
        "object": "Object",
        "campaign": "Campaign",
    }
    charts = {key: horizontal_bars(f"Tips by {title.lower()}", groups[key]) for key, title in titles.items()}
    options = await request.config_dict[OPTIONS].get(request)
    return render(
        request,
        "stats.html",
        filters=filters,
        options=options,
        total=total,
        per_day=per_day,
        day_chart=columns("Tips per day (UTC)", with_empty_days(per_day, period.created_from, period.created_before)),
        groups=groups,
        charts=charts,
        titles=titles,
    )


def setup_routes(app: web.Application, media_dir: Path) -> None:
    app[MEDIA_DIR] = media_dir
    app.router.add_get("/objects", objects_page, name="review.objects")
    app.router.add_get(r"/objects/{object_id:\d+}", object_page, name="review.object")
    app.router.add_post(r"/objects/{object_id:\d+}/status", object_status, name="review.object_status")
    app.router.add_get(r"/objects/{object_id:\d+}/image", object_image, name="review.object_image")
    app.router.add_get("/campaigns", campaigns_page, name="review.campaigns")
    app.router.add_get("/stats", stats_page, name="review.stats")
