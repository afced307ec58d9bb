"""Announcements: write news in English (+ per-language versions), preview, send, follow, pause, cancel.

Sending is the outbox worker's job (in the bot process): "Start sending" only commits one outbox
row per reporter who asked for news, so a restart or a second instance changes nothing. The
machine-translation step fills the empty language fields with argos (en→xx) for review before
anything is sent; a language without a model gets the English text.

Who may do this (admins and campaign managers) is decided with every other route in `review.roles`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from review.appkeys import TRANSLATOR
from review.context import current_moderator, unit_of_work
from review.filters import path_id
from review.queue import record
from review.render import error_page, render, see_other, with_notice
from storage.models import AnnouncementState, OutboxState
from storage.repositories.announcements import AnnouncementRecord
from storage.uow import UnitOfWork
from translations.i18n import Catalogs, native_name

log = logging.getLogger(__name__)
MAX_TEXT = 4096  # Telegram's message limit
MAX_CAPTION = 1024  # with an object the text is the photo's caption
LANGUAGES = Catalogs().languages
RATE_WINDOW = timedelta(minutes=1)


class FormError(ValueError):
    """A field the form cannot accept; the message is shown to the user."""


def _announcement_id(request: web.Request) -> int:
    return path_id(request, "announcement_id")


async def _existing(uow: UnitOfWork, announcement_id: int) -> AnnouncementRecord:
    announcement = await uow.announcements.get(announcement_id)
    if announcement is None:
        raise web.HTTPNotFound()
    return announcement


def _text(value: object, limit: int, *, required: bool) -> str:
    text = (value if isinstance(value, str) else "").replace("\r\n", "\n").strip()
    if required and not text:
        raise FormError("Write the English text.")
    # Telegram counts UTF-16 code units (an emoji is two); texts are sent as plain text.
    if len(text.encode("utf-16-le")) // 2 > limit:
        raise FormError(
            f"Texts can be at most {limit} characters as Telegram counts them (an emoji counts as two; "
            f"{MAX_CAPTION} with an object, the photo caption's limit)."
        )
    return text


def parse_form(form: Mapping[str, Any], object_ids: set[int]) -> tuple[str, dict[str, str], int | None]:
    """English text, per-language versions and the optional object, validated."""
    raw_object = str(form.get("object_id", "") or "")
    object_id: int | None = None
    if raw_object:
        if not raw_object.isdigit() or int(raw_object) not in object_ids:
            raise FormError("Choose an object from the list.")
        object_id = int(raw_object)
    limit = MAX_CAPTION if object_id is not None else MAX_TEXT
    text_en = _text(form.get("text_en"), limit, required=True)
    translations = {}
    for language in LANGUAGES:
        if language != "en" and (text := _text(form.get(f"text_{language}"), limit, required=False)):
            translations[language] = text
    return text_en, translations, object_id


async def list_page(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request) as uow:
        announcements = await uow.announcements.latest()
        progress = {item.id: await uow.outbox.progress(item.id) for item in announcements}
    return render(request, "announcements.html", announcements=announcements, progress=progress)


async def _page(
    request: web.Request, uow: UnitOfWork, announcement: AnnouncementRecord | None, **extra: Any
) -> web.StreamResponse:
    subscribers = await uow.announcements.subscriber_languages()
    objects = await uow.review_stats.object_choices()
    shown = sorted({*subscribers, *(announcement.translations if announcement else {})} - {"en"})
    context: dict[str, Any] = {
        "announcement": announcement,
        "subscribers": subscribers,
        "recipients": sum(subscribers.values()),
        "languages": [(language, native_name(language)) for language in shown],
        "all_languages": [(language, native_name(language)) for language in LANGUAGES],
        "objects": objects,
        "error": None,
        "form": None,
        "machine": [],
        "untranslatable": [],
        "preview": None,
    }
    if announcement is not None:
        counts = await uow.outbox.progress(announcement.id)
        since = datetime.now(UTC) - RATE_WINDOW
        context.update(
            counts=counts,
            remaining=sum(counts.get(state, 0) for state in (OutboxState.QUEUED, OutboxState.CLAIMED)),
            per_minute=await uow.outbox.sent_since(announcement.id, since),
            preview=await uow.outbox.last_preview(announcement.id),
        )
    context.update(extra)
    return render(request, "announcement.html", status=400 if extra.get("error") else 200, **context)


async def new_page(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request) as uow:
        return await _page(request, uow, None)


async def create(request: web.Request) -> web.StreamResponse:
    me, form = current_moderator(request), await request.post()
    async with unit_of_work(request) as uow:
        objects = {object_id for object_id, _ in await uow.review_stats.object_choices()}
        try:
            text_en, translations, object_id = parse_form(form, objects)
        except FormError as error:
            return await _page(request, uow, None, error=str(error), form=form)
        announcement_id = await uow.announcements.create(text_en, translations, object_id, me.id)
        record(uow, me, "announcement.create", "announcement", announcement_id, languages=sorted(translations))
        await uow.commit()
    return see_other(f"/review/announcements/{announcement_id}")


async def detail_page(request: web.Request) -> web.StreamResponse:
    announcement_id = _announcement_id(request)
    async with unit_of_work(request) as uow:
        announcement = await _existing(uow, announcement_id)
        return await _page(request, uow, announcement)


async def save(request: web.Request) -> web.StreamResponse:
    me, announcement_id, form = current_moderator(request), _announcement_id(request), await request.post()
    async with unit_of_work(request) as uow:
        announcement = await _existing(uow, announcement_id)
        objects = {object_id for object_id, _ in await uow.review_stats.object_choices()}
        try:
            text_en, translations, object_id = parse_form(form, objects)
        except FormError as error:
            return await _page(request, uow, announcement, error=str(error), form=form)
        if not await uow.announcements.edit(announcement_id, text_en, translations, object_id):
            return error_page(request, 409, "Already sent", "An announcement can only be changed before sending.")
        record(uow, me, "announcement.edit", "announcement", announcement_id, languages=sorted(translations))
        await uow.commit()
    return see_other(with_notice(f"/review/announcements/{announcement_id}", "announcement_saved"))


async def translate(request: web.Request) -> web.StreamResponse:
    """Fill the empty language fields with machine translations of the English text, for review."""
    announcement_id = _announcement_id(request)
    async with unit_of_work(request) as uow:
        announcement = await _existing(uow, announcement_id)
        if announcement.state != AnnouncementState.DRAFT:
            return error_page(request, 409, "Already sent", "An announcement can only be changed before sending.")
        subscribers = await uow.announcements.subscriber_languages()
    wanted = sorted(set(subscribers) - {"en"} - set(announcement.translations))
    translator = request.config_dict.get(TRANSLATOR)
    machine: dict[str, str] = {}
    untranslatable: list[str] = []
    for language in wanted:
        try:
            if translator is None or not await asyncio.to_thread(translator.can_translate, "en", language):
                untranslatable.append(language)
                continue
            # CPU-heavy: off the event loop.
            [machine[language]] = await asyncio.to_thread(
                translator.translate_batch, "en", [announcement.text_en], language
            )
        except Exception as error:  # noqa: BLE001 - a broken model: that language gets the English text
            log.warning("announcement %s: en->%s failed (%s)", announcement_id, language, type(error).__name__)
            untranslatable.append(language)
    form = {"text_en": announcement.text_en, "object_id": str(announcement.object_id or "")}
    form.update({f"text_{language}": text for language, text in {**announcement.translations, **machine}.items()})
    async with unit_of_work(request) as uow:
        # Shown for review, not saved: the admin reads them and presses Save.
        return await _page(
            request, uow, announcement, form=form, machine=sorted(machine), untranslatable=untranslatable
        )


async def preview(request: web.Request) -> web.StreamResponse:
    me, announcement_id, form = current_moderator(request), _announcement_id(request), await request.post()
    language = str(form.get("language", "en"))
    if language not in LANGUAGES:
        return error_page(request, 400, "Unknown language", "Choose a language from the list.")
    async with unit_of_work(request) as uow:
        await _existing(uow, announcement_id)
        await uow.outbox.enqueue_preview(announcement_id, language, datetime.now(UTC))
        record(uow, me, "announcement.preview", "announcement", announcement_id, language=language)
        await uow.commit()
    return see_other(with_notice(f"/review/announcements/{announcement_id}", "announcement_preview"))


async def _move(
    request: web.Request, action: str, from_states: tuple[AnnouncementState, ...], to: AnnouncementState
) -> web.StreamResponse:
    me, announcement_id = current_moderator(request), _announcement_id(request)
    now = datetime.now(UTC)
    async with unit_of_work(request) as uow:
        await _existing(uow, announcement_id)
        values: dict[str, Any] = {"state": to}
        if action == "send":
            values["started_at"] = now
        if not await uow.announcements.move(announcement_id, from_states, **values):
            return error_page(request, 409, "Not possible now", "The announcement is not in a state that allows this.")
        details: dict[str, Any] = {}
        if action == "send":
            # One committed row per recipient before anything is sent (the worker does the sending).
            details["recipients"] = await uow.outbox.enqueue_announcement(announcement_id, now)
        elif action == "cancel":
            details["cancelled"] = await uow.outbox.cancel_queued(announcement_id)
        record(uow, me, f"announcement.{action}", "announcement", announcement_id, **details)
        await uow.commit()
    return see_other(with_notice(f"/review/announcements/{announcement_id}", f"announcement_{action}"))


async def send(request: web.Request) -> web.StreamResponse:
    return await _move(request, "send", (AnnouncementState.DRAFT,), AnnouncementState.SENDING)


async def pause(request: web.Request) -> web.StreamResponse:
    return await _move(request, "pause", (AnnouncementState.SENDING,), AnnouncementState.PAUSED)


async def resume(request: web.Request) -> web.StreamResponse:
    return await _move(request, "resume", (AnnouncementState.PAUSED,), AnnouncementState.SENDING)


async def cancel(request: web.Request) -> web.StreamResponse:
    from_states = (AnnouncementState.DRAFT, AnnouncementState.SENDING, AnnouncementState.PAUSED)
    return await _move(request, "cancel", from_states, AnnouncementState.CANCELLED)


def setup_routes(app: web.Application) -> None:
    base = "/announcements"
    one = base + r"/{announcement_id:\d+}"
    app.router.add_get(base, list_page, name="review.announcements")
    app.router.add_get(base + "/new", new_page, name="review.announcement_new")
    app.router.add_post(base, create, name="review.announcement_create")
    app.router.add_get(one, detail_page, name="review.announcement")
    app.router.add_post(one, save, name="review.announcement_save")
    for name, handler in (
        ("translate", translate),
        ("preview", preview),
        ("send", send),
        ("pause", pause),
        ("resume", resume),
        ("cancel", cancel),
    ):
        app.router.add_post(f"{one}/{name}", handler, name=f"review.announcement_{name}")
