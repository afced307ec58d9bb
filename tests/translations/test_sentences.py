"""The offline sentence splitter and the engine's long-sentence chunking."""

from __future__ import annotations

import pytest

from translations.engine import _chunk_pieces
from translations.sentences import Sentence, join_sentences, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("  \n ", []),
        ("Hallo", ["Hallo"]),
        ("Der Hund. Die Katze! Wer? Ja… Nein", ["Der Hund.", "Die Katze!", "Wer?", "Ja…", "Nein"]),
        ("Er sagte „Stopp.“ Dann ging er.", ["Er sagte „Stopp.“", "Dann ging er."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("z.B. das Auto. Dann?", ["z.B. das Auto.", "Dann?"]),
        (
            "It cost 3.50 EUR. ok... fine. Dr. Weber saw J. Smith.",
            ["It cost 3.50 EUR. ok... fine.", "Dr. Weber saw J. Smith."],
        ),
        ("我看见了。你好！好", ["我看见了。", "你好！", "好"]),
        ("مرحبا؟ كيف حالك", ["مرحبا؟", "كيف حالك"]),
        ("नमस्ते। आप कैसे हैं", ["नमस्ते।", "आप कैसे हैं"]),
        ("Eins.\n\n  Zwei. Drei\r\nVier", ["Eins.", "Zwei.", "Drei", "Vier"]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


def test_line_breaks_survive_the_round_trip() -> None:
    sentences = split_sentences("  Eins. Zwei!\n\n\nDrei\r\nVier.  ")
    assert sentences == [
        Sentence("Eins.", " "),
        Sentence("Zwei!", "\n\n\n"),
        Sentence("Drei", "\n"),
        Sentence("Vier.", ""),
    ]
    assert join_sentences(sentences, ["One.", "Two!", "Three", "Four."]) == "One. Two!\n\n\nThree\nFour."


def test_sentences_without_spaces_are_joined_with_one() -> None:
    sentences = split_sentences("你好！再见。")
    assert join_sentences(sentences, ["Hello!", "Bye."]) == "Hello! Bye."


def test_chunking_prefers_word_starts() -> None:
    pieces = ["▁a", "b", "c", "▁d", "e", "▁f", "▁g", "h", "i", "j", "k"]
    assert _chunk_pieces(pieces, 4) == [["▁a", "b", "c"], ["▁d", "e", "▁f"], ["▁g", "h", "i", "j"], ["k"]]
    assert _chunk_pieces(pieces, 20) == [pieces]
    assert _chunk_pieces([], 3) == []
