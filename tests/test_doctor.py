"""`tracebot doctor` through the real command line, against the Bot API emulator.

Each broken thing gets its own ✗ line (and only that one) and a non-zero exit.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest

from bot.demo import translation_hint
from bot.doctor import quick_summary
from bot.settings import load_storage_settings
from emulator import BotApiEmulator
from emulator.state import WebhookConfig
from storage.migrate import head_revision, upgrade
from tests.support.cli import tracebot
from tests.support.harness import SECRET_KEY, TOKEN
from translations.i18n import Catalogs

UI_LANGUAGES = len(Catalogs().languages) - 1  # every UI language but English needs a model

WEBHOOK_URL = "https://tips.example.org/telegram/webhook"


@pytest.fixture
async def base_env(tmp_path: Path, emulator: BotApiEmulator) -> dict[str, str]:
    """Settings of a healthy installation: migrated SQLite, writable media, the emulator as Bot API."""
    database = tmp_path / "data" / "tracebot.db"
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{database}")
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "SECRET_KEY": SECRET_KEY,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "MEDIA_DIR": str(tmp_path / "data" / "media"),
        "ARGOS_PACKAGES_DIR": str(tmp_path / "data" / "argos-packages"),
    }


async def doctor(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, str], str]:
    """Run `tracebot doctor`; returns the exit code, each check's line by name, and stderr."""
    result = await asyncio.to_thread(tracebot, "doctor", *args, cwd=tmp_path, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    lines = {}
    for line in result.stdout.splitlines():
        name = line[2:].split(":", 1)[0]
        lines.setdefault(name, line)
    return result.returncode, lines, result.stderr


def failing(lines: dict[str, str]) -> set[str]:
    return {name for name, line in lines.items() if line.startswith("✗")}


async def test_a_healthy_installation_passes(tmp_path: Path, base_env: dict[str, str]) -> None:
    code, lines, _ = await doctor(tmp_path, base_env)
    assert code == 0, lines
    assert failing(lines) == set()
    assert lines["Settings"] == "✓ Settings: valid; SECRET_KEY strong"
    assert lines["Database"].startswith("✓ Database:") and f"migrated to head ({head_revision()})" in lines["Database"]
    assert lines["Bot API"].endswith("answers getMe: @TracebotTestBot")
    assert lines["Media folder"].startswith("✓")
    assert lines["Disk space"].startswith("✓")
    # No model installed: a warning naming the command, not a failure.
    models = lines["Translation models"]
    assert models.startswith(f"⚠ Translation models: 0 of {UI_LANGUAGES} UI languages translatable")
    assert "`tracebot models install ar bg ca" in lines["Translation models"]
    assert "Webhook" not in lines, "polling installations have no webhook to check"


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("tooShortKey", "✗ Settings: SECRET_KEY must be at least 32 characters"),
        ("a" * 40, "✗ Settings: SECRET_KEY is weak (too few different characters) → use `openssl rand -hex 32`"),
    ],
)
async def test_a_broken_setting(tmp_path: Path, base_env: dict[str, str], secret: str, expected: str) -> None:
    code, lines, stderr = await doctor(tmp_path, {**base_env, "SECRET_KEY": secret})
    assert code == 1
    assert lines["Settings"].startswith(expected)
    assert failing(lines) == {"Settings"}
    assert "see the lines marked ✗" in stderr
    assert secret not in "\n".join(lines.values())


async def test_an_unmigrated_database(tmp_path: Path, base_env: dict[str, str]) -> None:
    old = tmp_path / "old.db"
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{old}", "0003")
    code, lines, _ = await doctor(tmp_path, {**base_env, "DATABASE_URL": f"sqlite:///{old}"})
    assert code == 1
    assert lines["Database"] == (
        f"✗ Database: sqlite+aiosqlite:///{old} is at revision 0003, not {head_revision()} → run `tracebot db upgrade`"
    )
    assert failing(lines) == {"Database"}

    missing = tmp_path / "nowhere" / "tracebot.db"
    code, lines, _ = await doctor(tmp_path, {**base_env, "DATABASE_URL": f"sqlite:///{missing}"})
    assert code == 1 and lines["Database"].startswith(f"✗ Database: no SQLite file at {missing}")
    assert not missing.parent.exists(), "the doctor only looks; it creates nothing"


