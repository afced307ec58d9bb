"""Bulk-load a large, realistic tip table for the dashboard benchmark (not the bot: no turns, no Bot API).

    .venv/bin/python -m bench.load_tips --database-url postgresql+asyncpg://postgres@127.0.0.1:55432/scale_1m
    .venv/bin/python -m bench.load_tips --database-url sqlite+aiosqlite:///./data/bench.db --tips 200000

Migrates the database, then writes `--objects` objects, a few campaigns, one reporter per ~8 tips and
`--tips` tips over `--years` years in `--languages` languages (COPY on PostgreSQL, executemany on
SQLite). Everything comes from `--seed`, so two runs load the same rows. Texts are drawn from a
Zipf-weighted vocabulary; `COMMON_WORD` is in about 1% of tips and `RARE_WORD` in about 0.01%, for the
search benchmark. About 2% of tips carry a phone number or an e-mail address, masked into
`search_text` by `storage.pii.search_text` exactly as the bot does. Tips are confirmed and masked
with the current rules, so a server started on the database has no backlog to work through.
The database must hold no objects, campaigns, reporters or tips yet.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url

from storage.db import sqlite_file
from storage.migrate import upgrade
from storage.pii import MASK_VERSION, SEARCH_PART_SEPARATOR, mask_contacts, normalise_search

COMMON_WORD = "lighthouse"  # in ~1% of tips
RARE_WORD = "zanzibarite"  # in ~0.01% of tips
CAMPAIGNS = 12
TEXT_POOL = 20_000  # distinct English texts; originals come from per-language pools of 600
BATCH = 20_000

VOCABULARY = """
blue red green black white yellow brown grey small large old new broken wooden plastic metal glass
lamp chair table bottle cup plate shirt jacket bag box toy doll bear car truck bicycle poster picture
curtain carpet blanket pillow bed sofa window door wall floor ceiling kitchen bathroom hotel room house
flat shop market school church station harbour beach park garden street village town city country
near next behind under above inside outside corner left right front back top bottom side middle
saw recognise remember bought sold found used owned made sell buy wear carry hang keep
store brand label logo pattern flowers stripes dots stars letters numbers sign design colour shape
holiday summer winter spring autumn years ago last week month often once twice every sometimes
my our their friend mother father sister brother neighbour cousin uncle aunt grandmother teacher
sure think believe probably maybe certainly definitely clearly exactly similar same identical like
catalogue website online advert magazine newspaper television film series museum exhibition
""".split()
LANGUAGE_WORDS = {
    "de": "ich habe diese lampe gesehen im hotel am hafen in der stadt vor jahren blau rot klein alt".split(),
    "fr": "j'ai vu cette lampe dans un hôtel près du port de la ville il y a des années bleu".split(),
    "es": "vi esta lámpara en un hotel cerca del puerto de la ciudad hace años azul rojo pequeño".split(),
    "ru": "я видел эту лампу в гостинице у порта в городе много лет назад синий красный".split(),
    "ar": "رأيت هذا المصباح في فندق قرب الميناء في المدينة منذ سنوات أزرق أحمر صغير".split(),
}
COUNTRIES = (
    "DE FR GB US NL BE ES IT PL SE NO DK FI AT CH CZ PT IE GR TR RU UA RO HU BG HR RS SK SI LT LV EE "
    "CA MX BR AR CL CO PE AU NZ JP CN KR IN ID PH TH VN MY SG ZA NG EG MA KE IL SA AE IR PK"
).split()
LANGUAGES = (
    "en de fr es it nl pl pt ru uk tr ar fa he hi ur bn id ms th vi zh ja ko sv no da fi cs sk "
    "hu ro bg hr sr sl lt lv et el"
).split()
STATUSES = ("new", "in_review", "actionable", "forwarded", "not_useful", "duplicate", "spam")
OLD_STATUS_WEIGHTS = (2, 3, 15, 10, 50, 10, 10)  # older tips were mostly reviewed
RECENT_STATUS_WEIGHTS = (60, 15, 8, 2, 10, 3, 2)  # the last 5% mostly wait for review
TIP_COLUMNS = (
    "id", "draft_token", "object_id", "reporter_id", "campaign_id", "recognised", "country_code", "country_text",
    "text_original", "latitude", "longitude", "ui_language", "language", "language_confidence", "language_rule",
    "text_english", "translation_status", "status", "created_at", "updated_at", "duplicate_of_id",
    "translation_attempts", "translated_at", "search_text", "search_mask_version", "confirmed_at",
    "confirmation_attempts", "confirmation_next_attempt_at",
)  # fmt: skip


def zipf_weights(count: int) -> list[float]:
    return [1 / (rank + 1) for rank in range(count)]


class TipMaker:
    """Deterministic rows: the same seed always gives the same database."""

    def __init__(self, seed: int, tips: int, objects: int, languages: int, years: float) -> None:
        self.random = random.Random(seed)
        self.tips = tips
        self.objects = objects
        self.languages = LANGUAGES[:languages]
        self.language_weights = zipf_weights(len(self.languages))
        self.country_weights = zipf_weights(len(COUNTRIES))
        self.object_weights = [self.random.paretovariate(1.2) for _ in range(objects)]  # a few draw most tips
        self.reporters = max(1, tips // 8)
        self.end = datetime(2026, 11, 30, tzinfo=UTC)
        self.start = self.end - timedelta(days=365.25 * years)
        words, weights = VOCABULARY, zipf_weights(len(VOCABULARY))
        self.english = [self._sentence(words, weights) for _ in range(TEXT_POOL)]
        self.originals = {
            language: [self._sentence(LANGUAGE_WORDS.get(language, words), None) for _ in range(600)]
            for language in self.languages
            if language != "en"
        }
        self.contacts = [f"call me on +49 170 {5550000 + n}" for n in range(50)] + [
            f"write to witness{n}@example.org" for n in range(50)
        ]
        self._masked: dict[str, str] = {}

    def _sentence(self, words: Sequence[str], weights: Sequence[float] | None) -> str:
        return " ".join(self.random.choices(words, weights, k=self.random.randint(6, 30)))

    def masked(self, part: str) -> str:
        """`storage.pii.search_text` of one part, memoised: texts repeat, masking them is the slow bit."""
        found = self._masked.get(part)
        if found is None:
            found = self._masked[part] = mask_contacts(normalise_search(mask_contacts(part)))
        return found

    def rows(self, first_id: int) -> Iterator[tuple[Any, ...]]:
        draw, span = self.random, (self.end - self.start).total_seconds()
        recent_from = int(self.tips * 0.95)
        for index in range(self.tips):
            tip_id = first_id + index
            created = self.start + timedelta(seconds=span * index / self.tips + draw.random())
            language = draw.choices(self.languages, self.language_weights)[0]
            english = self.english[draw.randrange(TEXT_POOL)]
            marker = draw.random()
            if marker < 0.01:
                english = f"{english} {COMMON_WORD}"
            elif marker < 0.0101:
                english = f"{RARE_WORD} {english}"
            if language == "en":
                original, translated, translation = english, None, "not_needed"
            else:
                original = draw.choice(self.originals[language])
                translated, translation = english, ("done" if draw.random() < 0.97 else "pending")
                if translation == "pending":
                    translated = None
            if draw.random() < 0.02:
                original = f"{original} {draw.choice(self.contacts)}"
            parts = [self.masked(part) for part in (original, translated) if part]
            status = draw.choices(STATUSES, RECENT_STATUS_WEIGHTS if index >= recent_from else OLD_STATUS_WEIGHTS)[0]
            located = draw.random() < 0.2
            yield (
                tip_id,
                f"bench-{tip_id:012d}",
                draw.choices(range(1, self.objects + 1), self.object_weights)[0],
                draw.randrange(1, self.reporters + 1),
                draw.randrange(1, CAMPAIGNS + 1) if draw.random() < 0.3 else None,
                draw.random() < 0.9,
                draw.choices(COUNTRIES, self.country_weights)[0] if draw.random() < 0.85 else None,
                None,
                original,
                draw.uniform(-60, 70) if located else None,
                draw.uniform(-180, 180) if located else None,
                language if language in LANGUAGE_WORDS or language == "en" else "en",
                language,
                round(draw.uniform(0.5, 1.0), 3),
                "bench",
                translated,
                translation,
                status,
                created,
                created + timedelta(days=2) if status != "new" else None,
                max(1, tip_id - draw.randint(1, 1000)) if status == "duplicate" and tip_id > 1 else None,
                1 if translated else 0,
                created + timedelta(seconds=5) if translated else None,
                SEARCH_PART_SEPARATOR.join(parts),
                MASK_VERSION,
                created + timedelta(seconds=1),
                1,
                None,  # confirmed: nothing for the sweeper to do
            )

    def objects_rows(self, now: datetime) -> list[tuple[Any, ...]]:
        return [
            (
                n,
                f"OBJ-{n:04d}",
                f"Do you recognise object {n}?",
                None,
                f"objects/{n}.png",
                "{}",
                "0" * 64,
                None,
                "active",
                n,
                now,
                now,
            )
            for n in range(1, self.objects + 1)
        ]

    def campaign_rows(self, now: datetime) -> list[tuple[Any, ...]]:
        return [(n, f"camp{n:02d}", f"Campaign {n}", "active", now) for n in range(1, CAMPAIGNS + 1)]

    def reporter_rows(self, now: datetime) -> Iterator[tuple[Any, ...]]:
        for n in range(1, self.reporters + 1):
            yield (n, f"bench{n:059d}", f"R{n:010d}", None, "en", "en", None, now, None, False, False, now, now)


OBJECT_COLUMNS = (
    "id", "reference", "question", "hint", "image_path", "translations", "image_sha256", "telegram_file_id",
    "status", "position", "created_at", "updated_at",
)  # fmt: skip
CAMPAIGN_COLUMNS = ("id", "code", "title", "status", "created_at")
REPORTER_COLUMNS = (
    "id", "pseudonym", "alias", "chat_id_encrypted", "language", "telegram_language", "campaign_id",
    "opted_in_at", "stopped_at", "wants_news", "blocked", "created_at", "last_seen_at",
)  # fmt: skip


def batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_postgresql(url: str, maker: TipMaker, progress: bool) -> None:
    import asyncpg

    parsed = make_url(url).set(drivername="postgresql")
    connection = await asyncpg.connect(parsed.render_as_string(hide_password=False))
    now = datetime.now(UTC)
    try:
        await connection.execute("SET synchronous_commit = off")
        await connection.copy_records_to_table("objects", records=maker.objects_rows(now), columns=OBJECT_COLUMNS)
        await connection.copy_records_to_table("campaigns", records=maker.campaign_rows(now), columns=CAMPAIGN_COLUMNS)
        for batch in batches(maker.reporter_rows(now), BATCH * 5):
            await connection.copy_records_to_table("reporters", records=batch, columns=REPORTER_COLUMNS)
        # Building the tips' secondary indexes once at the end is several times faster than keeping
        # them (the trigram index above all) current row by row.
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tips' AND indexdef NOT LIKE '%UNIQUE%'"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        done = 0
        for batch in batches(maker.rows(1), BATCH):
            await connection.copy_records_to_table("tips", records=batch, columns=TIP_COLUMNS)
            done += len(batch)
            if progress:
                print(f"\r{done:,} tips", end="", flush=True)
        if progress:
            print(f"\nbuilding {len(indexes)} indexes", flush=True)
        await connection.execute("SET maintenance_work_mem = '256MB'")
        for index in indexes:
            await connection.execute(index["indexdef"])
        for table in ("objects", "campaigns", "reporters", "tips"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("VACUUM ANALYZE tips")
    finally:
        await connection.close()


def load_sqlite(url: str, maker: TipMaker, progress: bool) -> None:
    path = sqlite_file(url)
    assert path is not None, "not a SQLite file URL"
    now = datetime.now(UTC)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")

        def insert(table: str, columns: Sequence[str], rows: Any) -> None:
            marks = ", ".join("?" for _ in columns)
            connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

        def stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
            # SQLAlchemy keeps SQLite datetimes as naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff".
            return tuple(
                value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value
                for value in row
            )

        insert("objects", OBJECT_COLUMNS, map(stored, maker.objects_rows(now)))
        insert("campaigns", CAMPAIGN_COLUMNS, map(stored, maker.campaign_rows(now)))
        insert("reporters", REPORTER_COLUMNS, map(stored, maker.reporter_rows(now)))
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tips' AND sql IS NOT NULL"
            " AND sql NOT LIKE 'CREATE UNIQUE%'"
        ).fetchall()
        for name, _sql in indexes:  # built once at the end, as on PostgreSQL
            connection.execute(f'DROP INDEX "{name}"')
        done = 0
        for batch in batches(maker.rows(1), BATCH):
            insert("tips", TIP_COLUMNS, map(stored, batch))
            connection.commit()
            done += len(batch)
            if progress:
                print(f"\r{done:,} tips", end="", flush=True)
        for _name, sql in indexes:
            connection.execute(sql)
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--objects", type=int, default=200)
    parser.add_argument("--languages", type=int, default=40, choices=range(1, len(LANGUAGES) + 1), metavar="N")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    upgrade(args.database_url)
    maker = TipMaker(args.seed, args.tips, args.objects, args.languages, args.years)
    if make_url(args.database_url).get_backend_name() == "postgresql":
        asyncio.run(load_postgresql(args.database_url, maker, not args.quiet))
    else:
        load_sqlite(args.database_url, maker, not args.quiet)
    elapsed = time.perf_counter() - started
    print(f"\nloaded {args.tips:,} tips in {elapsed:.0f} s ({args.tips / elapsed:,.0f} tips/s)")


if __name__ == "__main__":
    main()
