"""The UI message catalogs: complete, current, and faithful to the source strings.

The template is extracted afresh from the code for every run (through `scripts/i18n.sh extract`,
into a temporary file), so a new or changed string in `handlers/` or `bot/` fails here until
`scripts/i18n.sh update` has been run and the string translated in every catalog.
"""

from __future__ import annotations

import gettext
import io
import os
import re
import shutil
import string
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from emulator import BotApiEmulator
from tests.support.harness import RunningBot
from translations.i18n import DOMAIN, LOCALES_DIR, SOURCE_LANGUAGE, Catalogs, is_rtl

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "i18n.sh"

REQUIRED_LANGUAGES = frozenset("en de fr es it pt nl pl ro cs sk hu sv da fi el bg hr sl lt lv et uk ru tr ar".split())
LANGUAGES = sorted(path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
TRANSLATED_LANGUAGES = [language for language in LANGUAGES if language != SOURCE_LANGUAGE]
RTL_PRESENT = [language for language in LANGUAGES if is_rtl(language)]

HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
# A bot command such as /start: not part of a word or a path.
COMMAND = re.compile(r"(?<![\w/<])/[a-z][a-z_]*\b")
# Symbols that carry meaning on buttons (arrows, check mark, pencil) and must survive translation.
KEPT_SYMBOLS = frozenset("◀▶✅✏")
LRM = "\u200e"
LRI, PDI = "\u2066", "\u2069"


def _pybabel() -> str:
    beside = Path(sys.executable).with_name("pybabel")
    found = str(beside) if beside.exists() else shutil.which("pybabel")
    if found is None:
        pytest.fail("pybabel is not installed (it comes with babel)")
    return found


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _catalog(language: str) -> Catalog:
    return _read(LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", language)


def _messages(catalog: Catalog) -> dict[str, Message]:
    """Messages by msgid (the singular for plural entries); the header entry left out."""
    found: dict[str, Message] = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        found[key] = message
    return found


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _fields(text: str) -> Counter[tuple[str, str, str]]:
    """The `{name:spec!conversion}` fields of a str.format string (fails on unbalanced braces)."""
    return Counter(
        (name, spec or "", conversion or "")
        for _literal, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    )


def _sample_values(fields: Counter[tuple[str, str, str]], text: str = "x") -> dict[str, object]:
    """A value for each field that its format spec accepts: an int, a float or `text`."""

    def sample(spec: str) -> object:
        kind = spec[-1:] if spec else ""
        return 7 if kind and kind in "bcdoxXn" else 1.5 if kind and kind in "eEfFgG%" else text

    return {name: sample(spec) for name, spec, _conversion in fields}


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Message]:
    """A template freshly extracted from the code by the project's own script."""
    pot = tmp_path_factory.mktemp("i18n") / f"{DOMAIN}.pot"
    environment = {**os.environ, "PYBABEL": _pybabel(), "TRACEBOT_POT": str(pot)}
    result = subprocess.run(
        ["bash", str(SCRIPT), "extract"], env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    messages = _messages(_read(pot))
    assert len(messages) > 20, "extraction found almost no strings: check translations/babel.cfg"
    return messages


def test_required_languages_have_catalogs() -> None:
    assert set(LANGUAGES) >= REQUIRED_LANGUAGES, sorted(REQUIRED_LANGUAGES - set(LANGUAGES))
    assert set(Catalogs().languages) == set(LANGUAGES)


def test_committed_template_is_current(template: dict[str, Message]) -> None:
    committed = _messages(_read(LOCALES_DIR / f"{DOMAIN}.pot"))
    assert set(committed) == set(template), "run scripts/i18n.sh update"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_matches_template(language: str, template: dict[str, Message]) -> None:
    messages = _messages(_catalog(language))
    missing, stale = sorted(set(template) - set(messages)), sorted(set(messages) - set(template))
    assert not missing, f"{language}: missing {missing} (run scripts/i18n.sh update, then translate)"
    assert not stale, f"{language}: not in the code any more {stale} (run scripts/i18n.sh update)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_header(language: str) -> None:
    catalog = _read(LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po")
    assert not catalog.fuzzy, f"{language}: the header is marked fuzzy"
    assert catalog.locale_identifier == language, "the Language header names another language"
    assert catalog.charset.lower() == "utf-8"


def _plural_function(plural_forms: str) -> tuple[int, Callable[[int], int]]:
    """`nplurals=N; plural=EXPR` as (N, a function of n), through the standard library's C parser."""
    match = re.fullmatch(r"\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*(.+?)\s*;?\s*", plural_forms)
    assert match, f"malformed Plural-Forms {plural_forms!r}"
    return int(match.group(1)), gettext.c2py(match.group(2))


# n = 0..10,000 and larger round numbers. A Plural-Forms formula is defined over gettext's
# `unsigned long n`: a fraction reaches it truncated, i.e. as one of these integers, so CLDR's
# fraction rules (v, f, t) have nothing further to compare here.
PLURAL_SAMPLES = [*range(10_001), *(10**k * m for k in range(4, 10) for m in (1, 2, 5))]


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_mean_what_cldr_says(language: str) -> None:
    """The catalog's formula and CLDR's (through the locked Babel) pick the same form for every n.

    Compared by meaning, not spelling: Babel releases write the same rule differently.
    """
    catalog = _read(LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po")
    ours_count, ours = _plural_function(catalog.plural_forms)
    cldr_count, cldr = _plural_function(Catalog(locale=language).plural_forms)
    assert ours_count == cldr_count, f"{language}: nplurals={ours_count}, CLDR: {cldr_count} (i18n.sh headers)"
    differ = [n for n in PLURAL_SAMPLES if ours(n) != cldr(n)]
    assert not differ, f"{language}: another plural form than CLDR's for n in {differ[:10]} (scripts/i18n.sh headers)"


def test_plural_comparison_tells_meaning_from_spelling() -> None:
    """The comparison itself: a respelling passes, a real change of rule is caught."""
    old_polish = "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
    new_polish = "nplurals=3; plural=n == 1 ? 0 : n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14) ? 1 : 2;"
    (_, old), (_, new) = _plural_function(old_polish), _plural_function(new_polish)
    assert all(old(n) == new(n) for n in range(10_001))
    _, germanic = _plural_function("nplurals=2; plural=(n != 1);")
    _, french = _plural_function("nplurals=2; plural=(n > 1);")
    assert [n for n in range(10_001) if germanic(n) != french(n)] == [0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_entries(language: str) -> None:
    fuzzy = [message.id for message in _messages(_catalog(language)).values() if message.fuzzy]
    assert not fuzzy, f"{language}: fuzzy entries are ignored at run time: {fuzzy}"


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_entry_translated(language: str) -> None:
    catalog = _catalog(language)
    plurals = catalog.num_plurals
    untranslated = [
        key
        for key, message in _messages(catalog).items()
        if not all(text.strip() for text in _texts(message.string))
        or (message.pluralizable and len(_texts(message.string)) != plurals)
    ]
    assert not untranslated, f"{language}: untranslated {untranslated}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_tags_commands_and_symbols(language: str) -> None:
    problems: list[str] = []
    for key, message in _messages(_catalog(language)).items():
        sources = _texts(message.id)
        for text in _texts(message.string):
            if not text:
                continue
            source = sources[-1] if len(sources) > 1 else sources[0]
            try:
                fields, expected = _fields(text), _fields(source)
            except ValueError as error:
                problems.append(f"{key!r}: broken braces ({error}): {text!r}")
                continue
            if fields != expected:
                problems.append(f"{key!r}: placeholders {sorted(fields)} != {sorted(expected)}")
            else:
                text.format(**_sample_values(fields))
            if HTML_TAG.findall(text) != HTML_TAG.findall(source):
                problems.append(f"{key!r}: tags {HTML_TAG.findall(text)} != {HTML_TAG.findall(source)}")
            if Counter(COMMAND.findall(text)) != Counter(COMMAND.findall(source)):
                problems.append(f"{key!r}: commands {COMMAND.findall(text)} != {COMMAND.findall(source)}")
            lost = {symbol for symbol in KEPT_SYMBOLS if symbol in source and symbol not in text}
            if lost:
                problems.append(f"{key!r}: lost {sorted(lost)}")
    assert not problems, f"{language}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_compiles(language: str) -> None:
    catalog = _catalog(language)
    errors = [(message.id, error) for message, message_errors in catalog.check() for error in message_errors]
    assert not errors, errors
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    assert buffer.getvalue()


def test_i18n_check_script_compiles_every_catalog() -> None:
    environment = {**os.environ, "PYBABEL": _pybabel()}
    result = subprocess.run(
        ["bash", str(SCRIPT), "check"], env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert output.count("compiling catalog") == len(LANGUAGES), output


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_loader_serves_the_translations(language: str) -> None:
    gettext = Catalogs().for_language(language).gettext
    for key, message in _messages(_catalog(language)).items():
        if isinstance(message.string, str):
            assert gettext(key) == message.string, key


def _arabic_share(text: str) -> float:
    letters = [char for char in text if char.isalpha()]
    arabic = [char for char in letters if "ARABIC" in unicodedata.name(char, "")]
    return len(arabic) / len(letters) if letters else 0.0


def test_arabic_is_arabic_script_and_right_to_left(template: dict[str, Message]) -> None:
    assert is_rtl("ar")
    assert not is_rtl("en")
    _ = Catalogs().for_language("ar").gettext
    question = _("Which language would you like me to use?")
    assert question != "Which language would you like me to use?"
    assert _arabic_share(question) == 1.0
    first_letter = next(char for char in question if char.isalpha())
    assert unicodedata.bidirectional(first_letter) == "AL", "an Arabic letter: the line is laid out right-to-left"
    for key in template:
        text = _(key)
        assert text != key, f"not translated: {key!r}"
        fields = _fields(text)
        # Rendered as the bot sends it: placeholder values in Arabic too, then the Latin that must stay
        # (commands, HTML tags, the Telegram brand) removed; what is left is Arabic script.
        rendered = text.format(**_sample_values(fields, "فرنسا"))
        assert "{" not in rendered and "}" not in rendered, rendered
        latin_kept = COMMAND.sub("", HTML_TAG.sub("", rendered)).replace("Telegram", "")
        assert _arabic_share(latin_kept) == 1.0, (key, rendered)


@pytest.mark.parametrize("language", RTL_PRESENT)
def test_right_to_left_catalogs_keep_commands_and_coordinates_readable(language: str) -> None:
    """Inside RTL text a bare `/stop` shows as `stop/`; an LRM before it keeps the slash in front."""
    problems: list[str] = []
    for key, message in _messages(_catalog(language)).items():
        for text in _texts(message.string):
            for match in COMMAND.finditer(text):
                start = match.start()
                at_line_start = start == 0 or text[start - 1] == "\n"
                if not at_line_start and text[start - 1] != LRM:
                    problems.append(f"{key!r}: no LRM before {match.group()}")
            if text.count(LRI) != text.count(PDI):
                problems.append(f"{key!r}: unbalanced isolates")
            if "{lat" in text and not re.search(f"{LRI}{{lat[^{PDI}]*{{lon[^{PDI}]*{PDI}", text):
                problems.append(f"{key!r}: coordinates not isolated left-to-right")
    assert not problems, f"{language}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", ["ar", "de"])
async def test_reporter_is_served_in_their_telegram_language(
    language: str, bot: RunningBot, emulator: BotApiEmulator
) -> None:
    """End to end: welcome, opt-in button, /help and the command menu come out translated."""
    _ = Catalogs().for_language(language).gettext
    user = emulator.user({"ar": 4101, "de": 4102}[language], first_name="Ana", language_code=language)
    await user.send_command("start")
    welcome = await user.wait_for_message()
    title = HTML_TAG.sub("", _("<b>Help identify objects and save children</b>"))
    assert title in welcome.plain_text and "Help identify" not in welcome.plain_text
    await user.press(_("I understand, show me the objects"))
    await user.wait_for_message(lambda message: message.kind == "photo")
    await user.send_command("help")
    help_text = await user.wait_for_message(
        lambda message: HTML_TAG.sub("", _("<b>How this works</b>")) in message.plain_text
    )
    assert "/delete_my_data" in help_text.plain_text
    # The command menu is published per language after start-up (setMyCommands with language_code).
    assert await bot.command_menus_published()
    menus = {code: commands for (_scope, code), commands in emulator.state.commands.items()}
    assert set(menus) == {"", *TRANSLATED_LANGUAGES}
    descriptions = {command["command"]: command["description"] for command in menus[language]}
    assert descriptions["stop"] == _("Stop receiving objects") != "Stop receiving objects"
