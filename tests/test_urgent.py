"""The safe path for disclosures, end to end: emulator in, contacts out, an urgent tip first in the queue, one alert."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from emulator import BotApiEmulator
from emulator.models import BotMessage
from emulator.users import SimulatedUser
from storage.models import AuditEvent, Tip, parse_tip_reference
from storage.repositories import TipDraft
from storage.repositories.review import TipQuery
from storage.repositories.send_slots import PAUSE_KEY
from tests.support.flows import REFERENCE, opt_in, send_tip, welcomed
from tests.support.harness import RunningBot, make_settings, running_bot
from tests.support.webhook import RecordingWebhook, recording_webhook

# This test runs the maintenance loop every 0.5 s beside the bot: on a loaded machine replies take longer.
SLOW = 20.0


@pytest.fixture
async def inbox() -> AsyncIterator[RecordingWebhook]:
    async with recording_webhook() as hook:
        yield hook


@pytest.fixture
async def alerting_bot(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, inbox: RecordingWebhook
) -> AsyncIterator[RunningBot]:
    settings = make_settings(
        database_url,
        emulator,
        tmp_path / "media",
        urgent_alert_url=inbox.url,
        public_url="https://tracebot.example.org",
        confirmation_grace_seconds=1,  # the maintenance and alert loops run every 0.5 s
    )
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as running:
        yield running


async def _opt_in_as(emulator: BotApiEmulator, user_id: int, language: str) -> SimulatedUser:
    user = emulator.user(user_id, first_name="Ana", language_code=language)
    await user.send_command("start")
    welcome = await user.wait_for_message()
    await user.press_data(welcome.message_id, "optin")
    await user.wait_for_message(lambda message: message.kind == "photo")
    return user


async def _tips(bot: RunningBot) -> list[Tip]:
    async with bot.services.database.session_factory() as session:
        return list(await session.scalars(select(Tip).order_by(Tip.id)))


def _reference(message: BotMessage) -> int:
    match = REFERENCE.search(message.plain_text)
    assert match is not None, message.plain_text
    tip_id = parse_tip_reference(match.group())
    assert tip_id is not None
    return tip_id


async def test_urgent_in_spanish_for_mexico_sorts_first_and_alerts_once(
    alerting_bot: RunningBot, emulator: BotApiEmulator, inbox: RecordingWebhook
) -> None:
    user = await _opt_in_as(emulator, 2001, "es")
    await user.send_text("Vi esta taza en un mercado de Puebla")
    question = await user.wait_for_message(lambda message: "país" in message.plain_text, timeout=SLOW)
    await user.press_data(question.message_id, "cty:MX")
    preview = await user.wait_for_message(lambda message: len(message.buttons) > 1, timeout=SLOW)
    send = next(data for row in preview.buttons for _label, data in row if data and data.startswith("tip:send"))
    await user.press_data(preview.message_id, send)
    first = _reference(
        await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None, timeout=SLOW)
    )

    await user.send_command("urgent")
    contacts = await user.wait_for_message(lambda message: "911" in message.plain_text, timeout=SLOW)
    assert "Si un niño está en peligro ahora, llama al 911." in contacts.plain_text, "Mexico's number, in Spanish"
    assert "teprotejomexico.org" in contacts.plain_text
    assert "Escribe aquí lo que sabes" in contacts.plain_text
    secret = "Mi vecino encierra a su hija en el sótano"
    await user.send_text(secret)
    passed = await user.wait_for_message(lambda message: "urgente" in message.plain_text, timeout=SLOW)
    urgent_id = _reference(passed)
    assert "911" in passed.plain_text

    later = await send_tip(await opt_in(emulator, 2002), "A mug like mine, sold in Lyon", "FR")
    tips = {tip.id: tip for tip in await _tips(alerting_bot)}
    urgent = tips[urgent_id]
    assert urgent.urgent and urgent.object_id is None and urgent.country_code == "MX"
    assert urgent.text_original == secret and urgent.ui_language == "es"
    assert not tips[first].urgent and not tips[parse_tip_reference(later) or 0].urgent
    async with alerting_bot.services.database.unit_of_work() as uow:
        queue = [tip.id for tip in await uow.review.page(TipQuery())]
        assert queue[0] == urgent_id, "the urgent tip heads the queue although a newer tip exists"
        assert [tip.id for tip in await uow.review.page(TipQuery(urgent_only=True))] == [urgent_id]
        events = (
            await uow.session.execute(
                select(AuditEvent.target_id, AuditEvent.details).where(AuditEvent.action == "tip.urgent")
            )
        ).all()
    assert [tuple(event) for event in events] == [(str(urgent_id), {"origin": "command"})]

    await asyncio.wait_for(inbox.arrived.wait(), timeout=10)
    await asyncio.sleep(1.5)  # a few more maintenance rounds: the alert must not be posted again
    reference = f"T-{urgent_id:06d}"
    assert inbox.bodies == [
        {"text": f"urgent tip {reference} received", "url": f"https://tracebot.example.org/review/tips/{urgent_id}"}
    ]
    assert "sótano" not in str(inbox.bodies)
    stored = {tip.id: tip for tip in await _tips(alerting_bot)}[urgent_id]
    assert stored.urgent_alert_sent_at is not None and stored.urgent_alert_next_attempt_at is None


async def test_polish_disclosure_asks_the_country_then_shows_its_contacts(
    bot: RunningBot, emulator: BotApiEmulator
) -> None:
    user = await _opt_in_as(emulator, 2003, "pl")
    await user.send_text("Mój ojczym molestuje moją siostrę, ona ma 9 lat")
    asked = await user.wait_for_message()
    assert "zadzwoń pod lokalny numer alarmowy" in asked.plain_text, "at once, before any country is known"
    assert "W jakim kraju jesteś?" in asked.plain_text
    urgent_id = _reference(asked)
    await user.press_data(asked.message_id, "ucty:PL")
    contacts = await user.wait_for_message(lambda message: "zadzwoń pod 112" in message.plain_text)
    assert "zadzwoń pod 112" in contacts.plain_text and "116 111" in contacts.plain_text
    assert "dyzurnet.pl" in contacts.plain_text
    assert contacts.button_labels, "the tipster can go back to the object"

    [tip] = await _tips(bot)
    assert tip.id == urgent_id and tip.urgent and tip.country_code == "PL"
    assert tip.object_id is not None, "written about the object on screen"
    assert tip.urgent_alert_next_attempt_at is None, "no URGENT_ALERT_URL: nothing queued to announce"


async def test_a_harmless_sentence_sharing_words_is_an_ordinary_tip(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 2004)
    await user.send_text("My child likes this mug, we have the same one at home")
    question = await user.wait_for_message()
    assert "which country" in question.plain_text.lower()
    assert "emergency" not in question.plain_text.lower()
    await user.press_data(question.message_id, "cty:DE")
    await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
    await user.press("✅ Send")
    confirmation = await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
    reference = REFERENCE.search(confirmation.plain_text).group()  # type: ignore[union-attr]
    tips = await _tips(bot)
    assert [tip.urgent for tip in tips] == [False] and tips[0].id == parse_tip_reference(reference)


async def test_help_button_then_a_typed_country(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 2005)
    await user.send_command("help")
    await user.wait_for_message(lambda message: "I know of a child in danger" in message.button_labels)
    await user.press("I know of a child in danger")
    asked = await user.wait_for_message(lambda message: "Which country are you in?" in message.plain_text)
    await user.press_data(asked.message_id, "ucty:other")
    await user.wait_for_message(lambda message: "type the name" in message.plain_text)
    await user.send_text("United Kingdom")
    contacts = await user.wait_for_message(lambda message: "call" in message.plain_text)
    assert "call 999" in contacts.plain_text and "0800 1111" in contacts.plain_text
    assert "Write here what you know" in contacts.plain_text
    await user.send_text("The boy next door has bruises every week")
    passed = await user.wait_for_message(lambda message: "urgent" in message.plain_text)
    tip_id = _reference(passed)
    [tip] = await _tips(bot)
    assert tip.id == tip_id and tip.urgent and tip.country_code == "GB" and tip.object_id is None


async def test_menu_has_urgent_in_every_language(bot: RunningBot, emulator: BotApiEmulator) -> None:
    await bot.command_menus_published()  # published in the background after start-up
    calls = [call for call in emulator.calls if call.method == "setMyCommands"]
    labels = {
        str(call.params.get("language_code") or "en"): dict(
            (command["command"], command["description"]) for command in call.params["commands"]
        )
        for call in calls
    }
    assert labels["es"]["urgent"] == "Avisar de un niño en peligro"
    assert labels["en"]["urgent"] == "Report a child in danger"
    assert all("urgent" in commands for commands in labels.values())


async def test_a_disclosure_while_writing_a_tip_takes_the_draft_along(
    bot: RunningBot, emulator: BotApiEmulator
) -> None:
    user = await _opt_in_as(emulator, 2006, "de")
    await user.press("Das erkenne ich")
    question = await user.wait_for_message(lambda message: "Land" in message.plain_text)
    await user.press_data(question.message_id, "cty:DE")
    await user.wait_for_message(lambda message: "Was wissen Sie" in message.plain_text)
    await user.send_text("Ich kenne das Mädchen auf dem Bild, sie wohnt bei uns im Haus")
    contacts = await user.wait_for_message(lambda message: "112" in message.plain_text)
    assert "Wenn ein Kind jetzt in Gefahr ist, rufen Sie 112 an." in contacts.plain_text
    assert "116 111" in contacts.plain_text and "jugendschutz.net" in contacts.plain_text
    urgent_id = _reference(contacts)
    [tip] = await _tips(bot)
    assert tip.id == urgent_id and tip.urgent and tip.country_code == "DE" and tip.object_id is not None
    async with bot.services.database.unit_of_work() as uow:
        _, conversation, _ = await uow.reporters.open_chat(
            2006, 2006, language="de", telegram_language="de", initial_state=""
        )
    assert conversation.state == "browsing" and conversation.draft == {}, "the draft went into the urgent tip"


async def test_an_overlong_disclosure_still_gets_the_contacts(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 2007)
    await user.send_text("A child is in danger. " + "x" * 2100)
    contacts = await user.wait_for_message(lambda message: "emergency number" in message.plain_text)
    too_long = await user.wait_for_message(lambda message: "too long" in message.plain_text)
    assert contacts.message_id < too_long.message_id
    assert await _tips(bot) == [], "nothing stored that the tipster was not told about"


async def test_cancel_before_writing_sends_nothing(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 2008)
    await user.send_command("urgent")
    asked = await user.wait_for_message(lambda message: "Which country are you in?" in message.plain_text)
    assert "call your local emergency number" in asked.plain_text
    await user.send_command("cancel")
    await user.wait_for_message(lambda message: "Nothing was sent" in message.plain_text)
    pressed = await user.press_data(asked.message_id, "ucty:FR")  # the old picker, after /cancel
    answer = await user.wait_for_callback_answer(pressed)
    assert answer.text == "This button is no longer active."
    assert await _tips(bot) == []


async def test_before_opting_in_the_contacts_come_but_no_image(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await welcomed(emulator, 2009)
    await user.send_command("urgent", "My neighbour is abusing his stepdaughter")
    passed = await user.wait_for_message(lambda message: "urgent" in message.plain_text)
    assert "Which country are you in?" in passed.plain_text
    await user.press_data(passed.message_id, "ucty:US")
    contacts = await user.wait_for_message(lambda message: "call 911" in message.plain_text)
    assert contacts.buttons == [], "no way to an object image before the opt-in"
    [tip] = await _tips(bot)
    assert tip.urgent and tip.id == _reference(passed) and tip.object_id is None
    await user.send_text("hello")
    welcome = await user.wait_for_message()
    assert "I understand, show me the objects" in welcome.button_labels, "still asked to opt in"
    assert all(message.kind != "photo" for message in user.messages)


async def test_a_report_written_instead_of_a_country_is_kept(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 2010)
    await user.send_command("urgent")
    await user.wait_for_message(lambda message: "Which country are you in?" in message.plain_text)
    await user.send_text("Atlantis")
    await user.wait_for_message(lambda message: "could not match" in message.plain_text)
    await user.send_text("The family upstairs keeps a small boy locked in all day")
    passed = await user.wait_for_message(lambda message: "urgent" in message.plain_text)
    assert "Which country are you in?" in passed.plain_text, "still asked, to show the right numbers"
    await user.send_text("Norway")
    await user.wait_for_message(lambda message: "call 112" in message.plain_text and "116 111" in message.plain_text)
    [tip] = await _tips(bot)
    assert tip.id == _reference(passed) and tip.urgent and tip.country_code == "NO"
    assert tip.text_original == "The family upstairs keeps a small boy locked in all day"


def _direct_tip(reporter_id: int, text: str, *, urgent: bool) -> TipDraft:
    return TipDraft(
        draft_token=str(uuid.uuid4()), object_id=None, reporter_id=reporter_id, campaign_id=None, recognised=True,
        country_code=None, country_text=None, text_original=text, latitude=None, longitude=None, ui_language="en",
        urgent=urgent, announce=urgent,
    )  # fmt: skip


async def test_an_alert_goes_out_while_a_limiter_pause_holds_back_telegram_sends(
    alerting_bot: RunningBot, inbox: RecordingWebhook
) -> None:
    database = alerting_bot.services.database
    past = datetime.now(UTC) - timedelta(minutes=5)
    async with database.unit_of_work() as uow:
        reporter, _, _ = await uow.reporters.open_chat(88, 88, language="en", telegram_language="en", initial_state="x")
        unconfirmed, _ = await uow.tips.submit(_direct_tip(reporter.id, "A red bag", urgent=False))
        await uow.session.execute(
            update(Tip).where(Tip.id == unconfirmed).values(created_at=past, confirmation_next_attempt_at=past)
        )
        await uow.send_slots.hold(PAUSE_KEY, time.time() + 120)  # a 429 paused every Telegram send
        await uow.commit()
    await asyncio.sleep(1.5)  # the maintenance loop now waits for the limiter to resend that reference
    async with database.unit_of_work() as uow:
        urgent_id, _ = await uow.tips.submit(_direct_tip(reporter.id, "A child is in danger", urgent=True))
        await uow.commit()
    await asyncio.wait_for(inbox.arrived.wait(), timeout=5)
    assert [body["text"] for body in inbox.bodies] == [f"urgent tip T-{urgent_id:06d} received"]


async def test_an_overlong_report_before_opting_in_is_asked_to_be_shorter(
    bot: RunningBot, emulator: BotApiEmulator
) -> None:
    user = await welcomed(emulator, 2011)
    await user.send_command("urgent")
    asked = await user.wait_for_message(lambda message: "Which country are you in?" in message.plain_text)
    await user.press_data(asked.message_id, "ucty:US")
    await user.wait_for_message(lambda message: "Write here what you know" in message.plain_text)
    await user.send_text("He hurts her. " + "x" * 2100)
    too_long = await user.wait_for_message()
    assert "too long" in too_long.plain_text and not too_long.button_labels, "not the welcome"
    await user.send_text("The girl next door has bruises every week")
    passed = await user.wait_for_message(lambda message: "urgent" in message.plain_text)
    [tip] = await _tips(bot)
    assert tip.urgent and tip.id == _reference(passed) and tip.country_code == "US"
    assert all(message.kind != "photo" for message in user.messages)
