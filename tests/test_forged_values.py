"""Forged or odd values are refused with a clear reply, never stored.

Before: a forged button `cty:ZZ` stored country `ZZ`, and a location of 1e308, -999 or Infinity
was stored as given (and the JSON export then wrote `Infinity`, which is not JSON).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import select

from emulator import BotApiEmulator
from handlers.tip import valid_location
from storage.models import Conversation, Tip
from tests.support.flows import REFERENCE, opt_in
from tests.support.harness import make_settings, running_bot
from translations.countries import is_country_code, normalize_country, suggested_countries
from translations.i18n import Catalogs

NOT_A_PLACE = "not a valid location"


def test_only_iso_codes_are_countries() -> None:
    assert is_country_code("DE") and is_country_code("PT")
    assert not any(is_country_code(code) for code in ("ZZ", "XX", "EU", "UK", "de", "", "DEU"))
    for language in Catalogs().languages:  # every country button the bot shows passes the check
        assert all(is_country_code(code) for code in suggested_countries(language)), language
    for name in ("Polska", "Deutschland", "Россия", "England", "USA", "Holland", "Türkiye", "de", "fra"):
        code = normalize_country(name)
        assert code is not None and is_country_code(code), name


@pytest.mark.parametrize(
    ("latitude", "longitude", "valid"),
    [
        (52.52, 13.40, True),
        (-90, 180, True),
        (90.0, -180.0, True),
        (1e308, 10.0, False),
        (48.0, -999.0, False),
        (math.inf, 0.0, False),
        (0.0, -math.inf, False),
        (math.nan, 0.0, False),
        (90.0001, 0.0, False),
        ("48.1", 11.5, False),
        (True, 11.5, False),
        (None, 11.5, False),
    ],
)
def test_locations_must_be_finite_and_on_the_globe(latitude: object, longitude: object, valid: bool) -> None:
    assert (valid_location(latitude, longitude) is not None) is valid


async def test_forged_country_button_is_refused(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        user = await opt_in(emulator, 7201)
        await user.send_text("A mug from a shop in Vienna")
        question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
        await user.press_data(question.message_id, "cty:ZZ")
        refusal = await user.wait_for_message(lambda message: "could not match" in message.plain_text)
        assert "“ZZ”" in refusal.plain_text and refusal.buttons, "asked again, with the country buttons"
        async with bot.services.database.session_factory() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.state == "country"
        assert "country_code" not in conversation.draft
        await user.press_data(refusal.message_id, "cty:AT")
        await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
        await user.press("✅ Send")
        await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
        async with bot.services.database.session_factory() as session:
            tip = await session.scalar(select(Tip))
    assert tip is not None and tip.country_code == "AT"


async def test_impossible_locations_are_refused(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        user = await opt_in(emulator, 7202)
        for latitude, longitude in ((1e308, 10.0), (48.0, -999.0), (math.inf, 11.0), (48.0, -math.inf)):
            await user.send_location(latitude, longitude)
            await user.wait_for_message(lambda message: NOT_A_PLACE in message.plain_text)
        async with bot.services.database.session_factory() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.state == "browsing" and conversation.draft == {}

        await user.send_location(48.13715, 11.57612)
        question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
        await user.press_data(question.message_id, "cty:DE")
        preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
        assert "48.13715" in preview.plain_text
        await user.send_location(-91.0, 0.0)  # on the preview: refused, the preview's location stays
        await user.wait_for_message(lambda message: NOT_A_PLACE in message.plain_text)
        await user.press("✅ Send")
        await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
        async with bot.services.database.session_factory() as session:
            tip = await session.scalar(select(Tip))
    assert tip is not None and (tip.latitude, tip.longitude) == (48.13715, 11.57612)
