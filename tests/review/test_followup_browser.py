"""Headless Chromium: a moderator asks a tipster a question, sees the answer arrive, exports the thread."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from emulator import BotApiEmulator
from tests.review.support import PASSWORD
from tests.support.followup import answer_by_button, followup_bot, submit_tip

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_question_answer_and_export_in_a_browser(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path, browser_page: Any
) -> None:
    page = browser_page
    async with followup_bot(database_url, emulator, tmp_path) as bot:
        tip_id = await submit_tip(emulator, 5201, "en", "A red bag in Dover", consent=True)
        await page.goto(f"{bot.url}/review/tips/{tip_id}")
        await page.fill("#username", "mia")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit].primary")
        await page.wait_for_url(f"{bot.url}/review/tips/{tip_id}")

        await page.fill("#question-text", "Which shop was it?")
        await page.click("form[action$='/questions/preview'] button")
        preview = page.locator("blockquote.preview")
        assert "Which shop was it?" in await preview.inner_text()
        assert f"T-{tip_id:06d}" in await preview.inner_text()
        await page.click("form[action$='/questions'] button")
        await page.wait_for_url("**notice=question**")

        await answer_by_button(emulator.user(5201), "The corner shop near the station.")

        await page.reload()
        answer = page.locator("article.thread-entry.answer blockquote.original")
        assert await answer.inner_text() == "The corner shop near the station."
        assert "Which shop was it?" in await page.locator("article.thread-entry.question").inner_text()

        await page.goto(f"{bot.url}/review/tips?answer=waiting")
        assert await page.locator("#answers-waiting").inner_text() == "1"
        async with page.expect_download() as download_info:
            await page.click("a[href^='/review/export.json']")
        download = await download_info.value
        exported = json.loads(await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8"))
        (row,) = exported["tips"]
        assert [entry["kind"] for entry in row["thread"]] == ["question", "answer"]
        assert row["thread"][1]["text_original"] == "The corner shop near the station."
