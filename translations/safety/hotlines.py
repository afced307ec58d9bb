"""Emergency and child-protection contacts per country, from `hotlines.toml` and the operator's own file."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

from translations.countries import is_country_code

HOTLINES_FILE = Path(__file__).with_name("hotlines.toml")
_PHONE = r"^\+?[0-9][0-9 -]{0,18}[0-9]$"


class HotlinesError(ValueError):
    """A hotlines file is unreadable or malformed; the message is one line naming the entry."""


class CountryContacts(BaseModel):
    """What a tipster in one country is shown: who to call now, and where else to turn."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    emergency: Annotated[str, Field(pattern=_PHONE)]
    child_helpline: Annotated[str | None, Field(pattern=_PHONE)] = None
    hotline_url: HttpUrl | None = None
    sources: Annotated[list[HttpUrl], Field(min_length=1)]
    last_checked: date

    @field_validator("hotline_url", "sources")
    @classmethod
    def _https(cls, value: HttpUrl | list[HttpUrl] | None) -> HttpUrl | list[HttpUrl] | None:
        for url in value if isinstance(value, list) else [value]:
            if url is not None and url.scheme != "https":
                raise ValueError("links must be https")
        return value


class HotlineFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    countries: dict[str, CountryContacts]

    @field_validator("countries")
    @classmethod
    def _iso_codes(cls, value: dict[str, CountryContacts]) -> dict[str, CountryContacts]:
        wrong = sorted(code for code in value if not (re.fullmatch(r"[A-Z]{2}", code) and is_country_code(code)))
        if wrong:
            raise ValueError(f"not ISO 3166-1 alpha-2 codes: {', '.join(wrong)}")
        return value


def parse_hotlines(text: str, name: str) -> dict[str, CountryContacts]:
    """The entries of one hotlines file; `HotlinesError` with one readable line if it is malformed."""
    try:
        return HotlineFile.model_validate(tomllib.loads(text)).countries
    except tomllib.TOMLDecodeError as exc:
        raise HotlinesError(f"{name}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise HotlinesError(f"{name}: {where}: {error['msg'].removeprefix('Value error, ')}") from None


class Hotlines:
    """The bundled contacts, with the operator's file (if any) replacing entries country by country."""

    def __init__(self, override: Path | None = None) -> None:
        self._countries = dict(bundled_hotlines())
        if override is not None:
            try:
                text = override.read_text(encoding="utf-8")
            except OSError as exc:
                raise HotlinesError(f"{override}: cannot be read ({exc.strerror})") from None
            self._countries.update(parse_hotlines(text, str(override)))

    def for_country(self, code: str | None) -> CountryContacts | None:
        return self._countries.get(code) if code else None

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(self._countries)


@cache
def bundled_hotlines() -> dict[str, CountryContacts]:
    return parse_hotlines(HOTLINES_FILE.read_text(encoding="utf-8"), str(HOTLINES_FILE.name))
