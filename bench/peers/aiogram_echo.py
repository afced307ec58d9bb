"""aiogram 3's echo bot on an aiohttp webhook (`SimpleRequestHandler` + `setup_application`), for `bench.walk`.

Runs in its own virtualenv with aiogram; configured by the environment: BOT_TOKEN, BOT_API_BASE
(the Bot API server, e.g. the emulator's http://127.0.0.1:PORT), PORT (where the webhook listens
on 127.0.0.1) and WEBHOOK_SECRET.
"""

from __future__ import annotations

import logging
import os

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

WEBHOOK_PATH = "/webhook"

router = Router()


@router.message(F.text)
async def echo_handler(message: Message) -> None:
    """Answer with the same text."""
    if message.text is not None:
        await message.answer(message.text)


def main() -> None:
    """Set the webhook on start-up and serve it until SIGTERM."""
    logging.basicConfig(level=logging.WARNING)
    port = int(os.environ["PORT"])
    secret = os.environ["WEBHOOK_SECRET"]

    async def on_startup(bot: Bot) -> None:
        await bot.set_webhook(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", secret_token=secret)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    dispatcher.startup.register(on_startup)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BOT_API_BASE"]))
    bot = Bot(token=os.environ["BOT_TOKEN"], session=session)
    app = web.Application()
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(app, path=WEBHOOK_PATH)
    setup_application(app, dispatcher, bot=bot)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
