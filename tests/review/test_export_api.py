"""Exports (streamed, formula-safe, audited) and the read-only JSON API (bearer tokens)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner

import review
import review.export
from review.security import token_hash
from storage.models import utcnow
from storage.repositories.audit import AuditQuery
from storage.uow import Database
from tests.review.support import Seeded, dashboard_app, make_config, make_settings, seed, sign_in

TOKEN = "tbt_test-token-0123456789"


async def audit_actions(database: Database) -> list[str]:
    async with database.unit_of_work() as uow:
        return [event.action for event in await uow.audit.page(AuditQuery(), limit=50)]


async def test_csv_export_neutralises_formulas(admin: TestClient[Any, Any], seeded: Seeded, database: Database) -> None:
    response = await admin.get("/review/export.csv")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="tracebot-tips-')
    rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == list(reversed(seeded.tips))
    formula = next(row for row in rows if row["id"] == str(seeded.tips[5]))
    assert formula["text_original"] == '\'=HYPERLINK("http://evil")'
    assert formula["text_english"] == "'+cmd|' /C calc'!A0"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    krakow = next(row for row in rows if row["id"] == str(seeded.tips[2]))
    assert (
        krakow["latitude"] == "50.06143" and krakow["text_english"] == "" and krakow["reporter_alias"].startswith("R-")
    )
    assert "pseudonym" not in rows[0] and "chat_id" not in ",".join(rows[0])
    assert (await audit_actions(database))[0] == "export"


async def test_export_is_streamed_in_batches_of_the_filtered_view(
    admin: TestClient[Any, Any], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    original = review.export.iterate_tips

    async def spy(database: Database, query: Any, batch: int = 2) -> Any:
        async for fetched in original(database, query, batch=2):
            tips, _threads = fetched
            batches.append(len(tips))
            yield fetched

    monkeypatch.setattr(review.export, "iterate_tips", spy)
    response = await admin.get(f"/review/export.json?object={seeded.objects['TAO-0001']}")
    assert response.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in response.headers
    body = json.loads(await response.read())
    assert [tip["id"] for tip in body["tips"]] == [seeded.tips[i] for i in (6, 2, 1, 0)]
    assert batches == [2, 2], "constant memory: the database is read in keyset batches"
    assert body["tips"][0]["text_original"] == "50% off_sale mug"


class ProductionServer(TestServer):
    """A test server that, like `tracebot run`'s, lets a handler run on when its client goes away."""

    async def _make_runner(self, handler_cancellation: bool = False, **kwargs: Any) -> BaseRunner:
        return await super()._make_runner(handler_cancellation=False, **kwargs)


@pytest.mark.parametrize("cancelling", [True, False], ids=["test-server", "production-server"])
async def test_a_cancelled_download_ends_the_export_quietly(
    migrated_url: str,
    media_dir: Path,
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    cancelling: bool,
) -> None:
    """A moderator who cancels a download is no server error: the export stops, the server serves on.

    Under `tracebot run` the next write meets the closed connection; a server that cancels handlers
    (aiohttp's test server) cancels the export instead. Neither is logged as an error.
    """
    caplog.set_level(logging.INFO, logger="review.export")
    app = dashboard_app(make_settings(migrated_url, media_dir), make_config())
    client: TestClient[Any, Any] = await aiohttp_client(app if cancelling else ProductionServer(app))
    await seed(app[review.DATABASE], media_dir)
    assert (await sign_in(client)).status == 303
    original, finished = review.export.iterate_tips, asyncio.Event()

    async def slow(database: Database, query: Any, batch: int = 1) -> Any:
        try:
            for _ in range(200):  # far more batches than the client will read
                async for fetched in original(database, query, batch=1):
                    yield fetched
                    await asyncio.sleep(0.01)
        finally:
            finished.set()

    monkeypatch.setattr(review.export, "iterate_tips", slow)
    response = await client.get("/review/export.csv")
    await response.content.readany()
    response.connection.transport.abort()  # type: ignore[union-attr]
    response.close()
    await asyncio.wait_for(finished.wait(), 10)
    assert (await client.get("/review/tips")).status == 200
    assert not [record for record in caplog.records if record.levelname == "ERROR"], caplog.text
    assert cancelling or "closed the connection" in caplog.text


async def test_json_export_of_an_empty_view_is_valid(admin: TestClient[Any, Any], seeded: Seeded) -> None:
    body = json.loads(await (await admin.get("/review/export.json?status=forwarded")).read())
    assert body["tips"] == []


async def make_token(database: Database, revoked: bool = False) -> None:
    async with database.unit_of_work() as uow:
        record = await uow.api_tokens.create("integration", token_hash(TOKEN))
        if revoked:
            await uow.api_tokens.revoke(record.id, utcnow())
        await uow.commit()


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer " + "a" * 5000]
)
async def test_api_refuses_without_a_valid_token(
    client: TestClient[Any, Any], seeded: Seeded, database: Database, header: str | None
) -> None:
    await make_token(database)
    response = await client.get("/api/tips", headers={"Authorization": header} if header else {})
    assert response.status == 401
    assert (await response.json()) == {"error": "a valid API token is required"}


async def test_api_revoked_token_is_refused(client: TestClient[Any, Any], seeded: Seeded, database: Database) -> None:
    await make_token(database, revoked=True)
    assert (await client.get("/api/tips", headers={"Authorization": f"Bearer {TOKEN}"})).status == 401


async def test_api_tips_filters_and_keyset_pages(
    client: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    await make_token(database)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = await (await client.get("/api/tips?limit=4", headers=auth)).json()
    assert [tip["id"] for tip in first["tips"]] == [seeded.tips[i] for i in (6, 5, 4, 3)]
    rest = await (await client.get(f"/api/tips?limit=4&before={first['next_before']}", headers=auth)).json()
    assert [tip["id"] for tip in rest["tips"]] == [seeded.tips[i] for i in (2, 1, 0)] and rest["next_before"] is None
    german = await (await client.get("/api/tips?country=DE&q=mug", headers=auth)).json()
    assert [tip["id"] for tip in german["tips"]] == [seeded.tips[i] for i in (6, 1, 0)]
    one = await (await client.get(f"/api/tips/{seeded.tips[4]}", headers=auth)).json()
    assert one["text_original"] == "<script>alert(1)</script>", "JSON carries the text unchanged"
    assert (await client.get("/api/tips/999999", headers=auth)).status == 404
    for bad in ("status=bogus", "limit=1000", "before=x", "assigned=me", "date_from=2024-02-30"):
        response = await client.get(f"/api/tips?{bad}", headers=auth)
        assert response.status == 400, bad
        assert "error" in await response.json()
    async with database.unit_of_work() as uow:
        tokens = await uow.api_tokens.all()
    assert tokens[0].last_used_at is not None


async def test_api_objects_and_stats(client: TestClient[Any, Any], seeded: Seeded, database: Database) -> None:
    await make_token(database)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    objects = (await (await client.get("/api/objects", headers=auth)).json())["objects"]
    assert {item["reference"]: item["tips"] for item in objects} == {"TAO-0001": 4, "TAO-0002": 3}
    stats = await (await client.get("/api/stats", headers=auth)).json()
    assert stats["total"] == 7
    assert stats["by_country"] == {"DE": 3, "unknown": 1, "ES": 1, "FR": 1, "PL": 1}
    assert stats["by_object"] == {"TAO-0001": 4, "TAO-0002": 3}
    assert sum(stats["per_day"].values()) == 7
    assert (await client.get("/api/nothing", headers=auth)).status == 404
