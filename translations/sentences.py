"""Offline sentence splitting for translation.

Translation models are trained on single sentences, so a multi-sentence tip is split
before translating and re-joined afterwards. argostranslate delegates this to MiniSBD
or stanza, which download models at first use; this splitter is a few regexes, needs
nothing, and is good enough for short user messages.

Rules:
* every line break ends a sentence (and is kept in the output);
* `. ! ? …` (and their Arabic, CJK, Indic, Ethiopic and Armenian counterparts), plus
  any closing quotes/brackets after them, end a sentence when whitespace follows -
  CJK/fullwidth terminators also without whitespace;
* no split when the next word starts with a lower-case letter, which keeps most
  abbreviations ("z.B. am", "e.g. the", "approx. ten") and ellipses in one sentence,
  nor after initials and a few titles ("J. Smith", "Dr. Weber", "Nr. 5").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Terminators that are followed by a space in their scripts.
_SPACED_TERMINATORS = ".!?…‼⁇⁈⁉؟۔।॥።։"
# Terminators of scripts written without spaces between sentences.
_UNSPACED_TERMINATORS = "。！？．｡"
_CLOSERS = "\"'”’“‘»)]}」』】〉》›"

_BOUNDARY = re.compile(
    rf"[{re.escape(_SPACED_TERMINATORS)}]+[{re.escape(_CLOSERS)}]*(?P<space>[^\S\n]+)"
    rf"|[{re.escape(_UNSPACED_TERMINATORS)}]+[{re.escape(_CLOSERS)}]*(?P<cjk_space>[^\S\n]*)"
)
_LINE_BREAKS = re.compile(r"[^\S\n]*\n\s*")
_LAST_WORD = re.compile(r"(\w+)$")
# Words that are usually followed by a full stop and a capitalised name or number.
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "nr", "no", "vs", "ca", "jr", "sr", "str", "mt", "hr", "fr"}
)


@dataclass(frozen=True)
class Sentence:
    """One sentence and the separator that followed it in the original text."""

    text: str
    separator: str  # "" after the last sentence, newlines kept as they were, else " "


def split_sentences(text: str) -> list[Sentence]:
    """Split `text` into sentences; an empty or blank text gives an empty list."""
    stripped = text.strip()
    sentences: list[Sentence] = []
    position = 0
    while position < len(stripped):
        line_break = _LINE_BREAKS.search(stripped, position)
        line_end = line_break.start() if line_break else len(stripped)
        parts = _split_line(stripped[position:line_end])
        for index, part in enumerate(parts):
            last_in_line = index == len(parts) - 1
            separator = _newlines(line_break.group()) if line_break and last_in_line else " "
            sentences.append(Sentence(part, separator))
        position = line_break.end() if line_break else len(stripped)
    if sentences:
        sentences[-1] = Sentence(sentences[-1].text, "")
    return sentences


def join_sentences(sentences: list[Sentence], translations: list[str]) -> str:
    """Re-join translated sentences with the separators of the originals."""
    pieces: list[str] = []
    for sentence, translation in zip(sentences, translations, strict=True):
        pieces.append(translation.strip())
        pieces.append(sentence.separator)
    return "".join(pieces).strip()


def _newlines(separator: str) -> str:
    # Keep paragraph structure (one or more line breaks) but drop surrounding blanks.
    return "\n" * separator.count("\n")


def _split_line(line: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(line):
        end = match.end()
        if end >= len(line):
            break
        if line[end].islower() or _is_abbreviation(line, match):
            continue  # probably an abbreviation or an ellipsis mid-sentence
        space = match.group("space") or match.group("cjk_space") or ""
        parts.append(line[start : end - len(space)])
        start = end
    parts.append(line[start:])
    return [part.strip() for part in parts if part.strip()]


def _is_abbreviation(line: str, match: re.Match[str]) -> bool:
    if not match.group().startswith(".") or match.group().startswith(".."):
        return False
    word = _LAST_WORD.search(line, 0, match.start())
    if word is None:
        return False
    text = word.group(1)
    return (len(text) == 1 and text.isalpha()) or text.lower() in _ABBREVIATIONS
