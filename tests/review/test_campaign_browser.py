"""A campaign manager's day in headless Chromium: an object with an image, a campaign, its QR code, the funnel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storage.uow import Database
from tests.review.support import PASSWORD, Seeded
from tests.review.test_campaigns import add_manager
from tests.support.images import jpeg_with_gps
from tests.support.qr import decode_qr, needs_zbar

pytestmark = [
    pytest.mark.browser,
    needs_zbar,
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_campaign_manager_in_a_browser(
    make_client: Any,
    seeded: Seeded,
    database: Database,
    browser_page: Any,
    tmp_path: Path,
) -> None:
    await add_manager(database)
    client: TestClient[Any, Any] = await make_client(bot_username="TracebotTestBot")
    page, base = browser_page, str(client.make_url("")).rstrip("/")
    await page.goto(f"{base}/review/")
    await page.fill("#username", "carol")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit].primary")
    await page.wait_for_url(f"{base}/review/objects")
    assert await page.locator("nav a[href='/review/tips']").count() == 0, "no queue for campaign managers"

    # A new object with a photo that carries GPS tags.
    await page.click("a[href='/review/objects/new']")
    await page.fill("#reference", "TAO-0900")
    await page.fill("#question", "Where is this red tile from?")
    await page.set_input_files("#image", {"name": "tile.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()})
    await page.click("form[enctype] button[type=submit]")
    await page.wait_for_url("**/edit?notice=object_saved")
    image = page.locator("img.object-image")
    await image.wait_for()
    assert await image.evaluate("img => img.complete && img.naturalWidth") == 64

    # A campaign with that object first, then its link with a channel tag and the QR code.
    await page.goto(f"{base}/review/campaigns/new")
    await page.fill("#code", "spring26")
    await page.fill("#title", "Spring 2026")
    await page.fill("#objects", "TAO-0900, TAO-0001")
    await page.uncheck("input[name=all_active]")
    await page.fill("#intro", "en | Thank you for helping the spring appeal!")
    await page.click("form button[type=submit].primary")
    await page.wait_for_url("**/edit?notice=campaign_saved")
    await page.click("a[href^='/review/links?campaign=']")
    await page.fill("#channel", "x")
    await page.click("form.filters button[type=submit]")
    link = "https://t.me/TracebotTestBot?start=c-spring26_s-x"
    assert await page.locator("code.deep-link").inner_text() == link
    preview = page.locator("img.qr-preview")
    assert await preview.evaluate("img => img.decode().then(() => img.naturalWidth)") > 200
    async with page.expect_download() as download_info:
        await page.click("a[href^='/review/links/code.png']")
    download = await download_info.value
    saved = tmp_path / "download.png"
    await download.save_as(str(saved))
    png = await asyncio.to_thread(saved.read_bytes)
    assert await asyncio.to_thread(decode_qr, png, tmp_path) == link

    # The funnel page explains its counts.
    await page.click("nav a[href='/review/funnel']")
    assert "nothing records who took a step" in await page.locator("main").inner_text()
