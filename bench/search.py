"""Queue search on the masked search copy at a million tips: a page and its status counts per query.

Fills an empty database (migrated here) with `--tips` synthetic tips in SQL, builds the pg_trgm
index after the load on PostgreSQL (timed: what migration 0006 costs on an existing table), then
times `ReviewRepository.page` (one queue page) and `status_counts` for rare, common and missing
terms. A benchmark, not a pass/fail test.

    python -m bench.search [--tips 1000000] [--database-url URL-of-an-empty-database]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.pii import MASK_VERSION
from storage.privacy import Privacy
from storage.repositories.review import TipQuery
from storage.uow import Database

WORDS = "mug curtain bottle label lamp vase towel poster chair clock blanket plate cup rug shelf bag box jar tin kettle"
CITIES = [f"city{n:02d}" for n in range(50)]
QUERIES = {
    "rare (1 tip)": "ref a12b4869",  # tip 12345's reference
    "city (2%)": "city07",
    "word (5%)": "kettle",
    "two letters": "mu",
    "no match": "zzqqxx",
}


def _fill_sql(dialect: str, tips: int) -> str:
    words = ", ".join(f"'{word}'" for word in WORDS.split())
    cities = ", ".join(f"'{city}'" for city in CITIES)
    if dialect == "postgresql":
        return f"""
        INSERT INTO tips (draft_token, object_id, recognised, text_original, text_english, ui_language,
                          translation_status, status, created_at, translation_attempts,
                          search_text, search_mask_version)
        SELECT 'bench-' || i, 1, true, t, t, 'en', 'done', CASE WHEN i % 3 = 0 THEN 'new' ELSE 'not_useful' END,
               now(), 0, lower(t || E'\\n' || t), {MASK_VERSION}
        FROM (SELECT i, (ARRAY[{words}])[1 + i % 20] || ' like the one from ' || (ARRAY[{cities}])[1 + (i / 20) % 50]
                     || ' seen at the market, ref ' || lpad(to_hex((i::bigint * 2654435761) % 4294967296), 8, '0') AS t
              FROM generate_series(1, {tips}) AS i) AS s"""
    return f"""
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {tips}),
         w(k, v) AS (SELECT key, value FROM json_each('[{words.replace("'", '"')}]')),
         c(k, v) AS (SELECT key, value FROM json_each('[{cities.replace("'", '"')}]'))
    INSERT INTO tips (draft_token, object_id, recognised, text_original, text_english, ui_language,
                      translation_status, status, created_at, translation_attempts,
                      search_text, search_mask_version)
    SELECT 'bench-' || i, 1, 1, t, t, 'en', 'done', CASE WHEN i % 3 = 0 THEN 'new' ELSE 'not_useful' END,
           '2026-01-01 00:00:00', 0, lower(t || char(10) || t), {MASK_VERSION}
    FROM (SELECT i, (SELECT v FROM w WHERE k = i % 20) || ' like the one from '
                 || (SELECT v FROM c WHERE k = (i / 20) % 50) || ' seen at the market, ref '
                 || printf('%08x', (i * 2654435761) % 4294967296) AS t FROM n)"""


async def _timed(work: Callable[[], Awaitable[Any]], repeats: int) -> float:
    """Median wall milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def run(url: str, tips: int, repeats: int) -> None:
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    dialect = engine.dialect.name
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO objects (id, reference, question, image_path, image_sha256, status, position,"
                    " created_at, updated_at, translations)"
                    " VALUES (1, 'TAO-0001', 'Mug?', 'mug.png', :sha, 'active', 0, :now, :now, '{}')"
                ),
                {"sha": "0" * 64, "now": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            if dialect == "postgresql":
                await connection.execute(text("DROP INDEX IF EXISTS ix_tips_search_text_trgm"))
            started = time.perf_counter()
            await connection.execute(text(_fill_sql(dialect, tips)))
            print(f"{dialect}: inserted {tips:,} tips in {time.perf_counter() - started:.1f} s")
        if dialect == "postgresql":
            async with engine.begin() as connection:
                started = time.perf_counter()
                await connection.execute(
                    text("CREATE INDEX ix_tips_search_text_trgm ON tips USING gin (search_text gin_trgm_ops)")
                )
                print(f"trigram index built in {time.perf_counter() - started:.1f} s")
                await connection.execute(text("ANALYZE tips"))
        else:
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
        database = Database(create_session_factory(engine), Privacy("bench"))
        print(f"{'query':<14} {'page ms':>9} {'counts ms':>10} {'matches':>9}")
        for label, term in QUERIES.items():
            query = TipQuery(text=term)

            async def page(query: TipQuery = query) -> None:
                async with database.unit_of_work() as uow:
                    await uow.review.page(query, limit=51)

            async def counts(query: TipQuery = query) -> dict[str, int]:
                async with database.unit_of_work() as uow:
                    return await uow.review.status_counts(query)

            matches = sum((await counts()).values())
            print(
                f"{label:<14} {await _timed(page, repeats):>9.1f} {await _timed(counts, repeats):>10.1f} {matches:>9,}"
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        asyncio.run(run(url, args.tips, args.repeats))


if __name__ == "__main__":
    main()
