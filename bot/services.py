"""The services the bot process builds once at start-up, with the bot's full settings."""

from __future__ import annotations

from bot.settings import Settings
from handlers.context import Services

BotServices = Services[Settings]
