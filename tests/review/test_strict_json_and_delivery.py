"""Exports and the API are JSON a strict parser reads; the tip page says when a reference never arrived."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.engine import make_url

from review.security import token_hash
from storage.models import Tip
from storage.uow import Database
from tests.review.support import Seeded

TOKEN = "tbt_strict-json-0123456789"


def strict_loads(body: bytes) -> Any:
    """json.loads, but NaN, Infinity and -Infinity (which are not JSON) raise."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(body, parse_constant=refuse)


def test_the_strict_parser_is_strict() -> None:
    with pytest.raises(ValueError, match="Infinity"):
        strict_loads(b'{"latitude": Infinity}')
    with pytest.raises(ValueError, match="NaN"):
        strict_loads(b"[NaN]")


async def test_non_finite_numbers_leave_as_null(
    client: TestClient[Any, Any], admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    """Values stored before locations were validated (or forged into the database) still export as JSON."""
    postgres = make_url(str(database.session_factory.kw["bind"].url)).get_backend_name() == "postgresql"
    odd = seeded.tips[0]
    async with database.unit_of_work() as uow:
        # SQLite keeps infinities but turns NaN into NULL; PostgreSQL keeps both.
        await uow.session.execute(
            update(Tip)
            .where(Tip.id == odd)
            .values(latitude=math.inf, longitude=-math.inf, language_confidence=math.nan if postgres else math.inf)
        )
        await uow.api_tokens.create("strict", token_hash(TOKEN))
        await uow.commit()

    exported = strict_loads(await (await admin.get("/review/export.json")).read())
    row = next(tip for tip in exported["tips"] if tip["id"] == odd)
    assert (row["latitude"], row["longitude"], row["language_confidence"]) == (None, None, None)
    krakow = next(tip for tip in exported["tips"] if tip["id"] == seeded.tips[2])
    assert (krakow["latitude"], krakow["longitude"]) == (50.06143, 19.93658), "finite values are kept"

    auth = {"Authorization": f"Bearer {TOKEN}"}
    page = strict_loads(await (await client.get("/api/tips?limit=200", headers=auth)).read())
    assert next(tip for tip in page["tips"] if tip["id"] == odd)["latitude"] is None
    one = strict_loads(await (await client.get(f"/api/tips/{odd}", headers=auth)).read())
    assert (one["latitude"], one["longitude"], one["language_confidence"]) == (None, None, None)
    for path in ("/api/objects", "/api/stats"):
        strict_loads(await (await client.get(path, headers=auth)).read())


async def test_tip_page_shows_an_undeliverable_reference(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    gone, fine = seeded.tips[3], seeded.tips[4]
    async with database.unit_of_work() as uow:
        await uow.confirmations.mark_undeliverable(gone, "chat_gone")
        await uow.confirmations.mark_confirmed(fine)
        await uow.commit()
    page = await (await admin.get(f"/review/tips/{gone}")).text()
    assert "could not be delivered" in page
    assert "the reporter blocked the bot or their chat is gone" in page
    assert "could not be delivered" not in await (await admin.get(f"/review/tips/{fine}")).text()
    assert "could not be delivered" not in await (await admin.get(f"/review/tips/{seeded.tips[5]}")).text()
