"""Media we do not accept: declined politely and never stored or downloaded."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from handlers.context import TracebotContext
from handlers.groups import Group
from handlers.turn import Turn, in_turn

DECLINED_MEDIA = (
    filters.PHOTO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.VOICE
    | filters.AUDIO
    | filters.Document.ALL
    | filters.Sticker.ALL
    | filters.ANIMATION
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
    | filters.VENUE
    | filters.GAME
    | filters.STORY
)


@in_turn
async def on_media(update: Update, context: TracebotContext, turn: Turn) -> None:
    turn.say(
        turn.gettext(
            "Thank you, but I can only accept text and locations. Please do not send photos, voice messages "
            "or files: describe what you know in words instead."
        )
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(MessageHandler(DECLINED_MEDIA, on_media), Group.CONVERSATION)
