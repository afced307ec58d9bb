"""Language detection for tips: n-gram evidence, lexicon, script and hints.

A tip is judged in four steps:

1. :mod:`~translations.detection.textprep` strips what carries no language
   signal (URLs, e-mail addresses, emoji, digits, invisible characters).
2. The dominant script narrows the candidates: Greek can only be ``el``,
   Arabic only ``ar``; Cyrillic leaves ``ru``/``uk``/``bg``; Latin the rest.
3. Within the candidates, evidence is summed in log space: langdetect's
   character n-gram model (tempered, because naive Bayes over overlapping
   n-grams is badly over-confident), hand-written function words, and
   alphabet signatures (a letter a language does not write counts against
   it).
4. The user's hints (chosen UI language, Telegram ``language_code``) enter
   as a prior. On one- or two-word texts the evidence is weighed less, so
   the hint decides unless the text clearly contradicts it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from translations.detection.lexicon import (
    ALPHABET_EXTRAS,
    FUNCTION_WORDS,
    HINT_ALIASES,
    RELATED_HINTS,
    SCRIPT_CORE,
    fold_for_lookup,
)
from translations.detection.ngrams import NgramModel, available_languages, extract_ngrams
from translations.detection.textprep import PreparedText, prepare, script_of

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "ro", "cs", "sk", "hu", "sv",
    "da", "fi", "el", "bg", "hr", "sl", "lt", "lv", "et", "uk", "ru", "tr", "ar",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Detection:
    """The outcome of detecting one text's language."""

    #: ISO 639-1 code from the detector's language set, or None when there
    #: is nothing to judge (no letters, or only letters of a script none of
    #: the supported languages is written in).
    language: str | None
    #: Posterior probability of ``language``, 0..1.
    confidence: float
    #: What decided: "no-text" (nothing to judge), "unsupported-script"
    #: (letters of a script no supported language uses), "script" (the
    #: script admits one language), "langdetect" (the n-gram model),
    #: "lexicon" (function words / alphabet overrode the n-gram model),
    #: "langdetect+hint" (the hint tipped the balance), "hint-short-text"
    #: (one- or two-word text, the hint decided) or "no-evidence" (no hint
    #: and nothing recognisable: the first candidate, at low confidence).
    rule: str


@dataclass(frozen=True, slots=True)
class Tuning:
    """Weights of the evidence combination (log-space, natural units).

    The defaults were set on the langid dev set as a handful of round
    numbers; they encode "how much to trust each source", not the data.
    """

    #: Multiplier of the n-gram log-likelihood (naive Bayes double-counts
    #: overlapping n-grams, so its raw margins are far too confident).
    ngram_weight: float = 0.2
    #: Log-odds added per function word of a language found in the text.
    function_word: float = 2.0
    #: Log-odds removed per foreign letter (counted up to twice each).
    foreign_letter: float = 3.0
    #: Prior log-odds of the first, second, ... hint over any other language.
    hint_strength: tuple[float, ...] = (4.0, 3.0)
    #: Reduction for a hint that only names a related language (bs -> hr).
    related_hint_penalty: float = 1.0
    #: Texts with at most this many words are "very short".
    short_words: int = 2
    #: Evidence multiplier for very short texts: the hint dominates.
    short_evidence: float = 0.8


_NO_TEXT = Detection(None, 0.0, "no-text")
_UNSUPPORTED = Detection(None, 0.0, "unsupported-script")
#: Confidence reported when the script alone leaves a single candidate.
_SCRIPT_CONFIDENCE = 0.99


@lru_cache(maxsize=256)
def normalise_hint(hint: str) -> str | None:
    """Reduce a language tag to a bare lower-case ISO 639-1 code.

    "pt-BR" -> "pt", "iw" -> "he", "ukr" -> "uk". Returns None for strings
    that are not language tags at all. Whether the code is supported is the
    caller's business.
    """
    primary = hint.strip().replace("_", "-").split("-", 1)[0].lower()
    if not primary.isascii() or not primary.isalpha() or not 2 <= len(primary) <= 3:
        return None
    if len(primary) == 3:
        primary = _alpha3_to_alpha2(primary) or primary
    return HINT_ALIASES.get(primary, primary)


@lru_cache(maxsize=256)
def _alpha3_to_alpha2(code: str) -> str | None:
    """Map an ISO 639-2/3 code to ISO 639-1 via pycountry (loaded lazily)."""
    # Imported here: its database is only worth loading for 3-letter hints.
    import pycountry

    try:
        language = pycountry.languages.lookup(code)
    except LookupError:
        return None
    alpha2: str | None = getattr(language, "alpha_2", None)
    return alpha2


