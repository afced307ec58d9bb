"""Emergency contacts: every entry well formed, every country the picker offers covered, the operator's file applied."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from tests.support.harness import SECRET_KEY, TOKEN
from translations.countries import COMMON_COUNTRIES, suggested_countries
from translations.i18n import Catalogs
from translations.safety.hotlines import HOTLINES_FILE, Hotlines, HotlinesError, bundled_hotlines, parse_hotlines


def test_every_bundled_entry_is_well_formed() -> None:
    entries = bundled_hotlines()  # the pydantic model checks numbers, https links and ISO codes
    assert len(entries) >= 40
    for code, entry in entries.items():
        assert entry.sources, code
        assert date(2026, 1, 1) <= entry.last_checked <= date.today(), code
    eu_helpline = [code for code in ("DE", "PL", "ES", "SE", "CZ") if entries[code].child_helpline == "116 111"]
    assert eu_helpline == ["DE", "PL", "ES", "SE", "CZ"]
    assert {code: entries[code].emergency for code in ("MX", "US", "GB", "AU", "JP", "FR")} == {
        "MX": "911", "US": "911", "GB": "999", "AU": "000", "JP": "110", "FR": "112",
    }  # fmt: skip


def test_every_country_in_the_picker_has_an_emergency_number() -> None:
    offered = set(COMMON_COUNTRIES)
    for language in Catalogs().languages:
        offered |= set(suggested_countries(language))
    hotlines = Hotlines()
    assert len(offered) >= 30
    assert sorted(code for code in offered if hotlines.for_country(code) is None) == []


def test_the_header_says_what_was_checked() -> None:
    header = HOTLINES_FILE.read_text(encoding="utf-8").split("[countries.", 1)[0]
    assert "2026-12-02" in header and "last_checked" in header and "HOTLINES_FILE" in header


def test_the_operator_file_replaces_and_extends(tmp_path: Path) -> None:
    own = tmp_path / "hotlines.toml"
    own.write_text(
        '[countries.MX]\nemergency = "911"\nchild_helpline = "800 123 4567"\n'
        'sources = ["https://example.org/mx"]\nlast_checked = 2026-11-30\n'
        '[countries.AR]\nemergency = "911"\nchild_helpline = "102"\n'
        'sources = ["https://example.org/ar"]\nlast_checked = 2026-11-30\n',
        encoding="utf-8",
    )
    hotlines = Hotlines(own)
    mexico = hotlines.for_country("MX")
    assert mexico is not None and mexico.child_helpline == "800 123 4567" and mexico.hotline_url is None
    assert hotlines.for_country("AR") is not None and hotlines.for_country("DE") == bundled_hotlines()["DE"]
    assert hotlines.for_country(None) is None and hotlines.for_country("ZZ") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[countries.MX]\nemergency = "call us"\nsources = ["https://a.example"]\nlast_checked = 2026-01-01\n',
         "countries.MX.emergency"),
        ('[countries.XX]\nemergency = "112"\nsources = ["https://a.example"]\nlast_checked = 2026-01-01\n',
         "not ISO 3166-1 alpha-2 codes: XX"),
        ('[countries.DE]\nemergency = "112"\nsources = ["http://a.example"]\nlast_checked = 2026-01-01\n',
         "links must be https"),
        ('[countries.DE]\nemergency = "112"\nsources = []\nlast_checked = 2026-01-01\n', "countries.DE.sources"),
        ('[countries.DE]\nemergency = "112"\nsources = ["https://a.example"]\n', "last_checked"),
        ('[countries.DE]\nemergency = "112"\nfax = "1"\nsources = ["https://a.example"]\nlast_checked = 2026-01-01\n',
         "countries.DE.fax"),
        ("[countries.DE\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_a_malformed_entry_is_named_in_one_line(text: str, problem: str) -> None:
    with pytest.raises(HotlinesError, match=r"^own\.toml: ") as raised:
        parse_hotlines(text, "own.toml")
    assert problem in str(raised.value) and "\n" not in str(raised.value)


def test_a_bad_hotlines_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "own.toml"
    bad.write_text('[countries.DE]\nemergency = "x"\n', encoding="utf-8")
    for path, problem in ((bad, "countries.DE.emergency"), (tmp_path / "missing.toml", "cannot be read")):
        with pytest.raises(SettingsError) as raised:
            load_settings(telegram_bot_token=TOKEN, secret_key=SECRET_KEY, webhook_url=None, hotlines_file=path)
        message = str(raised.value)
        assert message.startswith("invalid settings: HOTLINES_FILE ") and problem in message and "\n" not in message
