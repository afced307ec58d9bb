"""A moderator's shift in a real browser (headless Chromium): sign in, filter, review, bulk-mark, export, sign out."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.review.support import PASSWORD, Seeded

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_moderator_shift(client: TestClient[Any, Any], seeded: Seeded, browser_page: Any) -> None:
    page, base = browser_page, str(client.make_url("")).rstrip("/")
    ARTIFACTS.mkdir(exist_ok=True)

    # Sign in: the queue sends us to the login page and back.
    await page.goto(f"{base}/review/tips")
    assert "/review/login" in page.url
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit].primary")
    await page.wait_for_url(f"{base}/review/tips")
    rows = page.locator("table.queue tbody tr")
    assert await rows.count() == len(seeded.tips)
    await page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)

    # Filter by object: only the curtain's three tips remain.
    await page.select_option("#f-object", str(seeded.objects["TAO-0002"]))
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url(f"**object={seeded.objects['TAO-0002']}**")
    assert await rows.count() == 3

    # Open the hostile tip: its markup is shown as text, and no script runs (the fixture checks dialogs).
    hostile = seeded.tips[4]
    await page.click(f"a[href='/review/tips/{hostile}']")
    await page.wait_for_url(f"{base}/review/tips/{hostile}")
    assert await page.locator("blockquote.original").inner_text() == "<script>alert(1)</script>"
    assert await page.locator("blockquote.english").inner_text() == '"><img src=x onerror=alert(1)>'
    assert await page.locator("img[src='x']").count() == 0

    # Change its status.
    await page.select_option("#status", "in_review")
    await page.click("form[action$='/status'] button")
    await page.wait_for_url("**notice=status**")
    assert "In review" in await page.locator("h1 .badge").inner_text()

    # Bulk-mark two tips as spam from the (unfiltered) queue.
    await page.goto(f"{base}/review/tips")
    first, second = seeded.tips[0], seeded.tips[1]
    await page.check(f"input[name=tip][value='{first}']")
    await page.check(f"input[name=tip][value='{second}']")
    assert "2 selected" in await page.locator("#selected-count").inner_text()
    await page.select_option("#bulk-action", "status:spam")
    await page.click("#bulk-apply")
    await page.wait_for_url("**notice=bulk**")
    for tip_id in (first, second):
        badge = page.locator(f"tr:has(input[value='{tip_id}']) .badge")
        assert await badge.inner_text() == "Spam"

    # Export the spam view as CSV.
    await page.goto(f"{base}/review/tips?status=spam")
    async with page.expect_download() as download_info:
        await page.click("a[href^='/review/export.csv']")
    download = await download_info.value
    exported = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
    table = list(csv.DictReader(io.StringIO(exported)))
    assert sorted(int(row["id"]) for row in table) == [first, second]

    # The object page, with its country chart.
    await page.goto(f"{base}/review/objects/{seeded.objects['TAO-0001']}")
    assert await page.locator("svg .chart-bar").count() >= 2
    await page.screenshot(path=str(ARTIFACTS / "object.png"), full_page=True)
    await page.goto(f"{base}/review/tips/{seeded.tips[2]}")
    await page.screenshot(path=str(ARTIFACTS / "tip.png"), full_page=True)
    await page.goto(f"{base}/review/stats")
    await page.screenshot(path=str(ARTIFACTS / "stats.png"), full_page=True)

    # Sign out: back at the login page, and the queue is closed again.
    await page.click("header form button")
    await page.wait_for_url("**/review/login**")
    await page.goto(f"{base}/review/tips")
    assert "/review/login" in page.url
