"""No log line, at any level, carries what a reporter wrote, where they are or who they are.

Before: engines were created without `hide_parameters`, so a database error logged its SQL
parameters (tip text, phone numbers) at ERROR; Bot API errors were logged with Telegram's
description (which can quote the refused text); python-telegram-bot logged every update and
every call's parameters at DEBUG.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

import bot.web
from bot.logs import LIBRARY_FLOORS, PrivateFormatter, describe_exception, hold_library_loggers, make_handler
from bot.maintenance import resend_unconfirmed
from bot.web import TELEGRAM
from emulator import BotApiEmulator
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Tip
from storage.repositories.tips import TipRepository
from tests.support.flows import REFERENCE, opt_in
from tests.support.harness import make_settings, running_bot

PHONE = "+49 1512 7730981"
USER_ID = 731904583  # also the chat id in the emulator
LATITUDE, LONGITUDE = 48.13715, 11.57612
SECRETS = (PHONE, "7730981", str(USER_ID), "48.1371", "11.5761", "Markerfirst", "markeruser")


class Captured:
    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.text = io.StringIO()
        self.json = io.StringIO()

    def leaks(self) -> list[str]:
        """Every place a secret shows up: a record's message, arguments, traceback, or a written line."""
        found = []
        for record in self.caplog.records:
            for where, value in (
                ("message", record.getMessage()),
                ("args", repr(record.args)),
                ("exc_text", record.exc_text or ""),
            ):
                found += [f"{record.name} {where}: {secret}" for secret in SECRETS if secret in value]
        for name, stream in (("text", self.text), ("json", self.json)):
            found += [f"{name} output: {secret}" for secret in SECRETS if secret in stream.getvalue()]
        return found

    def lines(self) -> str:
        return self.text.getvalue()


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """Everything at DEBUG, through Tracebot's own handlers (text and JSON) as well as pytest's."""
    capture = Captured(caplog)
    root = logging.getLogger()
    handlers = [make_handler("text", capture.text), make_handler("json", capture.json)]
    saved = {name: logging.getLogger(name).level for name in LIBRARY_FLOORS}
    caplog.set_level(logging.DEBUG)
    caplog.handler.setFormatter(PrivateFormatter())
    hold_library_loggers(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield capture
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


async def test_database_errors_do_not_carry_parameters(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as raised:
                await connection.execute(
                    text("INSERT INTO no_such_table (note, lat) VALUES (:note, :lat)"), {"note": PHONE, "lat": LATITUDE}
                )
    finally:
        await engine.dispose()
    assert PHONE not in str(raised.value) and "48.1371" not in str(raised.value)
    assert "parameters hidden" in str(raised.value)


def test_tracebacks_name_classes_and_places_but_not_messages() -> None:
    try:
        try:
            raise ValueError(f"invalid input for query argument $1: '{PHONE}'")
        except ValueError as inner:
            raise RuntimeError(f"chat {USER_ID}") from inner
    except RuntimeError as outer:
        described = describe_exception(outer)
    assert "ValueError (message withheld)" in described and "RuntimeError (message withheld)" in described
    assert "test_private_logs.py" in described and "raise ValueError" in described
    assert PHONE not in described and str(USER_ID) not in described


async def test_forced_errors_leave_no_private_data_in_the_logs(
    database_url: str,
    emulator: BotApiEmulator,
    tmp_path: Path,
    captured: Captured,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_background_sweeper(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(bot.web, "run_maintenance", no_background_sweeper)
    settings = make_settings(database_url, emulator, tmp_path / "media", confirmation_grace_seconds=1)
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as running:
        emulator.user(USER_ID, first_name="Markerfirst", username="markeruser", language_code="en")
        user = await opt_in(emulator, USER_ID)
        await user.send_location(LATITUDE, LONGITUDE)
        question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
        await user.press_data(question.message_id, "cty:DE")
        await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)

        # Bot API errors whose descriptions quote private data: refused, then unreachable, then blocked.
        emulator.fail_next("sendMessage", error_code=400, description=f"Bad Request: can't parse {PHONE} {USER_ID}")
        await user.send_text(f"Call me on {PHONE}")
        await user.wait_for_message(lambda message: "could not show you my reply" in message.plain_text)
        emulator.fail_next("sendMessage", error_code=502, retry_after=None, description=f"Bad Gateway {PHONE}")
        await user.send_text(f"Call me on {PHONE} after six")
        emulator.fail_next("sendMessage", error_code=403, description=f"Forbidden: blocked by {USER_ID}")
        await user.send_text(f"Call me on {PHONE} after seven")
        await user.send_text(f"Call me on {PHONE} after eight")
        preview = await user.wait_for_message(lambda message: "after eight" in message.plain_text)

        # A database error on Send whose statement carries the text, the location and the user id.
        original_submit = TipRepository.submit

        async def failing_submit(self: TipRepository, draft: Any) -> tuple[int, bool]:
            session: Any = self._session
            if running.services.settings.database_url.startswith("postgresql"):
                # asyncpg quotes the value it could not encode in the exception's message.
                await session.execute(text("SELECT CAST(:value AS INTEGER)"), {"value": draft.text_original})
            await session.execute(
                text("INSERT INTO no_such_table (note, lat, who) VALUES (:note, :lat, :who)"),
                {"note": draft.text_original, "lat": draft.latitude, "who": USER_ID},
            )
            raise AssertionError("unreachable")

        monkeypatch.setattr(TipRepository, "submit", failing_submit)
        failed_press = await user.press_data(preview.message_id, "tip:send")
        await user.wait_for_message(lambda message: "something went wrong" in message.plain_text)
        await user.wait_for_callback_answer(failed_press)  # the spinner stops with the apology

        # Send again; the reference is refused, and so is the sweeper's re-send: undeliverable.
        monkeypatch.setattr(TipRepository, "submit", original_submit)
        emulator.fail_next("sendMessage", error_code=400, description=f"Bad Request: {PHONE} not allowed")
        await user.press_data(preview.message_id, "tip:send")
        await user.wait_for_message(lambda message: "could not show you my reply" in message.plain_text)
        async with running.services.database.session_factory() as session, session.begin():
            await session.execute(update(Tip).values(created_at=datetime.now(UTC) - timedelta(minutes=1)))
        emulator.fail_next("sendMessage", error_code=400, description=f"Bad Request: {PHONE} still not allowed")
        for _ in range(50):  # the translation worker may hold the tip's row for a moment (SKIP LOCKED)
            await resend_unconfirmed(running.app[TELEGRAM], running.services)
            if "reference undeliverable" in captured.lines():
                break
            await asyncio.sleep(0.1)
        assert not any(REFERENCE.search(message.plain_text) for message in user.messages)

    lines = captured.lines()
    for expected in (
        "sendMessage failed (BadRequest, refused)",
        "Telegram unreachable (NetworkError)",
        "sendMessage failed (Forbidden, chat_gone)",
        "failed (DBAPIError)" if database_url.startswith("postgresql") else "failed (OperationalError)",
        "(message withheld)",
        "reference undeliverable (BadRequest, refused)",
    ):
        assert expected in lines, f"{expected!r} not logged:\n{lines}"
    for line in captured.json.getvalue().splitlines():
        json.loads(line)
    assert not captured.leaks(), captured.leaks()
