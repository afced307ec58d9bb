"""Hidden contact details stay hidden on every read path: search, statistics, top words, API, exports.

A phone number and an e-mail address are planted in a tip and in its English translation. A plain
moderator (and an API token) then tries every way of reading tips, including the ~100 searches that
rebuilt a number character by character before search ran on masked text, and finds no piece of
either; an admin's audited reveal still shows them, and the searches are audited without their text.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from review.search_audit import SEARCH_ACTION
from review.security import token_hash
from review.words import top_words
from storage.models import AuditEvent, Tip, TranslationStatus
from storage.pii import MASK_VERSION, normalise_search
from storage.privacy import Privacy
from storage.repositories import TipDraft
from storage.repositories.translation_jobs import TranslationResult
from storage.search_index import reindex_search
from storage.uow import Database
from tests.review.support import SECRET_KEY, Seeded, page_csrf, sign_in

PHONE = "+49 170 1234567"
EMAIL = "jan.kowalski@example.org"
ORIGINAL = f"Diese Gardine hängt im Laden am Marktplatz. Anrufen unter {PHONE} oder an {EMAIL} schreiben"
ENGLISH = f"This curtain hangs in the shop on the market square. Ring {PHONE} or write to {EMAIL}"
DIGITS = re.sub(r"\D", "", PHONE)
DIGIT_RUNS = sorted({DIGITS[i : i + 3] for i in range(len(DIGITS) - 2)})  # "491", "917", "170", ...
# Pieces of the address (short ones as words: "ski" is in "Skip to content"; SVG carries "w3.org").
EMAIL_PIECES = [re.compile(p) for p in (r"\bjan\b", r"kowal", r"alski", r"example", r"(?<!w3)\.org\b", r"@ex", r"n\.k")]
# Searches an attacker would try: every digit run, growing prefixes, pieces of the address.
ATTACK_QUERIES = [
    *DIGIT_RUNS,
    *(DIGITS[:n] for n in range(3, len(DIGITS) + 1)),
    "+49", "+49 170", "170 123", "1234567", "4567", PHONE, PHONE.replace(" ", ""),
    "jan", "jan.", "jan.k", "kowal", "kowalski", "jan.kowalski", "@example", "example.org", "example", ".org", EMAIL,
    "ski@", "i@e", "@",
]  # fmt: skip
API_TOKEN = "tbt_masked-search-token"


async def plant(database: Database, seeded: Seeded) -> int:
    """A tip with the contacts in its text and its translation, written as the bot and worker write them."""
    async with database.unit_of_work() as uow:
        reporter, _, _ = await uow.reporters.open_chat(
            777_001, 777_001, language="de", telegram_language="de", initial_state="idle"
        )
        tip_id, _ = await uow.tips.submit(
            TipDraft(
                draft_token="masked-search-draft",
                object_id=seeded.objects["TAO-0002"],
                reporter_id=reporter.id,
                campaign_id=seeded.campaign_id,
                recognised=True,
                country_code="AT",
                country_text=None,
                text_original=ORIGINAL,
                latitude=None,
                longitude=None,
                ui_language="de",
            )
        )
        result = TranslationResult(tip_id, TranslationStatus.DONE, "de", 0.97, "test", text_english=ENGLISH)
        await uow.translation_jobs.complete(result, datetime.now(UTC))
        await uow.api_tokens.create("masked search", token_hash(API_TOKEN))
        await uow.commit()
    return tip_id


class _Readable(HTMLParser):
    """What a page shows or carries: text, and every attribute that is not a number or a CSRF token."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if ("name", "csrf_token") in attrs:
            return
        self.parts += [value for _name, value in attrs if value and re.search(r"[^\d\s.,-]", value)]

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


# Figures every page carries that could hold three of the digits by chance: times, aliases, references.
_NOISE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\+00:00|Z)?|\d{8}T\d{6}Z|R-[A-Z2-9]{8}|T-\d{6}"
)


def readable(body: str, content_type: str) -> str:
    if "html" in content_type:
        parser = _Readable()
        parser.feed(body)
        body = "\n".join(parser.parts)
    return _NOISE.sub(" ", html.unescape(body))


def assert_hidden(body: str, content_type: str, where: str) -> None:
    """No three digits of the phone number in a row, no piece of the e-mail address."""
    text = readable(body, content_type)
    lowered = text.casefold()
    for run in DIGIT_RUNS:
        assert run not in text, f"{where}: digits {run!r} of the hidden phone number"
    for piece in EMAIL_PIECES:
        assert not piece.search(lowered), f"{where}: {piece.pattern!r} of the hidden e-mail address"


async def get(client: TestClient[Any, Any], path: str, **kwargs: Any) -> tuple[str, str]:
    response = await client.get(path, **kwargs)
    assert response.status == 200, (path, response.status, await response.text())
    return await response.text(), response.headers["Content-Type"]


