"""Urgent tips in the dashboard: first in the queue (across keyset pages), badged, filterable, exported."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storage.repositories import TipDraft
from storage.uow import Database
from tests.review.support import PASSWORD, Seeded, sign_in
from tests.review.test_export_api import TOKEN, make_token

ROW = re.compile(r'<tr data-tip="(T-\d{6})"( class="urgent")?>')


async def add_tip(database: Database, seeded: Seeded, text: str, *, urgent: bool, with_object: bool = True) -> int:
    async with database.unit_of_work() as uow:
        reporter, _, _ = await uow.reporters.open_chat(
            5150, 5150, language="es", telegram_language="es", initial_state="x"
        )
        tip_id, _ = await uow.tips.submit(
            TipDraft(
                draft_token=str(uuid.uuid4()),
                object_id=seeded.objects["TAO-0001"] if with_object else None,
                reporter_id=reporter.id, campaign_id=None, recognised=True, country_code="MX", country_text=None,
                text_original=text, latitude=None, longitude=None, ui_language="es", urgent=urgent,
            )
        )  # fmt: skip
        await uow.commit()
    return tip_id


async def rows(client: TestClient[Any, Any], query: str = "") -> list[tuple[int, bool]]:
    response = await client.get(f"/review/tips?{query}")
    assert response.status == 200, await response.text()
    return [(int(reference[2:]), bool(urgent)) for reference, urgent in ROW.findall(await response.text())]


@pytest.fixture
async def urgent_mix(admin: TestClient[Any, Any], seeded: Seeded, database: Database) -> list[int]:
    """Two urgent tips among ordinary ones; a newer ordinary tip after each."""
    first = await add_tip(database, seeded, "Sé de una niña en peligro", urgent=True, with_object=False)
    newer = await add_tip(database, seeded, "La taza se vende en Puebla", urgent=False)
    second = await add_tip(database, seeded, "Mi vecino abusa de su hija", urgent=True)
    newest = await add_tip(database, seeded, "Otra taza igual", urgent=False)
    return [first, newer, second, newest]


async def test_urgent_tips_head_the_queue_with_a_badge(
    admin: TestClient[Any, Any], seeded: Seeded, urgent_mix: list[int]
) -> None:
    first, newer, second, newest = urgent_mix
    expected = [second, first, newest, newer, *reversed(seeded.tips)]
    listed = await rows(admin)
    assert [tip_id for tip_id, _ in listed] == expected
    assert [urgent for _, urgent in listed][:3] == [True, True, False]
    html = await (await admin.get("/review/tips")).text()
    assert html.count('<span class="badge urgent"') == 2
    assert [tip_id for tip_id, _ in await rows(admin, "urgent=1")] == [second, first]
    assert [tip_id for tip_id, _ in await rows(admin, "urgent=1&status=spam")] == []
    assert (await admin.get("/review/tips?urgent=yes")).status == 400


async def test_keyset_pages_keep_the_urgent_order(
    make_client: Any, seeded: Seeded, urgent_mix: list[int], database: Database
) -> None:
    client = await make_client(page_size=10)
    assert (await sign_in(client)).status == 303
    first, newer, second, newest = urgent_mix
    expected = [second, first, newest, newer, *reversed(seeded.tips)]
    seen: list[int] = []
    query = ""
    while True:
        page = [tip_id for tip_id, _ in await rows(client, query)]
        seen += page
        html = await (await client.get(f"/review/tips?{query}")).text()
        older = re.search(r'rel="next" href="\?before=(\d+)"', html)
        if older is None:
            break
        query = f"before={older.group(1)}"
    assert seen == expected, "every tip once, urgent first, across pages"
    assert len(expected) > 10, "two pages"
    assert [tip_id for tip_id, _ in await rows(client, f"after={expected[10]}")] == expected[:10]
    assert [tip_id for tip_id, _ in await rows(client, f"after={expected[2]}")] == expected[:2], "back to the urgent"


async def test_the_api_stays_in_id_order_for_pollers(
    admin: TestClient[Any, Any], seeded: Seeded, urgent_mix: list[int], database: Database
) -> None:
    """`after=<newest id seen>` must return every newer tip, urgent or not (the queue's order is for people)."""
    await make_token(database)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first, newer, second, newest = urgent_mix
    listed = await (await admin.get("/api/tips?limit=100", headers=auth)).json()
    assert [tip["id"] for tip in listed["tips"]] == [newest, second, newer, first, *reversed(seeded.tips)]
    polled = await (await admin.get(f"/api/tips?after={first}", headers=auth)).json()
    assert [tip["id"] for tip in polled["tips"]] == [newest, second, newer]
    assert [tip["urgent"] for tip in polled["tips"]] == [False, True, False]


async def test_an_urgent_report_without_an_object_is_shown_and_exported(
    admin: TestClient[Any, Any], urgent_mix: list[int]
) -> None:
    first = urgent_mix[0]
    page = await admin.get(f"/review/tips/{first}")
    html = await page.text()
    assert page.status == 200 and "URGENT" in html and "None: an urgent report sent with /urgent." in html
    exported = json.loads(await (await admin.get("/review/export.json?urgent=1")).text())
    tips = exported["tips"] if isinstance(exported, dict) else exported
    assert [(tip["id"], tip["urgent"], tip["object"]) for tip in tips] == [
        (urgent_mix[2], True, "TAO-0001"),
        (first, True, None),
    ]
    table = list(csv.DictReader(io.StringIO(await (await admin.get("/review/export.csv")).text())))
    assert [row["urgent"] for row in table[:3]] == ["True", "True", "False"]


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_urgent_filter_in_a_browser(
    client: TestClient[Any, Any],
    urgent_mix: list[int],
    browser_page: Any,
) -> None:
    page, base = browser_page, str(client.make_url("")).rstrip("/")
    await page.goto(f"{base}/review/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit].primary")
    await page.goto(f"{base}/review/tips")
    first_row = page.locator("table.queue tbody tr").first
    assert await first_row.get_attribute("data-tip") == f"T-{urgent_mix[2]:06d}"
    assert await first_row.locator(".badge.urgent").inner_text() == "URGENT"
    await page.select_option("#f-urgent", "1")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**urgent=1**")
    assert await page.locator("table.queue tbody tr").count() == 2
    assert await page.locator("table.queue tbody tr.urgent").count() == 2
