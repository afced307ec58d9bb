"""A person's whole conversation in the web chat page, in headless Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from emulator import BotApiEmulator
from tests.emulator.conftest import png

pytestmark = pytest.mark.browser

CHROMIUM = next(
    (path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None
)
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Next", callback_data="next"), InlineKeyboardButton("Alert", callback_data="alert")]]
)


async def handle(bot: Bot, update: Update) -> None:
    """A tiny echo bot exercising what the page has to render."""
    if (query := update.callback_query) is not None:
        if query.data == "alert":
            await query.answer("An alert!", show_alert=True)
            return
        await query.answer("Next one")
        if query.message is not None:
            await bot.edit_message_text(
                "Edited <b>after</b> a press", query.message.chat.id, query.message.message_id, parse_mode="HTML"
            )
        return
    message = update.message
    if message is None or message.from_user is None:
        return
    if message.text:
        lang = message.from_user.language_code
        text = f"You said: <b>{message.text}</b> (lang={lang})"
        await bot.send_message(message.chat.id, text, parse_mode="HTML", reply_markup=KEYBOARD)
    elif message.photo:
        await bot.send_photo(message.chat.id, message.photo[-1].file_id, caption="Got your photo")
    else:
        await bot.send_message(message.chat.id, "I can't use that, sorry.")


@contextlib.asynccontextmanager
async def polling(bot: Bot) -> AsyncIterator[None]:
    async def loop() -> None:
        offset = None
        while True:
            for update in await bot.get_updates(offset=offset, timeout=5):
                offset = update.update_id + 1
                await handle(bot, update)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
async def test_conversation_in_the_chat_page(emu: BotApiEmulator, bot: Bot, tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    photo = tmp_path / "photo.png"
    photo.write_bytes(png(60, 40))
    errors: list[str] = []
    async with polling(bot), playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{emu.base_url}/chat?user=4242&lang=de&start=c-demo")

        await page.click("#start-btn")  # a fresh chat offers only START
        await page.wait_for_selector("text=You said: /start c-demo (lang=de)")
        assert await page.locator(".row.in strong").first.inner_text() == "/start c-demo"

        await page.click(".kb-btn >> text=Alert")
        await page.wait_for_selector("#alert-text >> text=An alert!")
        await page.click("#alert-ok")
        await page.click(".kb-btn >> text=Next")
        await page.wait_for_selector("#toast >> text=Next one")
        await page.wait_for_selector("text=Edited after a press")

        await page.fill("#text-input", "مرحبا")
        await page.press("#text-input", "Enter")
        await page.wait_for_selector("text=You said: مرحبا (lang=de)")
        assert await page.locator(".row.out .text").last.get_attribute("dir") == "auto"

        await page.click("#sticker-btn")
        await page.wait_for_selector("text=I can't use that, sorry.")
        await page.set_input_files("#file-input", str(photo))
        await page.wait_for_selector("text=Got your photo")
        assert await page.locator(".row.in img.photo").count() == 1
        await browser.close()
    assert errors == []
    assert emu.user(4242).messages[-1].kind == "photo"
