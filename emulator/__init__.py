"""A local Telegram Bot API emulator for tests and the demo.

The real python-telegram-bot stack talks to it over HTTP; simulated users, a control API and
a browser chat page play the human side. Nothing in the product imports it except the demo.
"""

from emulator.errors import ApiError
from emulator.files import StoredFile
from emulator.models import (
    ApiCall,
    BotMessage,
    CallbackAnswer,
    ChatEvent,
    MessageRevision,
    WebhookDelivery,
)
from emulator.server import BotApiEmulator
from emulator.users import SimulatedUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "BotMessage",
    "CallbackAnswer",
    "ChatEvent",
    "MessageRevision",
    "SimulatedUser",
    "StoredFile",
    "WebhookDelivery",
]
