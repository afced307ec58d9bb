"""Pure logic: deep links, country names, settings, privacy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_settings
from handlers.deeplinks import DeepLink, make_payload, parse_payload
from storage.privacy import InvalidToken, Privacy
from translations.countries import country_name, normalize_country, suggested_countries


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("c-summer26_o-TAO-0001", DeepLink("summer26", "TAO-0001")),
        ("o-tao-0042", DeepLink(None, "TAO-0042")),
        ("TAO-0007", DeepLink(None, "TAO-0007")),
        ("spring", DeepLink("spring", None)),
        ("c-x_y_z", DeepLink("z", None)),
        ("c-spring26_o-TAO-0001_s-X", DeepLink("spring26", "TAO-0001", "x")),
        ("s-insta_c-spring26", DeepLink("spring26", None, "insta")),
        ("c-spring26_s-" + "a" * 17, DeepLink()),  # channel tag too long: a plain start, not a campaign "s-aaa..."
        ("c-spring26_o-TAO-X", DeepLink()),
        ("c-spring26__o-TAO-1", DeepLink()),
        ("c-spring26_s-", DeepLink()),
        ("bad payload!", DeepLink()),
        ("a" * 65, DeepLink()),
        ("", DeepLink()),
        (None, DeepLink()),
    ],
)
def test_parse_payload(payload: str | None, expected: DeepLink) -> None:
    assert parse_payload(payload) == expected


def test_make_payload_round_trips() -> None:
    payload = make_payload("spring-26", "TAO-0001")
    assert parse_payload(payload) == DeepLink("spring-26", "TAO-0001")
    tagged = make_payload("spring26", "TAO-0001", "x")
    assert tagged == "c-spring26_o-TAO-0001_s-x"
    assert parse_payload(tagged) == DeepLink("spring26", "TAO-0001", "x")
    assert len(make_payload("c" * 32, "TAO-" + "1" * 8, "a" * 12)) == 64  # exactly Telegram's limit
    with pytest.raises(ValueError, match="65 characters; Telegram allows 64"):
        make_payload("c" * 32, "TAO-" + "1" * 8, "a" * 13)
    with pytest.raises(ValueError, match="channel tag"):
        make_payload("spring26", None, "no_underscores")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Germany", "DE"),
        ("deutschland", "DE"),
        ("  Allemagne ", "DE"),
        ("Niemcy", "DE"),
        ("polska", "PL"),
        ("Holland", "NL"),
        ("the Netherlands", "NL"),
        ("Россия", "RU"),
        ("Україна", "UA"),
        ("Ελλάδα", "GR"),
        ("Grmany", "DE"),
        ("Turkey", "TR"),
        ("UK", "GB"),
        ("nowhere land", None),
        ("", None),
        ("!!!", None),
    ],
)
def test_normalize_country(typed: str, code: str | None) -> None:
    assert normalize_country(typed) == code


def test_country_names_are_localized() -> None:
    assert country_name("DE", "pl") == "Niemcy"
    assert country_name("DE", "en") == "Germany"
    assert suggested_countries("pl")[0] == "PL"
    assert len(set(suggested_countries("en"))) == 8


def test_settings_errors_are_one_line() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, telegram_bot_token="nonsense", secret_key="short")
    message = str(error.value)
    assert "\n" not in message
    assert "TELEGRAM_BOT_TOKEN" in message and "SECRET_KEY" in message


def test_settings_normalize_database_urls() -> None:
    settings = load_settings(
        _env_file=None, telegram_bot_token="1:abc", secret_key="k" * 32, database_url="postgres://u:p@h/db"
    )
    assert settings.database_url == "postgresql+asyncpg://u:p@h/db"


def test_cli_reports_missing_settings_in_one_line(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=str(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN is required" in result.stderr


def test_pseudonyms_are_keyed_and_chat_ids_encrypted() -> None:
    privacy, other = Privacy("a" * 40), Privacy("b" * 40)
    assert privacy.pseudonym(42) == privacy.pseudonym(42)
    assert privacy.pseudonym(42) != other.pseudonym(42), "without the key the pseudonym cannot be recomputed"
    assert "42" not in privacy.pseudonym(42)
    token = privacy.encrypt_chat_id(123456789)
    assert "123456789" not in token
    assert privacy.decrypt_chat_id(token) == 123456789
    with pytest.raises(InvalidToken):
        other.decrypt_chat_id(token)


def test_keyboards_are_sent_as_ptb_would_write_them() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

    from handlers import keyboards
    from handlers.turn import Turn, keyboard_json
    from translations.i18n import Catalogs

    german = Catalogs().for_language("de")
    turn = cast(
        Turn,
        SimpleNamespace(gettext=german.gettext, language="de", reporter=SimpleNamespace(wants_news=False)),
    )
    ours = [
        keyboards.opt_in(turn),
        keyboards.object_card(turn, 7),
        keyboards.countries(turn),
        keyboards.details(turn, can_skip=True),
        keyboards.preview(turn, 3, followup=True),
        keyboards.after_tip(turn, 7),
    ]
    button = InlineKeyboardButton
    others = [
        InlineKeyboardMarkup([[button("a", url="https://example.org/x"), button("b", callback_data="b")]]),
        InlineKeyboardMarkup([[button("app", web_app=WebAppInfo("https://example.org/app"))]]),
        InlineKeyboardMarkup([[button("odd", callback_data=cast(Any, {"not": "a string"}))]]),
        InlineKeyboardMarkup([[button("new", callback_data="n", api_kwargs={"style": "danger"})]]),
        InlineKeyboardMarkup([[button("x", callback_data="x")]], api_kwargs={"future": 1}),
        InlineKeyboardMarkup([]),
    ]
    for markup in ours + others:
        assert keyboard_json(markup) == markup.to_dict()
    assert len(keyboard_json(keyboards.countries(turn))["inline_keyboard"]) > 3
    assert keyboard_json(others[1])["inline_keyboard"][0][0]["web_app"] == {"url": "https://example.org/app"}
