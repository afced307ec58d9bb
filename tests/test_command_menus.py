"""The command menus are published in the background, once per change, not at every start."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.application
from emulator import BotApiEmulator
from tests.support.harness import make_settings, running_bot
from translations.i18n import Catalogs

LANGUAGES = len(Catalogs().languages)


def menu(emulator: BotApiEmulator, language_code: str) -> list[str]:
    """The commands in the default scope's menu for one language ("" is the fallback menu)."""
    menus = {code: commands for (_scope, code), commands in emulator.commands.items()}
    return [command["command"] for command in menus[language_code]]


async def _start_and_publish(database_url: str, emulator: BotApiEmulator, tmp_path: Path) -> bool:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings) as running:
        return await running.command_menus_published()


async def test_menus_are_published_once_and_again_only_when_they_change(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _start_and_publish(database_url, emulator, tmp_path)
    assert len(emulator.calls_to("setMyCommands")) == LANGUAGES
    assert menu(emulator, "de")[:2] == ["start", "help"]

    # A restart with the same commands and catalogs sends nothing.
    assert not await _start_and_publish(database_url, emulator, tmp_path)
    assert len(emulator.calls_to("setMyCommands")) == LANGUAGES

    # A new command is a change: every language is published again, with it.
    monkeypatch.setattr(bot.application, "COMMANDS", (*bot.application.COMMANDS, ("report", "Report something")))
    assert await _start_and_publish(database_url, emulator, tmp_path)
    assert len(emulator.calls_to("setMyCommands")) == 2 * LANGUAGES
    assert menu(emulator, "de")[-1] == menu(emulator, "")[-1] == "report"


async def test_a_failed_publication_is_redone_at_the_next_start(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    emulator.fail_next("setMyCommands", error_code=400, retry_after=None, description="Bad Request: try later")
    assert not await _start_and_publish(database_url, emulator, tmp_path)  # failed: no digest recorded
    assert await _start_and_publish(database_url, emulator, tmp_path)
    assert len({code for (_scope, code) in emulator.commands}) == LANGUAGES