class LanguageDetector:
    """Detects the language of short user texts among a fixed language set.

    Deterministic (no randomness at all: the n-gram model is evaluated
    exactly), thread-safe (the model is built once under a lock and only
    read afterwards) and lazy (nothing is loaded before the first call).
    """

    def __init__(
        self,
        languages: Sequence[str] = SUPPORTED_LANGUAGES,
        seed: int = 0,
        tuning: Tuning | None = None,
    ) -> None:
        """Prepare a detector for ``languages`` (ISO 639-1 codes).

        ``seed`` is kept for API compatibility with langdetect-style
        detectors; this one has no random component, so it does not change
        any result. Raises ValueError for an empty set or a language
        langdetect has no profile for.
        """
        codes = list(dict.fromkeys(code.strip().lower() for code in languages))
        if not codes:
            raise ValueError("at least one language is required")
        missing = sorted(set(codes) - available_languages())
        if missing:
            raise ValueError(f"langdetect has no profile for: {', '.join(missing)}")
        self.languages: tuple[str, ...] = tuple(codes)
        self.seed = seed
        self.tuning = tuning or Tuning()
        self._model: NgramModel | None = None
        self._alphabets: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------

    def _get_model(self) -> NgramModel:
        model = self._model
        if model is None:
            with self._lock:
                model = self._model
                if model is None:
                    model = NgramModel(self.languages)
                    # Hand-written alphabets where we have them, the profile's
                    # frequent letters for languages added later.
                    self._alphabets = {lang: ALPHABET_EXTRAS.get(lang, model.letters[lang]) for lang in self.languages}
                    self._model = model
        return model

    def warm_up(self) -> None:
        """Load the model now instead of on the first detection."""
        self._get_model()

    # -- public API ----------------------------------------------------------

    def detect(self, text: str, hints: Sequence[str | None] = ()) -> Detection:
        """Detect the language of ``text``.

        ``hints`` are languages the user is likely to write in, most
        trusted first (e.g. the chosen UI language, then Telegram's
        ``language_code``). None entries, region tags ("pt-BR") and codes
        outside the language set are handled.
        """
        model = self._get_model()
        prepared = prepare(text)
        script = prepared.main_script
        if script is None:
            return _NO_TEXT
        candidates = [i for i, lang in enumerate(self.languages) if script in model.scripts[lang]]
        if not candidates:
            return _UNSUPPORTED
        if len(candidates) == 1:
            return Detection(self.languages[candidates[0]], _SCRIPT_CONFIDENCE, "script")
        return self._decide(model, prepared, script, candidates, hints)

    def detect_many(self, items: Sequence[tuple[str, Sequence[str | None]]]) -> list[Detection]:
        """Detect several ``(text, hints)`` pairs; results keep the order."""
        return [self.detect(text, hints) for text, hints in items]

    # -- internals -------------------------------------------------------------

    def _decide(
        self,
        model: NgramModel,
        prepared: PreparedText,
        script: str,
        candidates: list[int],
        hints: Sequence[str | None],
    ) -> Detection:
        tuning = self.tuning
        ngram_scores, used = model.score(extract_ngrams(prepared.text))
        words = [fold_for_lookup(w) for w in prepared.words]
        short = len(words) <= tuning.short_words
        scale = tuning.short_evidence if short else 1.0

        evidence: dict[int, float] = {}
        ngram_only: dict[int, float] = {}
        for index in candidates:
            lang = self.languages[index]
            lexical = tuning.function_word * self._function_words(lang, words)
            lexical -= tuning.foreign_letter * self._foreign_letters(lang, script, prepared)
            ngram_only[index] = ngram_scores[index]
            evidence[index] = scale * (tuning.ngram_weight * ngram_scores[index] + lexical)

        prior = self._prior(hints, candidates)
        combined = {i: evidence[i] + prior.get(i, 0.0) for i in candidates}
        best = _argmax(combined)
        confidence = _softmax_at(combined, best)
        language = self.languages[best]

        top_hint = _argmax(prior) if prior else None
        if used == 0 and not any(evidence.values()):
            # Nothing either model recognises (e.g. only acronyms): the hint
            # is all there is; without one, admit that nothing decided.
            rule = "hint-short-text" if best == top_hint else "no-evidence"
        elif short and best == top_hint:
            rule = "hint-short-text"
        elif best != _argmax(evidence):
            rule = "langdetect+hint"
        elif best != _argmax(ngram_only):
            rule = "lexicon"
        else:
            rule = "langdetect"
        return Detection(language, round(confidence, 4), rule)

    def _function_words(self, lang: str, words: list[str]) -> int:
        vocabulary = FUNCTION_WORDS.get(lang)
        if not vocabulary:
            return 0
        hits = 0
        for word in words:
            if word in vocabulary:
                hits += 1
            elif "'" in word:
                # Elided articles and pronouns: "l'homme" -> "l'".
                head = word.split("'", 1)[0] + "'"
                hits += head in vocabulary
        return hits

    def _foreign_letters(self, lang: str, script: str, prepared: PreparedText) -> int:
        core = SCRIPT_CORE.get(script)
        if core is None:
            return 0
        own = self._alphabets[lang]
        foreign = 0
        for letter, count in prepared.letters.items():
            folded = fold_for_lookup(letter)
            if folded in core or folded in own or script_of(letter) != script:
                continue
            foreign += min(count, 2)
        return foreign

    def _prior(self, hints: Sequence[str | None], candidates: list[int]) -> dict[int, float]:
        """Log-prior bonus per candidate index from the user's hints."""
        tuning = self.tuning
        position = {self.languages[i]: i for i in candidates}
        prior: dict[int, float] = {}
        rank = 0
        for hint in hints:
            if not hint:
                continue
            code = normalise_hint(hint)
            if code is None:
                continue
            strength = tuning.hint_strength[min(rank, len(tuning.hint_strength) - 1)]
            if code not in self.languages and code in RELATED_HINTS:
                code = RELATED_HINTS[code]
                strength -= tuning.related_hint_penalty
            rank += 1
            index = position.get(code)
            if index is not None and strength > prior.get(index, 0.0):
                prior[index] = strength
        return prior


def _argmax(scores: dict[int, float]) -> int:
    # Ties go to the lowest index (the language listed first) so that the
    # answer never depends on floating-point noise in dict ordering.
    return max(sorted(scores), key=lambda i: scores[i])


def _softmax_at(scores: dict[int, float], index: int) -> float:
    top = max(scores.values())
    total = sum(math.exp(v - top) for v in scores.values())
    return math.exp(scores[index] - top) / total
