"""Telegram's HTML parse mode as the emulator implements it."""

from __future__ import annotations

import pytest

from emulator.errors import ApiError
from emulator.textparse import check_entities, parse_html, trim, utf16_len
from emulator.validation import message_text


def entities(source: str) -> list[tuple[str, int, int]]:
    return [(e["type"], e["offset"], e["length"]) for e in parse_html(source).entities]


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("مرحبا") == 5


def test_nested_tags_and_offsets() -> None:
    parsed = parse_html("<b>bold <i>both</i></b> 😀 <u>u</u>")
    assert parsed.text == "bold both 😀 u"
    assert sorted(entities("<b>bold <i>both</i></b> 😀 <u>u</u>")) == [
        ("bold", 0, 9),
        ("italic", 5, 4),
        ("underline", 13, 1),
    ]


def test_character_references_and_lone_ampersand() -> None:
    parsed = parse_html("a &lt;b&gt; &amp; &quot;c&quot; &#65;&#x42; & d &nbsp;")
    assert parsed.text == 'a <b> & "c" AB & d &nbsp;'


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('<a href="https://x.org/?a=1&amp;b=2">l</a>', {"type": "text_link", "url": "https://x.org/?a=1&b=2"}),
        ('<span class="tg-spoiler">s</span>', {"type": "spoiler"}),
        ("<tg-spoiler>s</tg-spoiler>", {"type": "spoiler"}),
        ('<pre><code class="language-python">x = 1</code></pre>', {"type": "pre", "language": "python"}),
        ("<blockquote expandable>q</blockquote>", {"type": "expandable_blockquote"}),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', {"type": "custom_emoji"}),
        ("<STRONG>x</STRONG>", {"type": "bold"}),
    ],
)
def test_tag_variants(source: str, expected: dict[str, str]) -> None:
    (entity,) = parse_html(source).entities
    assert expected.items() <= entity.items()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("é <x>", 'Unsupported start tag "x" at byte offset 3'),  # byte offsets, not characters
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_errors_match_telegram(source: str, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.error_code == 400
    assert caught.value.description == f"Bad Request: can't parse entities: {message}"


def test_trim_shifts_and_clips_entities() -> None:
    trimmed = trim(parse_html("\n  <b> hi </b>\n"))
    assert trimmed.text == "hi"
    assert [(e["type"], e["offset"], e["length"]) for e in trimmed.entities] == [("bold", 0, 2)]


def test_explicit_entities_win_over_parse_mode_and_are_clipped() -> None:
    parsed = message_text("<b>x</b>", "HTML", [{"type": "italic", "offset": 1, "length": 50}])
    assert parsed.text == "<b>x</b>"
    assert parsed.entities == [{"type": "italic", "offset": 1, "length": 7}]
    with pytest.raises(ApiError, match="unsupported type"):
        check_entities([{"type": "blink", "offset": 0, "length": 1}], "x")


def test_message_text_limits_count_after_parsing() -> None:
    assert len(message_text("<b>" + "x" * 4096 + "</b>", "HTML", None).text) == 4096
    with pytest.raises(ApiError, match="message is too long"):
        message_text("x" * 4097, None, None)
    with pytest.raises(ApiError, match="message text is empty"):
        message_text("<b> </b>", "HTML", None)
