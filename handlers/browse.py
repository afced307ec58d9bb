"""Browsing objects: the object card with its photo and buttons."""

from __future__ import annotations

import asyncio
import html
import logging

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.ext import Application, CallbackQueryHandler

from handlers import callbacks, funnel, keyboards
from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.telegram_text import MAX_CAPTION, quote, visible_length
from handlers.turn import Step, Turn, in_turn, send_unread
from storage.records import ObjectRecord

log = logging.getLogger(__name__)


def caption(turn: Turn, obj: ObjectRecord) -> str:
    """The card's caption; the question, then the hint, are shortened to keep within Telegram's 1,024."""
    _ = turn.gettext
    head = f"<b>{html.escape(obj.reference)}</b>"
    call = _("Do you recognise this object, or know where it is from? Press the button or simply write to me.")
    room = MAX_CAPTION - visible_length(f"{head}\n\n\n\n{call}")
    question = quote(obj.question_in(turn.language), room)
    parts = [head, question]
    hint = obj.hint_in(turn.language)
    hint_room = room - visible_length(question) - len("\n\n")
    if hint and hint_room > 1:
        parts.append(f"<i>{quote(hint, hint_room)}</i>")
    parts.append(call)
    return "\n\n".join(parts)


async def show_object(turn: Turn, obj: ObjectRecord) -> None:
    """Queue the object card (photo, protected from forwarding and saving) and remember it on screen."""
    await funnel.count_view(turn, obj.id)
    turn.conversation.object_id = obj.id
    turn.step = Step.BROWSING
    services = turn.context.services
    bot, chat_id = turn.context.bot, turn.chat_id
    text, markup = caption(turn, obj), keyboards.object_card(turn, obj.id)

    async def by_file_id(file_id: str) -> None:  # nothing to read in the answer: no Message built from it
        card = {"chat_id": chat_id, "photo": file_id, "caption": text, "parse_mode": DEFAULT_NONE}
        await send_unread(bot, "sendPhoto", {**card, "reply_markup": markup, "protect_content": True})

    async def upload() -> str | None:
        image = await asyncio.to_thread((services.media_dir / obj.image_path).read_bytes)
        message = await bot.send_photo(chat_id, image, caption=text, reply_markup=markup, protect_content=True)
        return message.photo[-1].file_id if message.photo else None

    async def keep(file_id: str) -> None:
        # Telegram keeps the upload: later cards reuse its file id instead of re-uploading.
        try:
            async with services.database.turn() as uow:
                await uow.objects.remember_file_id(obj.id, file_id, obj.image_path)
                await uow.commit()
        except Exception:  # the card went out: a lost cache entry must not send it again
            log.exception("object %s: the photo's file id was not kept", obj.id)

    async def send_card() -> None:
        if obj.telegram_file_id:
            await by_file_id(obj.telegram_file_id)
        else:  # one upload per image at a time; the cards meanwhile wait for its file id
            await services.photo_uploads.send(obj.id, obj.image_path, by_file_id, upload, keep)

    turn.later(send_card, method="sendPhoto", to_user=True)


async def show_current_or_first(turn: Turn) -> bool:
    """Show the object on screen (or the first one); False when there is nothing to show."""
    obj = None
    if turn.conversation.object_id is not None:
        obj = await turn.uow.objects.get(turn.conversation.object_id)
    if obj is None or obj.status != "active":
        obj = await turn.uow.objects.neighbour(None, turn.conversation.campaign_id, 0)
    if obj is None:
        turn.say(turn.gettext("There are no objects to look at right now. Please come back later."))
        return False
    await show_object(turn, obj)
    return True


@in_turn
async def on_object_button(update: Update, context: TracebotContext, turn: Turn) -> None:
    _ = turn.gettext
    if not turn.reporter.opted_in or turn.step is Step.STOPPED:
        turn.answer(_("Please send /start first."), alert=True)
        return
    data = update.callback_query.data if update.callback_query else ""
    object_id = callbacks.trailing_id(data)
    if turn.step not in (Step.BROWSING, Step.WELCOME):
        turn.answer(_("Please finish or cancel your tip first."), alert=True)
        return
    if data and data.startswith(callbacks.OBJECT_SHOW):
        obj = await turn.uow.objects.get(object_id) if object_id else None
    else:
        step = -1 if data and data.startswith(callbacks.OBJECT_PREVIOUS) else 1
        obj = await turn.uow.objects.neighbour(object_id, turn.conversation.campaign_id, step)
    if obj is None or obj.status != "active":
        turn.answer(_("This object is no longer available."), alert=True)
        await show_current_or_first(turn)
        return
    turn.answer()
    await show_object(turn, obj)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        CallbackQueryHandler(on_object_button, pattern=callbacks.OBJECT_PATTERN), Group.CONVERSATION
    )
