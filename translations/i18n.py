"""The bot's UI message catalogs (gettext `.po` files under `translations/locales/`).

Catalogs are compiled in memory from the `.po` sources at first use, so there is no
build step and no stale `.mo` file can ever be served.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import io
import threading
from functools import cached_property
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "tracebot"
SOURCE_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


# Telegram clients still send some legacy or macro-language codes.
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb", "iw": "he", "in": "id", "ji": "yi", "jw": "jv"}


def normalize_language(code: str | None) -> str | None:
    """`pt-BR` -> `pt`, `zh-hans` -> `zh`, `iw` -> `he`; None for empty input."""
    if not code:
        return None
    language = code.replace("_", "-").split("-", 1)[0].lower()
    return LANGUAGE_ALIASES.get(language, language) or None


class Catalogs:
    """All UI catalogs; `for_language` falls back to English for anything missing."""

    def __init__(self, locales_dir: Path = LOCALES_DIR, domain: str = DOMAIN) -> None:
        self._locales_dir = locales_dir
        self._domain = domain
        self._cache: dict[str, gettext.NullTranslations] = {}
        self._lock = threading.Lock()

    @cached_property
    def languages(self) -> tuple[str, ...]:
        """Languages with a catalog, English first."""
        found = {path.parent.parent.name for path in self._locales_dir.glob(f"*/LC_MESSAGES/{self._domain}.po")}
        return (SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE}))

    def fingerprint(self) -> str:
        """A digest of every catalog's source: it changes when any translation does (nothing is compiled)."""
        digest = hashlib.sha256()
        for language in self.languages:
            path = self._locales_dir / language / "LC_MESSAGES" / f"{self._domain}.po"
            digest.update(language.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
        return digest.hexdigest()

    def resolve(self, *candidates: str | None) -> str:
        """The first candidate language we have a catalog for, else English."""
        for candidate in candidates:
            language = normalize_language(candidate)
            if language in self.languages:
                return language
        return SOURCE_LANGUAGE

    def for_language(self, language: str) -> gettext.NullTranslations:
        language = self.resolve(language)
        with self._lock:
            if language not in self._cache:
                self._cache[language] = self._load(language)
            return self._cache[language]

    def _load(self, language: str) -> gettext.NullTranslations:
        path = self._locales_dir / language / "LC_MESSAGES" / f"{self._domain}.po"
        if not path.exists():
            return gettext.NullTranslations()
        with path.open("rb") as source:
            catalog = read_po(source, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)


@functools.cache
def native_name(language: str) -> str:
    """The language's name in itself, e.g. `de` -> `Deutsch` (kept: CLDR lookups are slow, turns ask often)."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def is_rtl(language: str) -> bool:
    return language in RTL_LANGUAGES
