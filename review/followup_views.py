"""Asking a tip's reporter a follow-up question: preview (the translation they will read), then send.

Sending only commits the question: its row is the delivery outbox that the bot's sender works
through (`bot/maintenance.py`), so a question is never lost between the dashboard and Telegram.
Every question and every refusal is in the audit trail.
"""

from __future__ import annotations

from aiohttp import web

from review.aggregates import aggregates
from review.context import current_moderator, unit_of_work
from review.filters import path_id
from review.queue import record
from review.render import error_page, see_other, with_notice
from review.thread import MAX_QUESTION, REFUSALS, FollowupDesk, QuestionPreview, desk, preview_question, refusal
from review.tip_views import tip_page
from storage.models import format_tip_reference
from storage.repositories.followup import FollowupTarget


def _question_text(form: dict[str, str]) -> str | None:
    text = form.get("question", "").strip().replace("\r\n", "\n")
    if not text or len(text) > MAX_QUESTION or "\x00" in text:
        return None
    return text


async def _checked(request: web.Request, tip_id: int) -> tuple[FollowupDesk, FollowupTarget, str] | web.Response:
    """The desk, the target and the tip's object reference, or the page that says why not (audited)."""
    me = current_moderator(request)
    followup = desk(request)
    async with unit_of_work(request) as uow:
        tip = await uow.review.get(tip_id)
        if tip is None:
            raise web.HTTPNotFound()
        target = await uow.followup.target(tip_id)
        assert target is not None  # the tip exists
        reason = "unavailable" if followup is None else await refusal(uow, target, me.id, followup.limits)
        if reason is not None:
            record(uow, me, "followup.refused", "tip", tip_id, reason=reason)
            await uow.commit()
            return error_page(request, 409, "Question not sent", REFUSALS[reason])
    assert followup is not None
    # Only /urgent reports have no object, and they never carry follow-up consent (refused above).
    assert tip.object_reference is not None
    return followup, target, tip.object_reference


async def _prepare(request: web.Request, tip_id: int) -> tuple[dict[str, str], QuestionPreview] | web.Response:
    """The posted form and the question as the reporter would read it, or the page that says why not."""
    form = {key: str(value) for key, value in (await request.post()).items()}
    english = _question_text(form)
    if english is None:
        return error_page(request, 400, "Invalid question", f"A question needs 1 to {MAX_QUESTION} characters.")
    checked = await _checked(request, tip_id)
    if isinstance(checked, web.Response):
        return checked
    followup, target, object_reference = checked
    shown = await preview_question(followup, english, target.language or "en", tip_id, object_reference)
    return form, shown


async def preview(request: web.Request) -> web.StreamResponse:
    """Show the tip page with the question as the reporter will read it, ready to send or edit."""
    prepared = await _prepare(request, path_id(request, "tip_id"))
    if isinstance(prepared, web.Response):
        return prepared
    return await tip_page(request, question=prepared[1])


async def send(request: web.Request) -> web.StreamResponse:
    """Commit the previewed question; refused if the translation is no longer what was previewed."""
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    prepared = await _prepare(request, tip_id)
    if isinstance(prepared, web.Response):
        return prepared
    form, shown = prepared
    followup = desk(request)
    assert followup is not None  # _prepare refused otherwise
    # The same text again (translation is deterministic); a forged or stale preview is not sent.
    if form.get("previewed", "").replace("\r\n", "\n") != shown.text_sent:
        return error_page(
            request, 409, "Preview again", "What the reporter would read is not what was previewed. Preview it again."
        )
    async with unit_of_work(request) as uow:
        # Checked again where it is stored: the translation took a while, consent may have gone meanwhile.
        fresh = await uow.followup.target(tip_id)
        reason = "no_consent" if fresh is None else await refusal(uow, fresh, me.id, followup.limits)
        if reason is not None:
            record(uow, me, "followup.refused", "tip", tip_id, reason=reason)
            await uow.commit()
            return error_page(request, 409, "Question not sent", REFUSALS[reason])
        question_id = await uow.followup.add_question(
            tip_id, me.id, shown.english, shown.text_sent, shown.machine_translated
        )
        record(
            uow,
            me,
            "followup.question",
            "tip",
            tip_id,
            question_id=question_id,
            language=shown.language,
            machine_translated=shown.machine_translated,
        )
        await uow.commit()
    return see_other(with_notice(f"/review/tips/{tip_id}", "question"))


async def mark_read(request: web.Request) -> web.StreamResponse:
    """The moderator has read the reporter's new answers: the tip leaves the "answer waiting" queue."""
    me, tip_id = current_moderator(request), path_id(request, "tip_id")
    async with unit_of_work(request) as uow:
        if tip_id not in await uow.review.existing([tip_id]):
            return error_page(request, 404, "No such tip", f"There is no tip {format_tip_reference(tip_id)}.")
        count = await uow.followup.mark_read(tip_id)
        if count:
            record(uow, me, "followup.read", "tip", tip_id, count=count)
        await uow.commit()
    aggregates(request).invalidate()  # the queue's "answer waiting" count
    return see_other(with_notice(f"/review/tips/{tip_id}", "read"))


def setup_routes(app: web.Application) -> None:
    app.router.add_post(r"/tips/{tip_id:\d+}/questions/preview", preview, name="review.question_preview")
    app.router.add_post(r"/tips/{tip_id:\d+}/questions", send, name="review.question_send")
    app.router.add_post(r"/tips/{tip_id:\d+}/thread/read", mark_read, name="review.thread_read")