async def test_an_unreachable_database_server(tmp_path: Path, base_env: dict[str, str]) -> None:
    url = f"postgresql://tracebot:pw-not-shown@127.0.0.1:{closed_port()}/tracebot"
    code, lines, _ = await doctor(tmp_path, {**base_env, "DATABASE_URL": url})
    assert code == 1 and failing(lines) == {"Database"}
    assert "unreachable" in lines["Database"] and "pw-not-shown" not in lines["Database"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_bot_api(tmp_path: Path, base_env: dict[str, str]) -> None:
    api = f"http://127.0.0.1:{closed_port()}"
    code, lines, _ = await doctor(tmp_path, {**base_env, "TELEGRAM_API_URL": api})
    assert code == 1
    assert lines["Bot API"].startswith(f"✗ Bot API: {api} unreachable: ")
    assert lines["Bot API"].endswith("→ check TELEGRAM_API_URL and this machine's internet access")
    assert TOKEN not in lines["Bot API"]
    assert failing(lines) == {"Bot API"}


async def test_a_refused_token(tmp_path: Path, base_env: dict[str, str]) -> None:
    code, lines, _ = await doctor(tmp_path, {**base_env, "TELEGRAM_BOT_TOKEN": "42:wrong-token"})
    assert code == 1 and failing(lines) == {"Bot API"}
    assert "token was refused" in lines["Bot API"] and "wrong-token" not in lines["Bot API"]


async def test_a_webhook_registered_elsewhere(
    tmp_path: Path, base_env: dict[str, str], emulator: BotApiEmulator
) -> None:
    env = {**base_env, "WEBHOOK_URL": WEBHOOK_URL, "WEBHOOK_SECRET": "s3cret"}
    emulator.state.webhook = WebhookConfig("https://old-host.example.org/telegram/webhook")
    code, lines, _ = await doctor(tmp_path, env)
    assert code == 1
    assert lines["Webhook"] == (
        "✗ Webhook: Telegram delivers to https://old-host.example.org/telegram/webhook, "
        f"WEBHOOK_URL is {WEBHOOK_URL} → start `tracebot run --webhook`, which registers WEBHOOK_URL"
    )
    assert failing(lines) == {"Webhook"}

    emulator.state.webhook = WebhookConfig(WEBHOOK_URL)
    code, lines, _ = await doctor(tmp_path, env)
    assert code == 0 and lines["Webhook"].startswith("✓ Webhook: Telegram delivers to WEBHOOK_URL, no delivery error")


async def test_a_webhook_with_a_pending_delivery_error(
    tmp_path: Path, base_env: dict[str, str], emulator: BotApiEmulator
) -> None:
    env = {**base_env, "WEBHOOK_URL": WEBHOOK_URL, "WEBHOOK_SECRET": "s3cret"}
    emulator.state.webhook = WebhookConfig(
        WEBHOOK_URL, last_error_date=int(time.time()) - 120, last_error_message="Wrong response from the webhook: 502"
    )
    code, lines, _ = await doctor(tmp_path, env)
    assert code == 1 and failing(lines) == {"Webhook"}
    assert lines["Webhook"].startswith(
        "✗ Webhook: last delivery failed 2 min ago: Wrong response from the webhook: 502 (0 updates waiting)"
    )


async def test_webhook_flag_without_webhook_url(tmp_path: Path, base_env: dict[str, str]) -> None:
    code, lines, _ = await doctor(tmp_path, base_env, "--webhook")
    assert code == 1 and lines["Webhook"].startswith("✗ Webhook: no webhook is registered")


async def test_an_unwritable_media_folder(tmp_path: Path, base_env: dict[str, str]) -> None:
    (tmp_path / "media-is-a-file").write_text("")
    code, lines, _ = await doctor(tmp_path, {**base_env, "MEDIA_DIR": str(tmp_path / "media-is-a-file")})
    assert code == 1 and failing(lines) == {"Media folder"}


def test_short_form_is_fast_and_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_storage_settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        media_dir=tmp_path / "media",
        argos_packages_dir=tmp_path / "argos",
    )
    started = time.perf_counter()
    line = quick_summary(settings)
    assert time.perf_counter() - started < 1.0
    assert "\n" not in line
    assert line.startswith(f"doctor: ⚠ translation models: 0 of {UI_LANGUAGES} UI languages translatable")
    assert not (tmp_path / "db.sqlite").exists(), "the short form opens no database"


def test_demo_hint_names_the_install_command(tmp_path: Path) -> None:
    hint = translation_hint(tmp_path / "argos")
    assert "show 'Language not supported by the translator'" in hint
    assert ".venv/bin/tracebot models install ar de es fr it nl pl" in hint
    # A de->en package on disk (the route planner reads its metadata and checks the files): German drops out.
    package = tmp_path / "argos" / "translate-de_en-1_0"
    (package / "model").mkdir(parents=True)
    (package / "metadata.json").write_text(json.dumps({"from_code": "de", "to_code": "en", "package_version": "1.0"}))
    (package / "model" / "model.bin").write_bytes(b"")
    (package / "sentencepiece.model").write_bytes(b"")
    assert "models install ar es fr it nl pl" in translation_hint(tmp_path / "argos")
