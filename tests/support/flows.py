"""A reporter's usual steps through the emulator, shared by the end-to-end tests."""

from __future__ import annotations

import re

from emulator import BotApiEmulator
from emulator.models import BotMessage
from emulator.users import SimulatedUser

REFERENCE = re.compile(r"T-\d{6}")


async def welcomed(emulator: BotApiEmulator, user_id: int, payload: str | None = None) -> SimulatedUser:
    """/start (optionally with a deep-link payload) and the welcome with its privacy note; not opted in yet."""
    user = emulator.user(user_id, first_name="Ana", language_code="en")
    await user.send_command("start", payload)
    welcome = await user.wait_for_message()
    assert "privacy" in welcome.plain_text.lower()
    return user


async def opt_in(emulator: BotApiEmulator, user_id: int, payload: str | None = None) -> SimulatedUser:
    """/start (optionally with a deep-link payload), check no image came first, opt in, get a card."""
    user = await welcomed(emulator, user_id, payload)
    assert all(message.kind != "photo" for message in user.messages), "no image before opt-in"
    await user.press("I understand, show me the objects")
    await user.wait_for_message(lambda message: message.kind == "photo")
    return user


async def to_preview(user: SimulatedUser, text: str, country: str = "DE") -> BotMessage:
    """Write about the object on screen, answer the country question, return the preview."""
    await user.send_text(text)
    question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    await user.press_data(question.message_id, f"cty:{country}")
    return await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)


async def send_tip(user: SimulatedUser, text: str, country: str = "DE") -> str:
    """A whole tip from the object card to its reference."""
    await to_preview(user, text, country)
    await user.press("✅ Send")
    confirmation = await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
    match = REFERENCE.search(confirmation.plain_text)
    assert match is not None
    return match.group()
