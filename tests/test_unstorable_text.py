"""U+0000 and lone surrogates never reach the database (PostgreSQL text cannot hold a NUL).

Before: a NUL in a tip made every Send fail on PostgreSQL, and a forged language code with one
broke every update of that user on both databases.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import aiohttp
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.ptb_request import AiohttpRequest
from emulator import BotApiEmulator
from storage.models import Reporter, Tip
from storage.text import _has_long_integer, loads_storable, storable_json, storable_text
from tests.support.flows import opt_in, send_tip
from tests.support.harness import WEBHOOK_SECRET, make_settings, running_bot


def test_storable_text_drops_only_what_cannot_be_stored() -> None:
    assert storable_text("a\x00b\ud800c\udfffd") == "abcd"
    kept = "tab\there, emoji 😀, RTL \u202eabc, joiner \u200d, BOM \ufeff, \x01"
    assert storable_text(kept) == kept
    assert storable_json({"t\x00": ["x\x00", {"y": "\udc00z"}], "n": 1.5}) == {"t": ["x", {"y": "z"}], "n": 1.5}


def test_telegram_json_is_decoded_without_what_cannot_be_stored() -> None:
    raw = json.dumps({"text": "a\x00b", "emoji": "😀", "n": 2**70 + 1, "m": -(2**63) - 1}).encode()
    decoded = loads_storable(raw)  # past 64 bits: exact integers, the lenient way
    assert decoded == {"text": "ab", "emoji": "😀", "n": 2**70 + 1, "m": -(2**63) - 1}
    assert type(decoded["n"]) is int
    clean = json.dumps({"text": "café 👍", "buttons": ["✅ Send", "🇫🇷"]}).encode()  # escaped pairs
    assert b"\\ud83d\\udc4d" in clean
    assert loads_storable(clean) == json.loads(clean)
    polled = AiohttpRequest.parse_json_payload(b'{"ok": true, "result": [{"text": "x\\u0000\\ud800y"}]}')
    assert polled == {"ok": True, "result": [{"text": "xy"}]}
    assert AiohttpRequest.parse_json_payload(b'{"ok": true, "result": "\xff\xed\xa0\x80"}') == {
        "ok": True,
        "result": "\ufffd" * 4,  # a Bot API answer that is not UTF-8 is read leniently, as before
    }


@pytest.mark.parametrize(
    "raw",
    [
        b"12345678901234567890123",
        b"[12345678901234567890123]",
        b'{"a": [1, -12345678901234567890123]}',
        b'{"a":\n\t 12345678901234567890123}',
    ],
)
def test_a_long_integer_anywhere_a_value_goes_is_exact(raw: bytes) -> None:
    assert loads_storable(raw) == json.loads(raw)
    assert "12345678901234567890123" in repr(loads_storable(raw))


def test_nineteen_digits_inside_strings_keep_the_fast_way(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real callback queries carry 19-digit ids and `chat_instance`s as strings: every button press.
    monkeypatch.setattr("storage.text.json.loads", _refuse_slow_way)
    query = {"id": "4000000000000000001", "chat_instance": "-8410294029384756745"}
    assert loads_storable(json.dumps({"callback_query": query}).encode()) == {"callback_query": query}


# What `_has_long_integer` answers, said as one (slow) regular expression.
_LONG_INTEGER_AS_VALUE = re.compile(rb"(?:^|[:,\[])\s*-?[0-9]{19}")
_FEW_BYTES = bytes(b'0123456789 -:,[]"a\n\t'[byte % 20] for byte in range(256))  # mostly digits


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=60).map(lambda raw: raw.translate(_FEW_BYTES)))
@example(b'{"a": [1, -1234567890123456789]}')
@example(b'{"id": "1234567890123456789", "b": 12345678901234567890}')
def test_long_integers_are_found_where_a_value_goes(raw: bytes) -> None:
    assert _has_long_integer(raw) == bool(_LONG_INTEGER_AS_VALUE.search(raw))


def _refuse_slow_way(*args: object, **kwargs: object) -> object:
    raise AssertionError("took the slow way")


def test_a_body_in_another_encoding_is_read_as_utf8_and_refused() -> None:
    # `json.loads(bytes)` would guess UTF-16 from the NULs and return a NUL and a lone surrogate.
    raw = json.dumps({"a": "x\x00\ud800"}, ensure_ascii=False).encode("utf-16-le", "surrogatepass")
    with pytest.raises((UnicodeDecodeError, json.JSONDecodeError)):  # the webhook answers 400
        loads_storable(raw)


# Every string hypothesis can make (lone surrogates and NULs included), with backslashes and text that
# looks like an escape written out, and pairs whose halves are split, doubled or reversed.
_TRICKY = st.text(
    alphabet=st.one_of(
        st.characters(codec=None),
        st.sampled_from(["\x00", "\ud83d", "\\", "\udc4d", "\ud83d", "\udc4d", "😀", "u", "d", "8"]),
    )
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(_TRICKY, max_size=4), st.booleans())
@example(["\\ud83d\udc4d"], True)  # a written-out high half, then a real lone low surrogate
@example(["\udc4d\ud83d"], True)
@example(["\ud83d\ud83d\udc4d"], False)
def test_nothing_unstorable_is_ever_decoded(texts: list[str], ascii_only: bool) -> None:
    raw = json.dumps({"texts": texts, **{text: 1 for text in texts}}, ensure_ascii=ascii_only).encode(
        "utf-8", "surrogatepass"
    )
    decoded = json.loads(raw)  # what the standard library makes of it, lone surrogates and all
    cleaned = loads_storable(raw)
    assert not any(storable_text(text) != text for text in _strings(cleaned))
    assert cleaned == storable_json(decoded)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [*_strings(key), *_strings(item)]]
    return []


async def test_a_nul_in_a_tip_is_dropped_and_the_tip_is_saved(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        user = await opt_in(emulator, 7101)
        reference = await send_tip(user, "Seen\x00 in Lyon\x00, call 0612345678")
        async with bot.services.database.session_factory() as session:
            tip = await session.scalar(select(Tip))
    assert tip is not None and tip.reference == reference
    assert tip.text_original == "Seen in Lyon, call 0612345678"


async def test_forged_update_with_nul_and_lone_surrogates_is_answered(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, mode="webhook", catalog_dir=tmp_path / "catalog") as bot:
        user = emulator.user(7102, first_name="Bo", language_code="en")
        update = {
            "update_id": 9100,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 7102, "type": "private", "first_name": "Bo"},
                "from": {"id": 7102, "is_bot": False, "first_name": "B\x00o", "language_code": "e\x00n\ud800"},
                "text": "/start\x00\udc00",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        body = json.dumps(update).encode()  # escapes: "\u0000", "\ud800"
        assert b"\\u0000" in body and b"\\ud800" in body
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{bot.url}/telegram/webhook", data=body, headers=headers) as response,
        ):
            assert response.status == 200
        welcome = await user.wait_for_message()
        assert "privacy" in welcome.plain_text.lower(), welcome.plain_text
        async with bot.services.database.session_factory() as session:
            reporter = await session.scalar(select(Reporter))
    assert reporter is not None and reporter.telegram_language == "en"
