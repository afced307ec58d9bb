"""Text preparation for language detection.

Tips arrive from Telegram as free text: they may carry URLs, e-mail
addresses, @mentions, phone numbers, emoji, zero-width joiners, bidi marks,
NUL bytes or simply be enormous. None of that says anything about the
language, and some of it (URLs, e-mail addresses) actively misleads an
n-gram model, so this module reduces a text to the letters that matter and
reports which writing system they belong to.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

#: Only this many characters of the raw input are ever looked at. Language
#: evidence saturates after a few hundred letters, and a hard cap keeps a
#: 10 MB paste from stalling a worker thread.
MAX_INPUT_CHARS = 4000

#: Characters of cleaned text (words and the spaces between them) judged
#: at most; more adds cost without changing the decision.
MAX_MODEL_CHARS = 1000

_URL_RE = re.compile(r"(?:[a-z][a-z0-9+.-]{1,15}://|www\.)\S+", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Bare domains ("example.com", "t.me/abc"): a dotted token ending in a short
# ASCII label, possibly followed by a path.
_DOMAIN_RE = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6}\b(?:/\S*)?", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<!\w)@\w+")
# Apostrophes inside words carry signal (French "l'homme", English "don't");
# all the usual typographic variants are folded into the ASCII one.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

# Unicode script names (first word of the character name) that are folded
# together because the detector treats them as one writing system.
_SCRIPT_ALIASES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "HANGUL", "CJK": "CJK"}


#: How much more a non-Latin letter counts when picking the main script.
_NON_LATIN_WEIGHT = 2.0


@lru_cache(maxsize=8192)
def script_of(char: str) -> str:
    """Return the writing system of a letter ("LATIN", "CYRILLIC", ...).

    The first word of the Unicode character name is the script for every
    alphabet we care about; caching makes the lookup cost negligible.
    """
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "UNKNOWN"
    head = name.split(" ", 1)[0]
    return _SCRIPT_ALIASES.get(head, head)


@dataclass(frozen=True, slots=True)
class PreparedText:
    """A text reduced to its language-bearing parts."""

    #: Cleaned text: words separated by single spaces, original case kept
    #: (the langdetect profiles are case-sensitive).
    text: str
    #: Lower-cased words, used for the function-word lexicon.
    words: tuple[str, ...]
    #: Number of letters per script, e.g. {"LATIN": 42}.
    scripts: dict[str, int]
    #: Lower-cased letter counts, used for the alphabet signatures.
    letters: Counter[str]

    @property
    def letter_count(self) -> int:
        """Total number of letters in the cleaned text."""
        return sum(self.scripts.values())

    @property
    def main_script(self) -> str | None:
        """The script that dominates the text, or None for a letter-free text.

        Non-Latin letters count double: Greek, Russian or Arabic tips often
        quote Latin-script brand names ("iPhone", "Samsung Galaxy"), while
        a Latin-script tip almost never quotes Greek or Cyrillic words.
        """
        if not self.scripts:
            return None

        def weight(script: str) -> float:
            return self.scripts[script] * (1.0 if script == "LATIN" else _NON_LATIN_WEIGHT)

        # Ties are broken by name so the result never depends on dict order.
        return max(sorted(self.scripts), key=weight)


def _strip_invisible(text: str) -> str:
    """Drop format characters and turn control characters into spaces.

    Zero-width spaces/joiners and bidi marks (category Cf) may sit inside a
    word, so they are removed rather than replaced; control characters such
    as NUL or newlines separate words.
    """
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        out.append(" " if category in ("Cc", "Cs", "Co", "Cn") else char)
    return "".join(out)


def prepare(raw: str) -> PreparedText:
    """Clean ``raw`` and collect the features the detector needs."""
    text = _strip_invisible(raw[:MAX_INPUT_CHARS])
    # NFC so that "c" + combining caron compares equal to "č".
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    for pattern in (_URL_RE, _EMAIL_RE, _DOMAIN_RE, _MENTION_RE):
        text = pattern.sub(" ", text)

    words: list[str] = []
    budget = MAX_MODEL_CHARS
    for match in _WORD_RE.finditer(text):
        # Every source of evidence sees the same bounded prefix of the text.
        budget -= len(match.group()) + 1
        if budget < 0:
            break
        words.append(match.group())
    # Shouted text (all caps) would otherwise be skipped entirely by the
    # n-gram extraction, which ignores upper-case runs as acronyms.
    upper = sum(1 for w in words for c in w if c.isupper())
    total = sum(len(w) for w in words)
    if total and upper > 0.6 * total:
        words = [w.lower() for w in words]

    scripts: Counter[str] = Counter()
    letters: Counter[str] = Counter()
    for word in words:
        for char in word:
            if char.isalpha():
                scripts[script_of(char)] += 1
                # lower() may expand a letter ("İ" -> "i" + dot); keep the base.
                letters[char.lower()[0]] += 1
    return PreparedText(
        text=" ".join(words),
        words=tuple(w.lower() for w in words),
        scripts=dict(scripts),
        letters=letters,
    )