def queue_ids(body: str) -> set[int]:
    return {int(tip_id) for tip_id in re.findall(r'href="/review/tips/(\d+)"', body)}


async def audit_events(database: Database, action: str) -> list[AuditEvent]:
    async with database.session_factory() as session:
        return list(
            await session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )


async def test_a_moderator_finds_no_piece_of_hidden_contacts_on_any_read_path(
    client: TestClient[Any, Any], database: Database, seeded: Seeded
) -> None:
    tip_id = await plant(database, seeded)
    curtain = seeded.objects["TAO-0002"]
    assert (await sign_in(client, "bob")).status == 303
    bearer = {"Authorization": f"Bearer {API_TOKEN}"}

    # Every page and document a moderator or a token can read, unfiltered and filtered to the tip's object.
    for path in (
        "/review/tips",
        f"/review/tips?object={curtain}",
        f"/review/tips/{tip_id}",
        f"/review/objects/{curtain}",
        "/review/objects",
        "/review/stats",
        f"/review/stats?object={curtain}",
        "/review/export.csv",
        "/review/export.json",
        f"/review/export.csv?object={curtain}&q=curtain",
        f"/review/export.json?object={curtain}&q=curtain",
    ):
        assert_hidden(*await get(client, path), where=path)
    for path in ("/api/tips", f"/api/tips/{tip_id}", "/api/tips?q=curtain", "/api/stats", "/api/objects"):
        assert_hidden(*await get(client, path, headers=bearer), where=path)

    # An ordinary word still finds the tip, in the original and in the translation.
    for word in ("curtain", "Gardine", "MARKTPLATZ", "market  square", "write to"):
        assert tip_id in queue_ids((await get(client, f"/review/tips?q={quote(word)}"))[0]), word

    # No search for any piece of the contacts finds it, on any search path; the answers show nothing either.
    for query in ATTACK_QUERIES:
        q = quote(query)
        body, _ = await get(client, f"/review/tips?q={q}")
        assert tip_id not in queue_ids(body), f"queue search {query!r} found the tip"
        stats, _ = await get(client, f"/review/stats?object={curtain}&q={q}")
        assert '<p class="muted">0 tips match.</p>' in stats, f"statistics for {query!r}"
        api = json.loads((await get(client, f"/api/tips?q={q}", headers=bearer))[0])
        assert api["tips"] == [], f"API search {query!r} found {api['tips']}"
        api_stats = json.loads((await get(client, f"/api/stats?object={curtain}&q={q}", headers=bearer))[0])
        assert api_stats["total"] == 0, f"API statistics for {query!r}"
        exported = json.loads((await get(client, f"/review/export.json?q={q}"))[0])
        assert exported["tips"] == [], f"export for {query!r}"
        rows = list(csv.reader(io.StringIO((await get(client, f"/review/export.csv?q={q}"))[0].lstrip("\ufeff"))))
        assert rows[1:] == [], f"CSV export for {query!r}"

    # Top words are built from masked text: no piece of the address, no placeholder word.
    object_page, _ = await get(client, f"/review/objects/{curtain}")
    words = re.findall(r'<ol class="words">(.*?)</ol>', object_page, re.S)[0]
    assert "curtain" in words and "market" in words
    for word in ("jan", "kowalski", "example", "org", "hidden", "phone", "mail", "number"):
        assert f">{word}<" not in words, word

    # The searches are in the audit trail, each as a keyed digest and a length, never in clear.
    searches = await audit_events(database, SEARCH_ACTION)
    privacy = Privacy(SECRET_KEY)
    digests = {event.target_id for event in searches}
    assert privacy.search_digest(normalise_search(PHONE)) in digests
    assert privacy.search_digest(normalise_search("kowal")) in digests
    assert {event.actor for event in searches} == {"bob", f"api-token {await _token_id(database)}"}
    async with database.session_factory() as session:
        trail = json.dumps([[e.target_id, e.details] for e in await session.scalars(select(AuditEvent))])
    trail = re.sub(r"\b[0-9a-f]{64}\b", "<digest>", trail)  # a digest may hold "4567" by chance
    for query in ("curtain", "kowal", "example.org", "1234567", "4567"):
        assert query not in trail, f"{query!r} stored in clear in the audit trail"

    # An admin's audited reveal still shows both, in the original and in the translation.
    await client.post("/review/logout", data={"csrf_token": await page_csrf(client)})
    assert (await sign_in(client, "alice")).status == 303
    revealed = await client.post(
        f"/review/tips/{tip_id}/reveal", data={"csrf_token": await page_csrf(client, f"/review/tips/{tip_id}")}
    )
    text = await revealed.text()
    assert revealed.status == 200 and text.count(PHONE) == 2 and text.count(EMAIL) == 2
    assert [event.target_id for event in await audit_events(database, "tip.reveal_contacts")] == [str(tip_id)]


