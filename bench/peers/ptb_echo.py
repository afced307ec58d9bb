"""python-telegram-bot's echo example, served by `run_webhook` with its defaults (for `bench.walk`).

Runs in its own virtualenv with python-telegram-bot[webhooks]; configured by the environment:
BOT_TOKEN, BOT_API_BASE (the Bot API server, e.g. the emulator's http://127.0.0.1:PORT),
PORT (where the webhook listens on 127.0.0.1) and WEBHOOK_SECRET.
"""

from __future__ import annotations

import logging
import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the user message."""
    message = update.message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def main() -> None:
    """Build the application and serve the webhook until SIGTERM."""
    logging.basicConfig(format="%(asctime)s - %(name)s - %(levelname)s - %(message)s", level=logging.WARNING)
    base = os.environ["BOT_API_BASE"]
    port = int(os.environ["PORT"])
    application = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="webhook",
        webhook_url=f"http://127.0.0.1:{port}/webhook",
        secret_token=os.environ["WEBHOOK_SECRET"],
    )


if __name__ == "__main__":
    main()
