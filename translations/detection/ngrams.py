"""langdetect's character n-gram model, evaluated exactly.

langdetect ships per-language frequency profiles of character 1- to 3-grams
and scores a text with naive Bayes, but it *samples* n-grams at random
until the posterior converges, repeated over 7 trials. That makes its answer
depend on a random seed and, on short texts, on luck. This module loads the
same profiles (only those of the languages asked for, which also keeps the
memory footprint small) and sums the log-likelihood of *every* n-gram of the
text: the deterministic limit of what langdetect approximates.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypedDict

from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.utils.ngram import NGram

from translations.detection.textprep import script_of

#: langdetect's additive smoothing (its ``alpha / BASE_FREQ``): the
#: probability given to an n-gram a language's profile does not contain.
SMOOTHING = 0.5 / 10000

#: A language "uses" a script when at least this share of its profile's
#: letters belongs to it (lets languages added later be matched to a
#: text's script without a hand-written table).
_SCRIPT_SHARE = 0.15

#: Profile file names that differ from the language code.
_PROFILE_NAMES = {"zh": "zh-cn"}


class _Profile(TypedDict):
    """The JSON layout of a langdetect profile file."""

    name: str
    freq: dict[str, int]
    n_words: list[int]


@lru_cache(maxsize=1)
def available_languages() -> frozenset[str]:
    """Language codes langdetect has a profile for."""
    names = {p.name for p in Path(PROFILES_DIRECTORY).iterdir() if not p.name.startswith(".")}
    reverse = {v: k for k, v in _PROFILE_NAMES.items()}
    return frozenset(reverse.get(name, name) for name in names)


@lru_cache(maxsize=4096)
def _normalise_char(char: str) -> str:
    """Map a character the way langdetect did when it built its profiles."""
    return str(NGram.normalize(char))


def extract_ngrams(text: str) -> list[str]:
    """Return the 1-, 2- and 3-grams of ``text`` as langdetect counts them.

    Each word is padded with a space on both sides; unigrams are letters,
    bi- and trigrams may include the padding. Words with two consecutive
    capitals (acronyms, codes) are skipped, as langdetect does, since they
    say little about the language of the sentence around them.
    """
    grams: list[str] = []
    for word in text.split():
        if any(a.isupper() and b.isupper() for a, b in itertools.pairwise(word)):
            continue
        padded = " " + "".join(_normalise_char(c) for c in word) + " "
        if " " in padded[1:-1]:
            padded = " " + padded[1:-1].replace(" ", "") + " "
        size = len(padded)
        grams.extend(padded[1:-1])
        grams.extend(padded[i : i + 2] for i in range(size - 1))
        grams.extend(padded[i : i + 3] for i in range(size - 2))
    return grams


class NgramModel:
    """Naive-Bayes scorer over langdetect profiles for a fixed language list."""

    __slots__ = ("_table", "languages", "letters", "scripts")

    def __init__(self, languages: Sequence[str], smoothing: float = SMOOTHING) -> None:
        self.languages: tuple[str, ...] = tuple(languages)
        # n-gram -> ((language index, log-likelihood gain over smoothing), ...)
        # Sparse, because most n-grams occur in a handful of profiles; an
        # absent language implicitly scores log(smoothing), a shared constant.
        self._table: dict[str, tuple[tuple[int, float], ...]] = {}
        #: Scripts each language is written in, derived from its profile.
        self.scripts: dict[str, frozenset[str]] = {}
        #: Lower-case letters each profile uses with some regularity: the
        #: fallback alphabet for languages the lexicon has no entry for.
        self.letters: dict[str, frozenset[str]] = {}
        entries: dict[str, list[tuple[int, float]]] = {}
        base = math.log(smoothing)
        for index, lang in enumerate(self.languages):
            profile = _load_profile(lang)
            freq = profile["freq"]
            n_words = profile["n_words"]
            for gram, count in freq.items():
                if not 1 <= len(gram) <= 3:
                    continue
                prob = count / n_words[len(gram) - 1]
                entries.setdefault(gram, []).append((index, math.log(prob + smoothing) - base))
            self.scripts[lang] = _profile_scripts(freq)
            self.letters[lang] = _profile_letters(freq)
        self._table = {gram: tuple(pairs) for gram, pairs in entries.items()}

    def score(self, grams: Iterable[str]) -> tuple[list[float], int]:
        """Log-likelihood per language (up to a shared constant), n-grams used."""
        totals = [0.0] * len(self.languages)
        used = 0
        table = self._table
        for gram in grams:
            pairs = table.get(gram)
            if pairs is None:
                continue
            used += 1
            for index, gain in pairs:
                totals[index] += gain
        return totals, used


def _load_profile(lang: str) -> _Profile:
    path = Path(PROFILES_DIRECTORY) / _PROFILE_NAMES.get(lang, lang)
    if not path.is_file():
        raise ValueError(f"langdetect has no profile for language {lang!r}")
    with path.open(encoding="utf-8") as handle:
        data: _Profile = json.load(handle)
    return data


def _profile_scripts(freq: dict[str, int]) -> frozenset[str]:
    """Scripts that make up a sizeable share of a profile's letters."""
    per_script: dict[str, int] = {}
    for gram, count in freq.items():
        if len(gram) == 1 and gram.isalpha():
            script = script_of(gram)
            per_script[script] = per_script.get(script, 0) + count
    total = sum(per_script.values()) or 1
    return frozenset(s for s, n in per_script.items() if n / total >= _SCRIPT_SHARE)


def _profile_letters(freq: dict[str, int]) -> frozenset[str]:
    """Letters making up at least 0.1 % of a profile's letters."""
    singles: dict[str, int] = {}
    for gram, count in freq.items():
        if len(gram) == 1 and gram.isalpha():
            singles[gram.lower()] = singles.get(gram.lower(), 0) + count
    total = sum(singles.values()) or 1
    return frozenset(c for c, n in singles.items() if n / total >= 1e-3)
