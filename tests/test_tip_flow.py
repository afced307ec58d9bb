"""The reporter's story, end to end: real PTB over HTTP against the emulator, rows in the database."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from emulator import BotApiEmulator
from storage.models import Reporter, Tip, parse_tip_reference
from tests.support.flows import REFERENCE, opt_in
from tests.support.harness import RunningBot, make_settings, running_bot


async def test_deep_link_to_stored_tip(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1001, "c-demo_o-TAO-0003")
    card = user.last_message
    assert card.kind == "photo" and card.protect_content
    assert "TAO-0003" in card.plain_text, "the deep link opens on its object"

    await user.press("I recognise this")
    question = await user.wait_for_message()
    assert "which country" in question.plain_text.lower()
    await user.press_data(question.message_id, "cty:DE")
    await user.wait_for_message(lambda message: "what do you know" in message.plain_text.lower())
    await user.send_text("Sold in a small shop in Hamburg, brand <Blaue Tasse> & co")
    preview = await user.wait_for_message()
    assert "Germany" in preview.plain_text and "<Blaue Tasse> & co" in preview.plain_text
    await user.press("✅ Send")
    confirmation = await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)

    match = REFERENCE.search(confirmation.plain_text)
    assert match is not None
    tip_id = parse_tip_reference(match.group())
    assert tip_id is not None
    async with bot.services.database.unit_of_work() as uow:
        tip = await uow.tips.get(tip_id)
    assert tip is not None and tip.reference == match.group()
    assert tip.object_reference == "TAO-0003"
    assert tip.campaign_code == "demo"
    assert tip.country_code == "DE"
    assert tip.text_original == "Sold in a small shop in Hamburg, brand <Blaue Tasse> & co"
    # Queued for translation; the bot's worker may already have taken it (English needs none).
    assert tip.ui_language == "en" and tip.translation_status in ("pending", "not_needed")
    assert tip.reporter_alias is not None and tip.reporter_alias.startswith("R-")


async def test_free_text_on_an_object_starts_a_tip(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1002)
    await user.send_text("I have this mug at home, it came from a market in Kraków")
    question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    await user.send_text("Polska")  # typed, in another language: normalized to PL
    preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
    assert "Poland" in preview.plain_text and "Kraków" in preview.plain_text
    assert question.message_id < preview.message_id
    await user.press("✅ Send")
    await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
    async with bot.services.database.session_factory() as session:
        tip = await session.scalar(select(Tip))
    assert tip is not None and tip.country_code == "PL" and "Kraków" in tip.text_original


async def test_media_is_declined_and_not_stored(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1003)
    for send in (user.send_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64), user.send_sticker(), user.send_voice()):
        await send
        reply = await user.wait_for_message()
        assert "only accept text" in reply.plain_text
    await user.send_document(b"%PDF-1.4", "notes.pdf")
    await user.wait_for_message(lambda message: "only accept text" in message.plain_text)
    assert not [call for call in emulator.calls if call.method.lower() == "getfile"], "media must not be downloaded"
    async with bot.services.database.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Tip)) == 0


async def test_overlong_text_is_refused(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1004)
    await user.send_text("x" * 2001)
    reply = await user.wait_for_message()
    assert "too long" in reply.plain_text and "2,001" in reply.plain_text
    await user.send_text("A shorter tip")
    await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())


async def test_stop_means_no_more_images(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1005)
    card = user.last_message
    await user.send_command("stop")
    await user.wait_for_message(lambda message: "will not receive" in message.plain_text)
    photos_before = sum(message.kind == "photo" for message in user.messages)
    callback = await user.press_data(card.message_id, f"obj:next:{1}")
    answer = await user.wait_for_callback_answer(callback)
    assert answer is not None
    await user.send_text("hello again")
    await user.wait_for_message(lambda message: "/start" in message.plain_text)
    assert sum(message.kind == "photo" for message in user.messages) == photos_before
    async with bot.services.database.session_factory() as session:
        reporter = await session.scalar(select(Reporter))
    assert reporter is not None and reporter.stopped_at is not None


async def test_cancel_discards_the_draft(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1006)
    await user.press("I recognise this")
    await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    await user.send_command("cancel")
    await user.wait_for_message(lambda message: "Nothing was sent" in message.plain_text)
    async with bot.services.database.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Tip)) == 0


async def test_restart_mid_conversation_resumes(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog"):
        user = await opt_in(emulator, 1007)
        await user.press("I recognise this")
        question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
        await user.press_data(question.message_id, "cty:FR")
        await user.wait_for_message(lambda message: "what do you know" in message.plain_text.lower())
    # A new process (same database) picks up exactly where the user was.
    async with running_bot(settings) as restarted:
        await user.send_text("Seen in a bakery in Lyon")
        preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
        assert "France" in preview.plain_text
        await user.press("✅ Send")
        await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
        async with restarted.services.database.session_factory() as session:
            tip = await session.scalar(select(Tip))
        assert tip is not None and tip.country_code == "FR" and tip.text_original == "Seen in a bakery in Lyon"


async def test_no_telegram_identity_is_stored(bot: RunningBot, emulator: BotApiEmulator) -> None:
    await opt_in(emulator, 987654321)
    async with bot.services.database.session_factory() as session:
        reporter = await session.scalar(select(Reporter))
    assert reporter is not None
    stored = " ".join(str(value) for value in vars(reporter).values())
    assert "987654321" not in stored and "Ana" not in stored
    assert bot.services.database.privacy.decrypt_chat_id(reporter.chat_id_encrypted or "") == 987654321


async def test_location_and_edit(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1008)
    await user.send_location(52.37403, 4.88969)
    question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    assert "location" in question.plain_text.lower()
    await user.press_data(question.message_id, "cty:NL")
    preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
    assert "52.37403, 4.88969" in preview.plain_text
    await user.press("✏️ Edit")
    await user.wait_for_message(lambda message: "what do you know" in message.plain_text.lower())
    await user.send_text("A canal house window in Amsterdam")
    preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
    assert "Amsterdam" in preview.plain_text and "52.37403" in preview.plain_text
    await user.press("✅ Send")
    await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
    async with bot.services.database.session_factory() as session:
        tip = await session.scalar(select(Tip))
    assert tip is not None
    assert (tip.latitude, tip.longitude, tip.country_code) == (52.37403, 4.88969, "NL")
    assert tip.text_original == "A canal house window in Amsterdam"


async def test_unknown_deep_link_falls_back_to_a_normal_start(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1009, "c-nosuchcampaign_o-XYZ-9999")
    assert "TAO-0001" in user.last_message.plain_text, "the first object of the default catalog"
    await user.press("Next ▶")
    card = await user.wait_for_message(lambda message: message.kind == "photo")
    assert "TAO-0002" in card.plain_text
    await user.press("◀ Previous")
    card = await user.wait_for_message(lambda message: message.kind == "photo")
    assert "TAO-0001" in card.plain_text


async def test_send_on_an_outdated_preview_sends_nothing_stale(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = await opt_in(emulator, 1010)
    await user.send_text("first version")
    question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    await user.press_data(question.message_id, "cty:BE")
    old = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
    await user.send_text("second version")
    await user.wait_for_message(lambda message: "second version" in message.plain_text)
    old_send = next(data for label, data in (b for row in old.buttons for b in row) if label == "✅ Send")
    await user.press_data(old.message_id, old_send)
    fresh = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
    assert "second version" in fresh.plain_text and "first version" not in fresh.plain_text
    async with bot.services.database.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Tip)) == 0
    await user.press("✅ Send")
    await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
    async with bot.services.database.session_factory() as session:
        assert (await session.scalars(select(Tip.text_original))).all() == ["second version"]


async def test_forged_ids_beyond_the_database_integers_get_a_polite_answer(
    bot: RunningBot, emulator: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    user = await opt_in(emulator, 1006)
    card = user.last_message
    huge = 999_999_999_999  # above 2**31: PostgreSQL's integer columns would refuse it as a parameter
    expected = {
        f"obj:show:{huge}": "This object is no longer available.",
        f"tip:new:{huge}": "This object is no longer available.",
        f"fq:a:{huge}": "This button is no longer active.",
        f"fq:add:{huge}": "This button is no longer active.",
    }
    with caplog.at_level(logging.ERROR):
        for data, text in expected.items():
            answer = await user.wait_for_callback_answer(await user.press_data(card.message_id, data))
            assert answer.text == text, data
        await user.wait_for_callback_answer(await user.press_data(card.message_id, f"fq:w:{huge}"))
        await user.wait_for_message(lambda message: message.plain_text == "This button is no longer active.")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
