"""The queries rewritten for a million tips give what the straightforward ones gave, on both databases."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import Counter
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text, update

import storage.repositories.review
from review.aggregates import AggregateCache
from review.export import (
    COLUMNS,
    csv_cell,
    csv_chunk,
    csv_line,
    export_rows,
    iterate_tips,
    number_cell,
    text_cell,
    thread_rows,
    tip_row,
)
from review.security import FORMULA_TRIGGERS
from storage.models import Tip, TipStatus
from storage.pii import EMAIL, PHONE_CANDIDATE, PHONE_MASK, looks_like_phone, mask_contacts
from storage.repositories.review import TipQuery
from storage.repositories.review_stats import DIMENSIONS
from storage.uow import Database
from tests.review.support import Seeded, page_csrf

NEW_TAB = re.compile(r'class="tab-new"[^>]*>[^<]*<span class="count">(\d+)</span>')


async def test_object_summaries_count_each_objects_tips(database: Database, seeded: Seeded) -> None:
    async with database.unit_of_work() as uow:
        await uow.review.set_status([seeded.tips[0], seeded.tips[3]], TipStatus.NOT_USEFUL)
        empty, _ = await uow.objects.upsert(
            reference="TAO-0003", question="And this?", hint=None, image_path="x.png", image_sha256="2" * 64, position=2
        )
        await uow.commit()
    async with database.unit_of_work() as uow:
        rows = (await uow.session.execute(select(Tip.object_id, Tip.status))).all()
        summaries = await uow.review_stats.objects()
        one = await uow.review_stats.object(seeded.objects["TAO-0002"])
        missing = await uow.review_stats.object(999_999)
    tips = Counter(object_id for object_id, _ in rows)
    new = Counter(object_id for object_id, status in rows if status == TipStatus.NEW)
    assert [(s.reference, s.tips, s.new_tips) for s in summaries] == [
        ("TAO-0001", tips[seeded.objects["TAO-0001"]], new[seeded.objects["TAO-0001"]]),
        ("TAO-0002", tips[seeded.objects["TAO-0002"]], new[seeded.objects["TAO-0002"]]),
        ("TAO-0003", 0, 0),
    ]
    assert (tips[seeded.objects["TAO-0001"]], new[seeded.objects["TAO-0001"]]) == (4, 3)
    assert one == summaries[1] and missing is None and empty.id == summaries[2].id


@pytest.mark.parametrize("narrowed", ["all", "campaign", "status", "object", "text"])
async def test_breakdown_matches_each_grouped_query(database: Database, seeded: Seeded, narrowed: str) -> None:
    """One GROUPING SETS pass (PostgreSQL) gives the same totals and groups as a query per dimension."""
    async with database.unit_of_work() as uow:
        await uow.review.set_status([seeded.tips[4]], TipStatus.SPAM)
        await uow.commit()
    query = {
        "all": TipQuery(),
        "campaign": TipQuery(campaign_id=seeded.campaign_id),
        "status": TipQuery(statuses=(TipStatus.NEW,)),
        "object": TipQuery(object_id=seeded.objects["TAO-0001"]),
        "text": TipQuery(text="mug"),
    }[narrowed]
    async with database.unit_of_work() as uow:
        breakdown = await uow.review_stats.breakdown(query)
        expected = {dimension: await uow.review_stats.grouped(dimension, query, limit=20) for dimension in DIMENSIONS}
        total = await uow.review_stats.total(query)
    assert breakdown.total == total > 0
    for dimension in DIMENSIONS:  # ties may come in another order
        assert sorted(breakdown.groups[dimension], key=repr) == sorted(expected[dimension], key=repr), dimension
    if narrowed == "all":
        assert {tally.label for tally in breakdown.groups["object"]} == {"TAO-0001", "TAO-0002"}
        assert {tally.label for tally in breakdown.groups["campaign"]} == {"spring", ""}


async def test_export_rows_and_csv_are_the_api_rows_cell_by_cell(database: Database, seeded: Seeded) -> None:
    """The export's fast paths (plain rows, no dictionary per CSV row) give what the API's `tip_row` gives."""
    async with database.unit_of_work() as uow:
        await uow.followup.add_question(seeded.tips[2], seeded.moderator_id, "=Where exactly?", "=Wo genau?", True)
        # Forged codes: nothing writes these, but a cell is made safe whatever column it is in.
        forged = {"country_code": "=1", "language": "@x", "translation_status": "+cmd"}
        await uow.session.execute(update(Tip).where(Tip.id == seeded.tips[3]).values(**forged))
        await uow.commit()
    batches = [batch async for batch in iterate_tips(database, TipQuery(), batch=3)]
    rows = [row for batch in batches for row in export_rows(batch)]
    assert [row["id"] for row in rows] == sorted(seeded.tips, reverse=True)
    async with database.unit_of_work() as uow:
        expected = [
            {**tip_row(tip), "thread": thread_rows(await uow.followup.thread(tip.id))}
            for tip in await uow.review.page(TipQuery(), limit=100)
        ]
    assert rows == expected and any(row["thread"] for row in rows)
    one_by_one = b"".join(csv_line([csv_cell(row[column]) for column in COLUMNS]) for row in rows)
    fast = b"".join(csv_chunk(*batch) for batch in batches)
    assert read_csv(fast) == read_csv(one_by_one) and fast.endswith(b"\r\n")
    assert b"'=HYPERLINK" in fast and b"'=Where" not in fast  # formulas still neutralised
    assert all(f"'{value}".encode() in fast for value in forged.values())


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize(
    "value",
    ['say "hi", then leave', "two\nlines\r\nand a CR\r", "", " padded ", "=1+2", "-5", "@x", "\tindent",
     "naïve ünïcödé 🙂", '"', ",", "'quoted already", "\rCR first", '"=quoted formula'],
)  # fmt: skip
def test_a_hand_made_text_cell_reads_back_as_the_csv_modules(value: str) -> None:
    """`text_cell` quotes every text itself (the csv writer was the export's largest cost): any reader agrees."""
    line = ",".join([text_cell(value), number_cell(1.5), number_cell(float("nan")), text_cell(None)]) + "\r\n"
    expected = csv_line([csv_cell(value), csv_cell(1.5), "", ""])
    assert all(len(trigger) == 1 for trigger in FORMULA_TRIGGERS), "text_cell tests the first character only"
    assert read_csv(line.encode()) == read_csv(expected) == [[csv_cell(value), "1.5", "", ""]]


def _mask_without_shortcut(text: str) -> str:
    masked = EMAIL.sub("[e-mail hidden]", text)
    return PHONE_CANDIDATE.sub(lambda match: PHONE_MASK if looks_like_phone(match.group()) else match.group(), masked)


@pytest.mark.parametrize(
    "text",
    [
        "no contact here at all",
        "write to anna.k@example.org please",
        "full-width at: anna\uff20example.org",
        "small at: anna\ufe6bexample.org",
        "call +49 170 1234567",
        "Arabic-Indic digits: \u0660\u0661\u0667\u0660 \u0661\u0662\u0663\u0664\u0665\u0666\u0667",
        "barcode 4006381333931 stays",
        "bought in 2019 for 12 euros",
    ],
)
def test_masking_shortcut_changes_nothing(text: str) -> None:
    assert mask_contacts(text) == _mask_without_shortcut(text)


async def test_aggregate_cache_computes_once_per_key_until_invalidated() -> None:
    cache, calls = AggregateCache(), Counter[str]()
    release = asyncio.Event()

    async def compute(key: str) -> str:
        calls[key] += 1
        await release.wait()
        return f"{key}{calls[key]}"

    waiting = [asyncio.create_task(cache.get(key, 60, lambda key=key: compute(key))) for key in ("a", "a", "b")]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["a1", "a1", "b1"]  # concurrent requests share one computation
    assert await cache.get("a", 60, lambda: compute("a")) == "a1"  # fresh: kept
    assert await cache.get("a", 0, lambda: compute("a")) == "a2"  # older than the ttl: computed again
    cache.invalidate()
    assert await cache.get("b", 60, lambda: compute("b")) == "b2"


async def test_aggregate_cache_keeps_neither_failures_nor_values_computed_across_an_invalidation() -> None:
    cache = AggregateCache()

    async def fail() -> int:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        await cache.get("k", 60, fail)

    async def stale() -> int:
        cache.invalidate()  # a moderator changed tips while this was counting
        return 1

    async def fresh() -> int:
        return 2

    assert await cache.get("k", 60, stale) == 1
    assert await cache.get("k", 60, fresh) == 2


async def test_queue_counts_follow_a_moderators_change_at_once(admin: TestClient[Any, Any], seeded: Seeded) -> None:
    async def new_count() -> int:
        match = NEW_TAB.search(await (await admin.get("/review/tips")).text())
        assert match
        return int(match[1])

    assert await new_count() == 7
    token = await page_csrf(admin)
    response = await admin.post(f"/review/tips/{seeded.tips[2]}/status", data={"csrf_token": token, "status": "spam"})
    assert response.status == 200
    assert await new_count() == 6
    bulk = {"csrf_token": token, "action": "status:not_useful", "tip": [str(seeded.tips[0]), str(seeded.tips[1])]}
    await admin.post("/review/tips/bulk", data=bulk)
    assert await new_count() == 4


async def test_statistics_and_objects_follow_a_moderators_change(admin: TestClient[Any, Any], seeded: Seeded) -> None:
    async def by_status() -> str:
        html = await (await admin.get("/review/stats")).text()
        return html.split("<h2>By status</h2>", 1)[1].split("<h2>", 1)[0]

    async def new_of_curtain() -> str:
        html = await (await admin.get("/review/objects")).text()
        return html.split("Object TAO-0002", 1)[1].split("</li>", 1)[0].split(" · ", 1)[1]

    assert "Spam" not in await by_status()
    assert "3 new" in await new_of_curtain()
    token = await page_csrf(admin)
    await admin.post(f"/review/tips/{seeded.tips[3]}/status", data={"csrf_token": token, "status": "spam"})
    assert "Spam" in await by_status()
    assert "2 new" in await new_of_curtain()


@pytest.mark.parametrize("window", [1, 3, 20_000])
async def test_search_pages_are_the_same_whichever_way_they_are_found(
    database: Database, seeded: Seeded, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """On PostgreSQL a search scans the nearest `SEARCH_WINDOW` tips first and asks the trigram index if
    they do not fill the page; the pages (and keyset cursors) must not depend on which found them."""
    monkeypatch.setattr(storage.repositories.review, "SEARCH_WINDOW", window)
    mug = TipQuery(text="mug")
    async with database.unit_of_work() as uow:
        first = await uow.review.page(mug, limit=2)
        second = await uow.review.page(mug, before_id=first[-1].id, limit=2)
        back = await uow.review.page(mug, after_id=second[0].id, limit=2)
    assert [tip.id for tip in first + second] == [seeded.tips[index] for index in (6, 1, 0)]
    assert [tip.id for tip in back] == [tip.id for tip in first]


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_postgresql_plans_each_statement_for_its_values(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
