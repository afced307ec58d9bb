"""Recognise disclosure and emergency wording in free text, from the reviewed `phrases.toml`.

Matching is on whole words after NFKC, casefold and accent folding, so a pattern can only match a
run of complete words in order: "child in danger" never matches "my child likes this mug".
Every language's patterns are tried on every text: a tipster may write in another language than
the one their interface uses, and the patterns are specific enough not to collide.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PHRASES_FILE = Path(__file__).with_name("phrases.toml")
# Letters NFKD does not decompose but people often type without their mark.
_LETTERS = str.maketrans({"ł": "l", "đ": "d", "ı": "i", "ø": "o", "ħ": "h", "ŀ": "l", "œ": "oe", "æ": "ae"})
_WORD = re.compile(r"\w+")
_MAX_SCANNED = 8000  # characters: far above the tip limit, bounds the work on forged input


def fold(text: str) -> str:
    """Casefolded, accent-free text (the form both patterns and messages are compared in)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True, slots=True)
class Pattern:
    """One phrase: at each position, the accepted words (a trailing `*` accepts any ending)."""

    language: str
    source: str
    slots: tuple[tuple[str, ...], ...]

    def _accepts(self, slot: tuple[str, ...], word: str) -> bool:
        return any(word.startswith(option[:-1]) if option.endswith("*") else word == option for option in slot)

    def matches_at(self, text_words: list[str], start: int) -> bool:
        if start + len(self.slots) > len(text_words):
            return False
        return all(self._accepts(slot, text_words[start + index]) for index, slot in enumerate(self.slots))


@dataclass(frozen=True, slots=True)
class Match:
    language: str
    phrase: str


@dataclass(frozen=True, slots=True)
class PhraseBook:
    patterns: tuple[Pattern, ...]
    substrings: tuple[tuple[str, str, str], ...]  # (language, pattern as written, folded pattern)
    examples: tuple[tuple[str, str], ...]  # (language, text that must match)
    # Patterns by the exact words their first slot accepts; those starting with a `*` word are tried everywhere.
    _by_first_word: dict[str, list[Pattern]] = field(init=False, repr=False)
    _open_start: list[Pattern] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_first_word: dict[str, list[Pattern]] = {}
        open_start: list[Pattern] = []
        for pattern in self.patterns:
            if any(option.endswith("*") for option in pattern.slots[0]):
                open_start.append(pattern)
                continue
            for option in pattern.slots[0]:
                by_first_word.setdefault(option, []).append(pattern)
        object.__setattr__(self, "_by_first_word", by_first_word)
        object.__setattr__(self, "_open_start", open_start)

    def find(self, text: str) -> Match | None:
        """The first disclosure pattern found in `text`, or None."""
        text = text[:_MAX_SCANNED]
        text_words = words(text)
        for start, word in enumerate(text_words):
            for pattern in (*self._by_first_word.get(word, ()), *self._open_start):
                if pattern.matches_at(text_words, start):
                    return Match(pattern.language, pattern.source)
        compact = "".join(fold(text).split())
        for language, source, folded in self.substrings:
            if folded in compact:
                return Match(language, source)
        return None


def _slot(token: str, source: str) -> tuple[str, ...]:
    options = []
    for option in token.split("|"):
        folded = "".join(words(option.removesuffix("*")))
        if not folded or (option.endswith("*") and len(folded) < 4):
            raise ValueError(f"phrase {source!r}: {option!r} is empty or too short to take any ending")
        options.append(folded + ("*" if option.endswith("*") else ""))
    return tuple(options)


def parse_phrase_book(text: str) -> PhraseBook:
    """Parse and check a phrase file (raises ValueError naming the bad entry)."""
    data = tomllib.loads(text)
    patterns: list[Pattern] = []
    substrings: list[tuple[str, str, str]] = []
    examples: list[tuple[str, str]] = []
    for language, entry in data.get("languages", {}).items():
        continuous = bool(entry.get("continuous", False))
        for source in entry.get("phrases", []):
            if continuous:
                folded = "".join(fold(source).split())
                if len(folded) < 2:
                    raise ValueError(f"{language}: phrase {source!r} is too short")
                substrings.append((language, source, folded))
                continue
            slots = tuple(_slot(token, source) for token in source.split())
            if len(slots) < 2:  # one word alone is never specific enough (see the file's header)
                raise ValueError(f"{language}: phrase {source!r} needs at least two words")
            patterns.append(Pattern(language, source, slots))
        examples.extend((language, example) for example in entry.get("examples", []))
    return PhraseBook(tuple(patterns), tuple(substrings), tuple(examples))


@cache
def phrase_book() -> PhraseBook:
    return parse_phrase_book(PHRASES_FILE.read_text(encoding="utf-8"))


def find_disclosure(text: str) -> Match | None:
    """Whether `text` reads like a disclosure of abuse or a child in danger (see the module docstring)."""
    return phrase_book().find(text)
