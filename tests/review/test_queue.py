"""The queue and a tip's page: filters, keyset pages, the review workflow, and hostile input."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

import review
from storage.models import Reporter, TracedObject
from storage.repositories import TipDraft
from storage.repositories.audit import AuditQuery, AuditRecord
from storage.uow import Database
from tests.review.support import Seeded, page_csrf, seed, set_created, sign_in

ROW = re.compile(r'<tr data-tip="(T-\d{6})">')


async def listed(client: TestClient[Any, Any], query: str = "") -> list[str]:
    response = await client.get(f"/review/tips?{query}")
    assert response.status == 200, await response.text()
    return ROW.findall(await response.text())


def refs(seeded: Seeded, *indexes: int) -> list[str]:
    return [f"T-{seeded.tips[index]:06d}" for index in indexes]


async def last_audit(database: Database) -> AuditRecord:
    async with database.unit_of_work() as uow:
        events = await uow.audit.page(AuditQuery(), limit=1)
    assert events
    return events[0]


async def test_queue_is_newest_first_with_counts(admin: TestClient[Any, Any], seeded: Seeded) -> None:
    assert await listed(admin) == refs(seeded, 6, 5, 4, 3, 2, 1, 0)
    html = await (await admin.get("/review/tips")).text()
    assert re.search(r"New <span class=\"count\">7</span>", html)
    assert re.search(r"Spam <span class=\"count\">0</span>", html)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("language=fr", [3]),
        ("country=de", [6, 1, 0]),
        ("q=MUG", [6, 1, 0]),
        ("q=Hamburg", [0]),
        ("q=Krakowa", [2]),  # original text only, translation pending
        ("q=blue", [0]),  # English translation only
        ("q=50%25", [6]),  # a literal percent sign
        ("q=off_sale", [6]),  # a literal underscore
        ("q=%25", [6]),
        ("q=_", [6]),
        ("q='; DROP TABLE tips; --", []),
        ("assigned=none", [6, 5, 4, 3, 2, 1, 0]),
        ("assigned=me", []),
    ],
)
async def test_filters(admin: TestClient[Any, Any], seeded: Seeded, query: str, expected: list[int]) -> None:
    assert await listed(admin, query) == refs(seeded, *expected)


async def test_filters_by_object_campaign_status_and_dates(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    assert await listed(admin, f"object={seeded.objects['TAO-0002']}") == refs(seeded, 5, 4, 3)
    assert await listed(admin, f"campaign={seeded.campaign_id}") == refs(seeded, 5, 4, 3, 2, 1, 0)
    await set_created(database, seeded.tips[0], datetime(2024, 3, 1, 23, 59, tzinfo=UTC))
    await set_created(database, seeded.tips[1], datetime(2024, 3, 2, 0, 0, tzinfo=UTC))
    assert await listed(admin, "date_from=2024-03-01&date_to=2024-03-01") == refs(seeded, 0)
    assert await listed(admin, "date_from=2024-03-02&date_to=2024-03-31") == refs(seeded, 1)
    token = await page_csrf(admin)
    await admin.post(f"/review/tips/{seeded.tips[3]}/status", data={"csrf_token": token, "status": "actionable"})
    assert await listed(admin, "status=actionable") == refs(seeded, 3)
    assert seeded.tips[3] not in [int(ref[2:]) for ref in await listed(admin, "status=open")]


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "status=new' OR 1=1 --",
        "object=abc",
        "object=-1",
        "object=99999999999999999999999",
        "campaign=1e9",
        "language=" + "x" * 500,
        "country=Germany",
        "date_from=2024-13-45",
        "date_from=yesterday",
        "date_to=9999-12-31",
        "date_from=2024-05-02&date_to=2024-05-01",
        "q=" + "a" * 5000,
        "q=%00",
        "assigned=everyone",
    ],
)
async def test_hostile_filters_are_a_400_not_a_crash(admin: TestClient[Any, Any], seeded: Seeded, query: str) -> None:
    for path in ("/review/tips", "/review/stats", "/review/export.csv"):
        response = await admin.get(f"{path}?{query}")
        assert response.status == 400, (path, query, response.status)


@pytest.mark.parametrize("query", ["before=abc", "before=1&after=2", "after=-3", "before=" + "9" * 40])
async def test_hostile_cursors_are_a_400(admin: TestClient[Any, Any], seeded: Seeded, query: str) -> None:
    assert (await admin.get(f"/review/tips?{query}")).status == 400


async def test_keyset_pages_cover_every_tip_once(make_client: Any, media_dir: Path) -> None:
    client = await make_client(page_size=10)
    seeded = await seed(client.app[review.DATABASE], media_dir)
    assert (await sign_in(client)).status == 303
    seen: list[str] = []
    query = ""
    for _ in range(5):
        html = await (await client.get(f"/review/tips?{query}")).text()
        seen += ROW.findall(html)
        older = re.search(r'rel="next" href="\?([^"]+)"', html)
        if not older:
            break
        query = older.group(1).replace("&amp;", "&")
    assert seen == refs(seeded, 6, 5, 4, 3, 2, 1, 0)
    assert 'rel="prev"' not in await (await client.get("/review/tips")).text()


async def test_keyset_pages_forward_and_back(make_client: Any, media_dir: Path) -> None:
    client = await make_client(page_size=10)
    database: Database = client.app[review.DATABASE]
    await seed(database, media_dir)
    for batch in range(3):  # 21 more tips, so there are three pages
        await seed_more(database, 6 + batch)
    assert (await sign_in(client)).status == 303
    first = ROW.findall(await (await client.get("/review/tips")).text())
    second_html = await (await client.get(f"/review/tips?before={int(first[-1][2:])}")).text()
    second = ROW.findall(second_html)
    assert len(first) == 10 and len(second) == 10 and int(second[0][2:]) < int(first[-1][2:])
    newer = re.search(r'rel="prev" href="\?([^"]+)"', second_html)
    assert newer is not None
    assert ROW.findall(await (await client.get("/review/tips?" + newer.group(1).replace("&amp;", "&"))).text()) == first


async def seed_more(database: Database, copies: int) -> None:
    """Seven more tips on the first object from one more reporter."""
    async with database.unit_of_work() as uow:
        object_id = await uow.session.scalar(select(TracedObject.id).limit(1))
        assert object_id is not None
        reporter, _, _ = await uow.reporters.open_chat(
            800_000 + copies, 1, language="en", telegram_language="en", initial_state="idle"
        )
        for index in range(7):
            await uow.tips.submit(
                TipDraft(
                    str(uuid.uuid4()),
                    object_id,
                    reporter.id,
                    None,
                    True,
                    "DE",
                    None,
                    f"extra {copies}/{index}",
                    None,
                    None,
                    "en",
                )
            )
        await uow.commit()


async def test_tip_page_shows_text_answers_and_alias_only(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    html = await (await admin.get(f"/review/tips/{seeded.tips[2]}")).text()
    assert "Kubek z Krakowa" in html and "Translation pending" in html
    assert "Poland" in html and "openstreetmap.org/?mlat=50.06143&amp;mlon=19.93658" in html
    assert "spring" in html and "93% confidence" in html and "UTC" in html
    async with database.unit_of_work() as uow:
        secrets = (await uow.session.execute(select(Reporter.pseudonym, Reporter.chat_id_encrypted))).all()
    alias_tip0 = await (await admin.get(f"/review/tips/{seeded.tips[0]}")).text()
    assert "1 other tip from this reporter" in alias_tip0, "tips 0 and 1 come from the same reporter"
    for pseudonym, chat_id in secrets:
        assert pseudonym not in html and pseudonym not in alias_tip0
        assert chat_id is None or chat_id not in alias_tip0
    assert "900001" not in alias_tip0, "never a Telegram id"
    assert (await admin.get("/review/tips/999999")).status == 404


async def test_hostile_text_renders_as_text(admin: TestClient[Any, Any], seeded: Seeded) -> None:
    for path in (f"/review/tips/{seeded.tips[4]}", "/review/tips", f"/review/objects/{seeded.objects['TAO-0002']}"):
        html = await (await admin.get(path)).text()
        assert "<script>alert(1)</script>" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


async def test_review_workflow_is_audited(admin: TestClient[Any, Any], seeded: Seeded, database: Database) -> None:
    tip, original = seeded.tips[1], seeded.tips[0]
    token = await page_csrf(admin)
    post = admin.post
    assert (await post(f"/review/tips/{tip}/status", data={"csrf_token": token, "status": "in_review"})).status == 200
    event = await last_audit(database)
    assert (event.action, event.actor, event.target_id, event.details) == (
        "tip.status", "alice", str(tip), {"status": "in_review", "previous": "new"},
    )  # fmt: skip
    await post(f"/review/tips/{tip}/assign", data={"csrf_token": token, "assign": "me"})
    assert (await last_audit(database)).action == "tip.assign"
    await post(f"/review/tips/{tip}/notes", data={"csrf_token": token, "text": "Called the shop <b>twice</b>"})
    assert (await last_audit(database)).action == "tip.note"
    response = await post(f"/review/tips/{tip}/duplicate", data={"csrf_token": token, "original": f"T-{original:06d}"})
    assert response.status == 200
    assert (await last_audit(database)).details["duplicate_of"] == original
    html = await (await admin.get(f"/review/tips/{tip}")).text()
    assert "Called the shop &lt;b&gt;twice&lt;/b&gt;" in html and "Duplicate" in html and f"T-{original:06d}" in html
    async with database.unit_of_work() as uow:
        stored = await uow.review.get(tip)
    assert stored is not None and stored.status == "duplicate" and stored.assigned_to == "alice"
    # No loops: the original cannot become a duplicate of its own duplicate, nor of itself.
    loop = await post(f"/review/tips/{original}/duplicate", data={"csrf_token": token, "original": str(tip)})
    assert loop.status == 400
    itself = await post(f"/review/tips/{original}/duplicate", data={"csrf_token": token, "original": str(original)})
    assert itself.status == 400
    missing = await post(f"/review/tips/{original}/duplicate", data={"csrf_token": token, "original": "T-999999"})
    assert missing.status == 404
    assert (await post(f"/review/tips/{tip}/status", data={"csrf_token": token, "status": "nonsense"})).status == 400
    assert (await post(f"/review/tips/{tip}/notes", data={"csrf_token": token, "text": " "})).status == 400


async def test_bulk_actions(admin: TestClient[Any, Any], seeded: Seeded, database: Database) -> None:
    token = await page_csrf(admin)
    chosen = [seeded.tips[0], seeded.tips[3]]
    response = await admin.post(
        "/review/tips/bulk",
        data=[("csrf_token", token), ("back", "/review/tips?status=new"), ("action", "status:not_useful")]
        + [("tip", str(tip)) for tip in chosen]
        + [("tip", "999999"), ("tip", "x; DROP")],
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/review/tips?status=new&notice=bulk"
    assert await listed(admin, "status=not_useful") == refs(seeded, 3, 0)
    event = await last_audit(database)
    assert event.action == "tip.bulk_status" and event.details["tips"] == sorted(chosen)
    response = await admin.post(
        "/review/tips/bulk",
        data=[("csrf_token", token), ("action", "assign_me"), ("back", "https://evil.example/")]
        + [("tip", str(t)) for t in chosen],
        allow_redirects=False,
    )
    assert response.headers["Location"].startswith("/review/tips")
    assert await listed(admin, "assigned=me") == refs(seeded, 3, 0)
    assert (await last_audit(database)).action == "tip.bulk_assign"
    bad = await admin.post("/review/tips/bulk", data={"csrf_token": token, "action": "status:duplicate", "tip": "1"})
    assert bad.status == 400


async def test_object_page_tally_words_and_status(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    mug = seeded.objects["TAO-0001"]
    html = await (await admin.get(f"/review/objects/{mug}")).text()
    assert "<svg" in html and "Germany (DE)" in html and 'class="chart-bar"' in html
    assert re.search(r"Germany \(DE\)</a></td><td class=\"num\">3<", html)
    for word in ("mug", "hamburg", "bremen"):
        assert f">{word}</a>" in html
    assert ">the</a>" not in html
    token = await page_csrf(admin)
    response = await admin.post(f"/review/objects/{mug}/status", data={"csrf_token": token, "status": "identified"})
    assert response.status == 200 and "identified" in await response.text()
    assert (await last_audit(database)).details == {"status": "identified", "previous": "active"}
    bad = await admin.post(f"/review/objects/{mug}/status", data={"csrf_token": token, "status": "deleted"})
    assert bad.status == 400
    assert (await admin.get("/review/objects/4242")).status == 404


async def test_image_route_serves_only_media_files(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database, media_dir: Path, tmp_path: Path
) -> None:
    mug = seeded.objects["TAO-0001"]
    ok = await admin.get(f"/review/objects/{mug}/image")
    assert ok.status == 200 and ok.headers["Content-Type"] == "image/png"
    assert (await ok.read()).startswith(b"\x89PNG")
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not for you")
    for stored in ("../secret.png", str(secret), "../../../../etc/passwd", "mug.png/../../secret.png"):
        async with database.unit_of_work() as uow:
            await uow.session.execute(update(TracedObject).where(TracedObject.id == mug).values(image_path=stored))
            await uow.commit()
        assert (await admin.get(f"/review/objects/{mug}/image")).status == 404, stored
    for path in (
        "/review/objects/..%2F..%2Fsecret.png/image",
        "/review/static/../../bot/settings.py",
        "/review/static/%2e%2e/app.py",
    ):
        response = await admin.get(path)
        assert response.status in (403, 404), path
        assert b"BaseSettings" not in await response.read()


async def test_stats_page(admin: TestClient[Any, Any], seeded: Seeded) -> None:
    html = await (await admin.get("/review/stats")).text()
    assert "7 tips match" in html and "Tips per day (UTC)" in html
    for heading in ("By status", "By language", "By country", "By object", "By campaign"):
        assert heading in html
    filtered = await (await admin.get(f"/review/stats?object={seeded.objects['TAO-0002']}")).text()
    assert "3 tips match" in filtered
