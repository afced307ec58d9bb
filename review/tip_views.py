"""One tip: its text beside the translation, its answers, and the review workflow (status, notes, links)."""

from __future__ import annotations

from aiohttp import web

from review.aggregates import aggregates
from review.context import current_moderator, unit_of_work
from review.filters import FilterError, parse_tip_id, path_id
from review.queue import record
from review.render import error_page, render, see_other, with_notice
from review.thread import QuestionPreview, thread_context
from storage.models import TipStatus, format_tip_reference
from storage.pii import has_contacts

MAX_NOTE = 4000
# Why the bot could not tell the reporter their tip's reference (bot/maintenance.py).
UNDELIVERED_REASONS = {
    "chat_gone": "the reporter blocked the bot or their chat is gone",
    "refused": "Telegram refused the message",
    "no_chat": "the reporter deleted their data",
    "undecryptable": "the chat address cannot be decrypted with the current secret key",
}


def _detail_url(tip_id: int, notice: str) -> str:
    return with_notice(f"/review/tips/{tip_id}", notice)


async def tip_page(
    request: web.Request, *, reveal: bool = False, question: QuestionPreview | None = None
) -> web.StreamResponse:
    tip_id = path_id(request, "tip_id")
    async with unit_of_work(request) as uow:
        tip = await uow.review.get(tip_id)
        if tip is None:
            return error_page(request, 404, "No such tip", f"There is no tip {format_tip_reference(tip_id)}.")
        reporter_blocked = await uow.reporter_moderation.blocked_for_tip(tip_id)
        other_tips = await uow.review.other_tips_by_same_reporter(tip_id)
        notes = await uow.review.notes(tip_id)
        duplicates = await uow.review.duplicates_of(tip_id)
        obj = await uow.objects.get(tip.object_id) if tip.object_id is not None else None
        campaign = await uow.campaigns.get(tip.campaign_id) if tip.campaign_id is not None else None
        undelivered = await uow.confirmations.undelivered(tip_id)
        thread = await thread_context(uow, request, tip_id, current_moderator(request).id)
    return render(
        request,
        "tip.html",
        tip=tip,
        obj=obj,
        campaign=campaign,
        other_tips=other_tips,
        notes=notes,
        duplicates=duplicates,
        statuses=[status for status in TipStatus if status != TipStatus.DUPLICATE],
        format_tip_reference=format_tip_reference,
        reveal=reveal,
        has_contacts=has_contacts(tip.text_original) or has_contacts(tip.text_english),
        can_reveal=current_moderator(request).is_admin,
        reporter_blocked=reporter_blocked,
        undelivered=undelivered,
        undelivered_reason=UNDELIVERED_REASONS.get(undelivered.reason, undelivered.reason) if undelivered else None,
        question=question,
        **thread,
    )


async def reveal_contacts(request: web.Request) -> web.StreamResponse:
    """Show the tip with contact details unmasked (admins only; every reveal is audited)."""
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    async with unit_of_work(request) as uow:
        if tip_id not in await uow.review.existing([tip_id]):
            raise web.HTTPNotFound()
        record(uow, me, "tip.reveal_contacts", "tip", tip_id)
        await uow.commit()
    response = await tip_page(request, reveal=True)
    response.headers["Cache-Control"] = "no-store"
    return response


async def block_reporter(request: web.Request) -> web.StreamResponse:
    """Block (or unblock) the tip's reporter: the bot then politely refuses their messages."""
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    form = await request.post()
    blocked = form.get("blocked") == "1"
    async with unit_of_work(request) as uow:
        if tip_id not in await uow.review.existing([tip_id]):
            raise web.HTTPNotFound()
        if not await uow.reporter_moderation.set_blocked_for_tip(tip_id, blocked):
            return error_page(request, 409, "No reporter", "The reporter of this tip has deleted their data.")
        record(uow, me, "reporter.block" if blocked else "reporter.unblock", "tip", tip_id)
        await uow.commit()
    return see_other(_detail_url(tip_id, "blocked" if blocked else "unblocked"))


async def change_status(request: web.Request) -> web.StreamResponse:
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    form = await request.post()
    value = str(form.get("status", ""))
    if value not in TipStatus.__members__.values() or value == TipStatus.DUPLICATE:
        return error_page(request, 400, "Unknown status", "Choose one of the offered statuses.")
    async with unit_of_work(request) as uow:
        before = await uow.review.set_status([tip_id], TipStatus(value))
        if not before and tip_id not in await uow.review.existing([tip_id]):
            raise web.HTTPNotFound()
        if before:
            record(uow, me, "tip.status", "tip", tip_id, status=value, previous=before[tip_id])
        await uow.commit()
    aggregates(request).invalidate()  # the queue tabs and statistics show the change at once
    return see_other(_detail_url(tip_id, "status"))


async def assign(request: web.Request) -> web.StreamResponse:
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    form = await request.post()
    to_me = form.get("assign") != "none"
    async with unit_of_work(request) as uow:
        if tip_id not in await uow.review.existing([tip_id]):
            raise web.HTTPNotFound()
        changed = await uow.review.assign([tip_id], me.id if to_me else None)
        if changed:
            record(uow, me, "tip.assign", "tip", tip_id, assigned_to=me.username if to_me else None)
        await uow.commit()
    aggregates(request).invalidate()  # the queue tabs and statistics show the change at once
    return see_other(_detail_url(tip_id, "assigned"))


async def add_note(request: web.Request) -> web.StreamResponse:
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    form = await request.post()
    text = str(form.get("text", "")).strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        return error_page(request, 400, "Invalid note", f"A note needs 1 to {MAX_NOTE} characters.")
    async with unit_of_work(request) as uow:
        if tip_id not in await uow.review.existing([tip_id]):
            raise web.HTTPNotFound()
        note_id = await uow.review.add_note(tip_id, me.id, text)
        record(uow, me, "tip.note", "tip", tip_id, note_id=note_id, length=len(text))
        await uow.commit()
    return see_other(_detail_url(tip_id, "note"))


async def link_duplicate(request: web.Request) -> web.StreamResponse:
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    form = await request.post()
    try:
        original = parse_tip_id(str(form.get("original", "")))
    except FilterError:
        original = None
    if original is None:
        return error_page(request, 400, "Invalid reference", "Give the original tip as a reference like T-000123.")
    async with unit_of_work(request) as uow:
        try:
            previous = await uow.review.link_duplicate(tip_id, original)
        except LookupError:
            return error_page(request, 404, "No such tip", f"There is no tip {format_tip_reference(original)}.")
        except ValueError as exc:
            return error_page(request, 400, "Cannot link", str(exc).capitalize() + ".")
        record(uow, me, "tip.duplicate", "tip", tip_id, duplicate_of=original, previous=previous)
        await uow.commit()
    aggregates(request).invalidate()  # the queue tabs and statistics show the change at once
    return see_other(_detail_url(tip_id, "duplicate"))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/tips/{tip_id:\d+}", tip_page, name="review.tip")
    app.router.add_post(r"/tips/{tip_id:\d+}/status", change_status, name="review.tip_status")
    app.router.add_post(r"/tips/{tip_id:\d+}/assign", assign, name="review.tip_assign")
    app.router.add_post(r"/tips/{tip_id:\d+}/notes", add_note, name="review.tip_note")
    app.router.add_post(r"/tips/{tip_id:\d+}/duplicate", link_duplicate, name="review.tip_duplicate")
    app.router.add_post(r"/tips/{tip_id:\d+}/reveal", reveal_contacts, name="review.tip_reveal")
    app.router.add_post(r"/tips/{tip_id:\d+}/block", block_reporter, name="review.tip_block")
