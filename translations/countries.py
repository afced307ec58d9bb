"""Country names: localized display (Babel/CLDR) and typed-name normalization to ISO 3166."""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cache

import pycountry
from babel import Locale
from babel.core import get_global

# Languages whose CLDR country names we accept as typed input, beyond the user's own.
NAME_LANGUAGES = ("en de fr es it pt nl pl ro cs sk hu sv da fi el bg hr sl lt lv et uk ru tr ar").split()

# Shown first in the country keyboard after the user's own likely country.
COMMON_COUNTRIES = ("DE", "FR", "ES", "IT", "PL", "NL", "GB", "US", "RO", "UA", "RU", "TR")

# Everyday names that neither ISO nor CLDR spell out.
_EXTRA_ALIASES = {
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "britain": "GB",
    "great britain": "GB",
    "holland": "NL",
    "turkey": "TR",
    "turkiye": "TR",
    "usa": "US",
    "america": "US",
    "the states": "US",
}


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form for matching typed names."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@cache
def _territory_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_country_code(code: str) -> bool:
    """Whether `code` is an ISO 3166-1 alpha-2 code (`DE`; not `ZZ`, not `de`)."""
    return code in _territory_codes()


@cache
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    codes = _territory_codes()
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name", "alpha_3"):
            value = getattr(country, attribute, None)
            if value:
                index.setdefault(_fold(value), country.alpha_2)
    for language in NAME_LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if code in codes:
                index.setdefault(_fold(name), code)
    for alias, code in _EXTRA_ALIASES.items():
        index[_fold(alias)] = code
    return index


def normalize_country(text: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a typed country name in any supported language, or None."""
    folded = _fold(text)[:80]
    if not folded:
        return None
    index = _name_index()
    if folded in index:
        return index[folded]
    if len(folded) == 2 and folded.upper() in _territory_codes():
        return folded.upper()
    for prefix in ("the ", "republic of ", "la ", "el ", "le ", "il "):
        if folded.startswith(prefix) and folded.removeprefix(prefix) in index:
            return index[folded.removeprefix(prefix)]
    if len(folded) >= 4:
        close = difflib.get_close_matches(folded, list(index), n=1, cutoff=0.86)
        if close:
            return index[close[0]]
    return None


def country_name(code: str, language: str) -> str:
    """The country's name in the user's language (CLDR), falling back to English/ISO."""
    for locale in (language, "en"):
        try:
            name = Locale.parse(locale).territories.get(code)
        except (ValueError, TypeError):
            name = None
        if name:
            return str(name)
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def flag(code: str) -> str:
    """Regional-indicator emoji flag for an alpha-2 code."""
    if len(code) != 2 or not code.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in code.upper())


def likely_country(language: str) -> str | None:
    """The territory CLDR considers most likely for a language (`de` -> `DE`, `en` -> `US`)."""
    likely = get_global("likely_subtags").get(language)
    if not likely:
        return None
    territory = likely.split("_")[-1]
    return territory if len(territory) == 2 and territory.isalpha() else None


def suggested_countries(language: str, count: int = 8) -> list[str]:
    """Country buttons for a user: their language's country first, then common ones."""
    first = likely_country(language)
    ordered = [first] if first else []
    ordered += [code for code in COMMON_COUNTRIES if code != first]
    return ordered[:count]
