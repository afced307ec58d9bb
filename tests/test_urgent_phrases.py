"""Disclosure wording: the reviewed examples match, everyday text never does (precision over recall)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from translations.safety.phrases import find_disclosure, fold, parse_phrase_book, phrase_book

REPO_ROOT = Path(__file__).resolve().parents[1]
# Catalog entries that are themselves about a child in danger (the urgent path's own wording).
URGENT_MSGIDS = {
    "Report a child in danger",
    "I know of a child in danger",
    "<b>If a child is in danger now, call your local emergency number.</b>",
    "<b>If a child is in danger now, call {number}.</b>",
}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("My uncle is abusing my cousin", "en"),
        ("A kid is in danger, please help", "en"),
        ("Ich kenne das Mädchen auf dem Foto", "de"),
        ("MI PADRASTRO ABUSA DE MI HERMANA", "es"),  # shouting, no accents needed either way
        ("mi padrastro abusa de mi hermana", "es"),
        ("Mój ojczym molestuje moją siostrę", "pl"),
        ("Moj ojczym molestuje moja siostre", "pl"),  # typed without Polish letters
        ("Ребенок в опасности!", "ru"),
        ("这个孩子有危险", "zh"),
    ],
)
def test_disclosures_in_several_languages(text: str, language: str) -> None:
    match = find_disclosure(text)
    assert match is not None and match.language == language


def test_every_reviewed_example_matches() -> None:
    book = phrase_book()
    assert len({language for language, _ in book.examples}) >= 10
    assert [example for example in book.examples if find_disclosure(example[1]) is None] == []


@pytest.mark.parametrize(
    "text",
    [
        "my child likes this mug",
        "My child likes this mug, it is in danger of falling off the shelf",
        "Mi niña tiene la misma taza",
        "Mein Kind hat genau diese Tasse",
        "Moje dziecko ma taki sam kubek",
        "I know this curtain, my mother had it",
        # Idioms that share a verb with a disclosure pattern ("abuse" of power, trust, patience).
        "He was abusing his power at the office",
        "abusing her position",
        "Es un abuso de mi paciencia",
        "Il abuse de ma patience",
        "Ele abusa da minha confiança",
        "Er missbraucht seine Macht",
        "Hij misbruikt zijn macht",
        "Der Lärm belästigt mich",
        "Ça m'a touché, merci",
        "Mi ha toccato il cuore",
        "abuse",  # one word is never enough
        "",
    ],
)
def test_harmless_sentences_sharing_words_do_not_match(text: str) -> None:
    assert find_disclosure(text) is None


def _dev_set() -> Path:
    env = os.environ.get("LANGID_DEV")
    candidates = (
        [Path(env)] if env else [REPO_ROOT.parent / "shared" / "langid-dev", REPO_ROOT / "shared" / "langid-dev"]
    )
    for path in candidates:
        if path.is_dir():
            return path
    if os.environ.get("CI"):
        pytest.fail(f"langid dev set not found at {candidates} (set LANGID_DEV)")
    pytest.skip(f"langid dev set not found at {candidates} (set LANGID_DEV)")


def test_no_match_in_the_language_identification_dev_set() -> None:
    """Everyday sentences and word pairs in 26 languages: no false alarm at all."""
    texts = [line for path in sorted(_dev_set().glob("**/*.txt")) for line in path.read_text("utf-8").splitlines()]
    assert len(texts) > 5000
    assert [(text, match) for text in texts if (match := find_disclosure(text)) is not None] == []


def test_no_match_in_the_bot_catalogs() -> None:
    """The appeal's own words (which tipsters quote: "victims of child sexual abuse") are no disclosure."""
    texts: list[str] = []
    for catalog in sorted((REPO_ROOT / "translations" / "locales").glob("*/LC_MESSAGES/tracebot.po")):
        with catalog.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.id not in URGENT_MSGIDS and isinstance(message.string, str):
                    texts += [message.id, message.string]
    assert len(texts) > 2000
    assert [(text, match) for text in texts if (match := find_disclosure(text)) is not None] == []


def test_matching_is_on_whole_words_and_normalised() -> None:
    assert fold("ＮＩÑＯ") == "nino"  # NFKC (full width), casefold, accents
    assert find_disclosure("The kid is in dangerous territory") is None  # "dangerous" is not "danger"
    assert find_disclosure("childish in danger") is None
    assert find_disclosure("Mój ojczym molestował moją siostrę") is not None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[languages.en]\nphrases = ["abuse"]', "at least two words"),
        ('[languages.en]\nphrases = ["ab* me"]', "too short"),
        ("[languages.en\n", "Expected"),
    ],
)
def test_a_bad_phrase_file_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_phrase_book(text)