async def _token_id(database: Database) -> int:
    async with database.unit_of_work() as uow:
        return next(token.id for token in await uow.api_tokens.all() if token.name == "masked search")


@pytest.mark.parametrize("role", ["bob", "alice"])
async def test_search_matches_only_the_masked_text_for_everyone(
    client: TestClient[Any, Any], database: Database, seeded: Seeded, role: str
) -> None:
    """Admins too: searching raw text would reveal contacts without the audited reveal."""
    tip_id = await plant(database, seeded)
    await sign_in(client, role)
    for query in ("170", "1234567", "kowalski", "example.org"):
        assert tip_id not in queue_ids((await get(client, f"/review/tips?q={query}"))[0]), query
    assert tip_id in queue_ids((await get(client, "/review/tips?q=curtain"))[0])
    # What the page shows can be searched: the placeholder itself.
    assert tip_id in queue_ids((await get(client, "/review/tips?q=phone+number+hidden"))[0])


async def test_searches_are_audited_once_per_query_and_never_in_clear(
    client: TestClient[Any, Any], database: Database, seeded: Seeded
) -> None:
    await plant(database, seeded)
    await sign_in(client, "bob")
    for _ in range(3):  # reloading or paging through one search is one entry
        await get(client, "/review/tips?q=Curtain")
    await get(client, "/review/tips?q=curtain&before=999")  # the same query, normalised
    await get(client, "/review/tips?q=0170")
    await get(client, "/review/stats?q=0171")
    await get(client, "/review/export.csv?q=0172")
    await get(client, "/api/tips?q=0173", headers={"Authorization": f"Bearer {API_TOKEN}"})
    await get(client, "/review/tips")  # no query, no search entry
    privacy = Privacy(SECRET_KEY)
    events = await audit_events(database, SEARCH_ACTION)
    assert [(e.actor, e.target_type, e.target_id, e.details) for e in events] == [
        ("bob", "search", privacy.search_digest("curtain"), {"where": "queue", "length": 7}),
        ("bob", "search", privacy.search_digest("0170"), {"where": "queue", "length": 4}),
        ("bob", "search", privacy.search_digest("0171"), {"where": "stats", "length": 4}),
        ("bob", "search", privacy.search_digest("0172"), {"where": "export", "length": 4}),
        (f"api-token {await _token_id(database)}", "search", privacy.search_digest("0173"),
         {"where": "api", "length": 4}),
    ]  # fmt: skip
    export = (await audit_events(database, "export"))[-1]
    assert export.details == {"format": "csv", "filters": {}, "search": privacy.search_digest("0172")}
    assert privacy.search_digest("0170") != Privacy("another secret key for the test").search_digest("0170")


async def test_stale_search_copies_are_skipped_then_masked_again(
    client: TestClient[Any, Any], database: Database, seeded: Seeded
) -> None:
    """Rows masked by older rules never match a search; re-indexing masks them with the current rules."""
    tip_id = await plant(database, seeded)
    async with database.unit_of_work() as uow:  # as if written by rules that missed the phone number
        await uow.session.execute(
            update(Tip)
            .where(Tip.id.in_([tip_id, seeded.tips[0]]))
            .values(search_text=normalise_search(ORIGINAL), search_mask_version=MASK_VERSION - 1)
        )
        await uow.commit()
    await sign_in(client, "bob")
    assert tip_id not in queue_ids((await get(client, "/review/tips?q=1234567"))[0])
    assert tip_id not in queue_ids((await get(client, "/review/tips?q=gardine"))[0]), "stale rows are not searched"
    assert await reindex_search(database, batch=1) == 2
    assert await reindex_search(database) == 0
    async with database.session_factory() as session:
        rows = (await session.execute(select(Tip.search_text, Tip.search_mask_version))).all()
    assert all(version == MASK_VERSION and text is not None for text, version in rows)
    assert not any("123" in (text or "") for text, _version in rows)
    assert tip_id in queue_ids((await get(client, "/review/tips?q=curtain"))[0])
    assert seeded.tips[0] in queue_ids((await get(client, "/review/tips?q=hamburg"))[0])


def test_top_words_leave_out_contact_details() -> None:
    texts = [ENGLISH, f"Call {PHONE} about the blue curtain", "mail me at anna.nowak@example.com"]
    words = dict(top_words(texts))
    assert words["curtain"] == 2
    for piece in ("jan", "kowalski", "example", "org", "com", "anna", "nowak", "hidden", "phone", "number"):
        assert piece not in words, piece
