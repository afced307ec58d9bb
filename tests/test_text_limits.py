"""Any text Telegram accepts as a message gets a preview, a Send button and a reference.

Before: the preview was cut at 4,000 Python characters of HTML, but Telegram counts UTF-16 code
units after entity parsing (4,096; captions 1,024), so a 2,000-emoji tip got no preview and the
conversation sat at `preview`; a cut could also fall inside a tag or a character reference.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from emulator import BotApiEmulator
from emulator.textparse import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, parse_html, utf16_len
from handlers.telegram_text import ELLIPSIS, quote, shorten, utf16_length, visible_length
from storage.models import Tip
from tests.support.flows import REFERENCE, opt_in
from tests.support.harness import RunningBot, make_settings, running_bot

T = TypeVar("T")
MAX_TIP = 4000  # the highest MAX_TIP_LENGTH allows: the longest texts reach the preview

# Pieces that make Telegram's counting differ from Python's, or that HTML could trip over.
PIECES = [
    "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇩🇪", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠜎",  # astral: two UTF-16 units each
    "e\u0301", "n\u0303\u0323", "क्षि", "ก\u0e34\u0e4a",  # combining marks
    "שלום", "مرحبا", "\u200f", "\u202e", "\u2067abc\u2069",  # right-to-left and bidi controls
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060",  # zero-width
    "<b>", "</i>", "&amp;", "&lt;", "&#128512;", "&", "<", ">", '"', "'",  # markup lookalikes
    " ", "\n", "\t", "word", "Leipzig", "+49 170 1234567", "\x00",
]  # fmt: skip
piece = st.one_of(st.sampled_from(PIECES), st.text(st.characters(exclude_categories=("Cs",)), max_size=12))


def clip(text: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """At most `limit` UTF-16 units, as a Telegram client would let a user send."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


@st.composite
def message_texts(draw: st.DrawFn) -> str:
    """Texts a user can send as a message (not a command): short ones, and long ones up to the limit."""
    unit = "".join(draw(st.lists(piece, min_size=1, max_size=12)))
    repeat = draw(st.sampled_from([1, 1, 2, 10, 100, 1000, 5000]))
    return clip(unit * repeat)


def sendable(text: str) -> bool:
    visible = text.replace("\x00", "").strip()
    return bool(visible) and not text.startswith("/")


# -- the helpers, against the emulator's copy of Telegram's parser ---------------------------------


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=message_texts(), limit=st.integers(min_value=0, max_value=MAX_TEXT_LENGTH))
def test_quoted_text_always_fits_and_parses(text: str, limit: int) -> None:
    text = text.replace("\x00", "")
    shortened = shorten(text, limit)
    assert utf16_length(shortened) <= limit
    if utf16_length(text) <= limit:
        assert shortened == text
    elif shortened:
        assert shortened.endswith(ELLIPSIS) and text.startswith(shortened[: -len(ELLIPSIS)])
    markup = f"<b>Tip</b>\n\nWhat you told us: {quote(text, limit)}"
    parsed = parse_html(markup)  # raises on a broken tag or reference
    assert parsed.text == f"Tip\n\nWhat you told us: {shortened}"
    assert visible_length(markup) == utf16_len(parsed.text)


def test_cuts_keep_marks_and_joiners_with_their_base() -> None:
    assert shorten("e\u0301" * 10, 6) == "e\u0301e\u0301" + ELLIPSIS
    assert shorten("👨\u200d👩\u200d👧" * 3, 10) == "👨\u200d👩\u200d👧" + ELLIPSIS
    assert shorten("ab👍🏽cd", 5) == "ab" + ELLIPSIS
    assert utf16_length("😀" * 2000) == 4000 and shorten("😀" * 2000, 4001) == "😀" * 2000


def test_object_card_caption_fits_1024() -> None:
    from types import SimpleNamespace

    from handlers.browse import caption
    from storage.records import ObjectRecord

    turn: Any = SimpleNamespace(gettext=lambda message: message, language="en")
    obj = ObjectRecord(1, "TAO-0001", "🏺<vase>&" * 400, "💡 hint " * 200, "x.png", None, "active")
    text = caption(turn, obj)
    parsed = parse_html(text)
    assert utf16_len(parsed.text) <= MAX_CAPTION_LENGTH
    assert parsed.text.startswith("TAO-0001\n\n🏺<vase>&") and parsed.text.endswith("simply write to me.")


# -- end to end: preview and Send on both databases --------------------------------------------------


async def one_tip(bot: RunningBot, emulator: BotApiEmulator, user_id: int, text: str) -> None:
    user = await opt_in(emulator, user_id)
    expected = text.replace("\x00", "").strip()
    await user.send_text(text)
    if len(expected) > MAX_TIP:
        await user.wait_for_message(lambda message: "too long" in message.plain_text)
        return
    question = await user.wait_for_message(lambda message: "which country" in message.plain_text.lower())
    await user.press_data(question.message_id, "cty:DE")
    preview = await user.wait_for_message(lambda message: "✅ Send" in message.button_labels)
    shown = preview.plain_text
    assert utf16_len(shown) <= MAX_TEXT_LENGTH
    told = shown.split("What you told us: ", 1)[1]
    if expected not in told:
        cut = told[: told.index(ELLIPSIS)]
        assert cut and expected.startswith(cut), (cut[:50], expected[:50])
    await user.press("✅ Send")
    confirmation = await user.wait_for_message(lambda message: REFERENCE.search(message.plain_text) is not None)
    match = REFERENCE.search(confirmation.plain_text)
    assert match is not None
    async with bot.services.database.session_factory() as session:
        stored = await session.scalar(select(Tip.text_original).where(Tip.id == int(match.group()[2:])))
    assert stored == expected


async def test_any_message_text_reaches_preview_and_send(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    settings = make_settings(database_url, emulator, tmp_path / "media", max_tip_length=MAX_TIP)
    async with running_bot(settings, catalog_dir=tmp_path / "catalog") as bot:
        loop = asyncio.get_running_loop()
        user_ids = itertools.count(7_500_000)

        def run(coroutine: Coroutine[Any, Any, T]) -> T:
            return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

        # A fresh reporter per example keeps examples independent (and under the flood guard).
        @hypothesis_settings(
            max_examples=40,
            deadline=None,
            derandomize=True,  # the same texts on every run: reproducible in CI
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        )
        @given(text=message_texts().filter(sendable))
        @example(text="😀" * 2000)  # the report: no preview, no Send, no message
        @example(text="e\u0301" * 2000)
        @example(text="<&>" * 1365)
        @example(text="a\x00b 👨\u200d👩\u200d👧 שלום \u200b")
        def preview_and_send(text: str) -> None:
            run(one_tip(bot, emulator, next(user_ids), text))

        await asyncio.to_thread(preview_and_send)
