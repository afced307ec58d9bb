"""Every reporter is spoken to in their language: UI catalogs, object questions, command menus."""

from __future__ import annotations

from emulator import BotApiEmulator
from handlers.commands import COMMANDS
from tests.support.harness import RunningBot
from translations.i18n import Catalogs

WELCOME_EN = "Help identify objects and save children"


async def test_language_from_telegram_and_object_question_translated(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = emulator.user(6001, first_name="Lena", language_code="de-AT")
    await user.send_command("start", "o-TAO-0001")
    welcome = await user.wait_for_message()
    assert WELCOME_EN not in welcome.plain_text
    german = Catalogs().for_language("de").gettext
    assert german("<b>Help identify objects and save children</b>").replace("<b>", "").replace("</b>", "") in (
        welcome.plain_text
    )
    assert "Deutsch" in welcome.plain_text, "the chosen language is confirmed in the opt-in message"
    await user.press_data(welcome.message_id, "optin")
    card = await user.wait_for_message(lambda message: message.kind == "photo")
    assert "Wissen Sie, wo diese blaue Tasse mit gelben Punkten verkauft wird?" in card.plain_text


async def test_language_command_switches_everything(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = emulator.user(6002, first_name="Ola", language_code="en")
    await user.send_command("language")
    grid = await user.wait_for_message()
    assert {"Polski", "العربية", "Deutsch"} <= set(grid.button_labels)
    await user.press("Polski")
    done = await user.wait_for_message(lambda message: message.message_id != grid.message_id)
    polish = Catalogs().for_language("pl").gettext
    assert polish("Done. I will speak {language} with you.").format(language="Polski") == done.plain_text
    await user.send_command("help")
    help_text = await user.wait_for_message()
    assert help_text.plain_text.startswith(polish("<b>How this works</b>").replace("<b>", "").replace("</b>", ""))


async def test_help_lists_every_command_in_the_reporters_language(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = emulator.user(6004, first_name="Jonas", language_code="de")
    await user.send_command("help")
    help_text = (await user.wait_for_message()).plain_text
    german = Catalogs().for_language("de").gettext
    for name, description in COMMANDS:  # /urgent and /mytips included, each as the command menu says it
        assert f"/{name} – {german(description)}" in help_text
    assert german("Report a child in danger") != "Report a child in danger"


async def test_arabic_reporter_gets_arabic(bot: RunningBot, emulator: BotApiEmulator) -> None:
    user = emulator.user(6003, first_name="Omar", language_code="ar")
    await user.send_command("start")
    welcome = await user.wait_for_message()
    arabic_letters = sum("\u0600" <= char <= "\u06ff" for char in welcome.plain_text)
    assert arabic_letters > len(welcome.plain_text) / 3


async def test_command_menus_per_language(bot: RunningBot, emulator: BotApiEmulator) -> None:
    assert await bot.command_menus_published()  # in the background, after serving started
    languages = {language for (_scope, language) in emulator.commands}
    assert {"de", "pl", "ar"} <= languages and len(languages) >= 26
    german = next(commands for (_scope, language), commands in emulator.commands.items() if language == "de")
    names = [command["command"] for command in german]
    assert names[:2] == ["start", "help"] and "delete_my_data" in names
    english_descriptions = {"Look at the objects", "How this works"}
    assert not english_descriptions & {command["description"] for command in german}
