"""`tracebot doctor`: is this installation ready to run? Each check is a ✓ or one line saying what to fix.

Each check is a small function returning a `Check`. `run_doctor()` runs them all (database and Bot
API included, with timeouts); `quick_summary()` runs only the local ones (files, disk, models, the
settings already loaded) for the one line `tracebot run` and the demo print at start.
"""

from __future__ import annotations

import asyncio
import enum
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.cli_errors import first_line, safe_database_url
from bot.demo_defaults import DEMO_SECRET_KEY, DEMO_TOKEN
from bot.settings import Settings, SettingsError, StorageSettings, load_settings, load_storage_settings
from translations.i18n import Catalogs
from translations.models import languages_without_path_to_english

NETWORK_TIMEOUT = 5.0  # seconds per Bot API call
DATABASE_TIMEOUT = 10.0
DISK_FAIL_BYTES = 256 * 1024**2  # below this, media imports and model installs start failing
DISK_WARN_BYTES = 2 * 1024**3  # a few models need ~100 MB each
WEBHOOK_ERROR_WINDOW = 3600  # seconds: an older delivery error with nothing pending is history
MIN_SECRET_CHARACTERS = 10  # distinct characters in SECRET_KEY; `openssl rand -hex 32` has 16


class Status(enum.Enum):
    OK = "✓"
    WARN = "⚠"
    FAIL = "✗"
    SKIPPED = "–"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, what was found, and how to fix it."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    summary: str = ""  # a shorter detail for the one-line start-up summary

    def line(self) -> str:
        text = f"{self.status.value} {self.name}: {self.detail}"
        return f"{text} → {self.fix}" if self.fix and self.status in (Status.FAIL, Status.WARN) else text


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def problem(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.FAIL, detail, fix)


def warning(name: str, detail: str, fix: str, summary: str = "") -> Check:
    return Check(name, Status.WARN, detail, fix, summary)


# --- settings ---------------------------------------------------------------------------------


def check_settings(settings: Settings | None, error: SettingsError | None) -> Check:
    if settings is None:
        return problem("Settings", str(error).removeprefix("invalid settings: "), "fix them in .env (see .env.example)")
    secret = settings.secret_key.get_secret_value()
    if secret == DEMO_SECRET_KEY or settings.telegram_bot_token.get_secret_value() == DEMO_TOKEN:
        return problem("Settings", "the public demo token or SECRET_KEY is set", "set your own in .env")
    if len(set(secret)) < MIN_SECRET_CHARACTERS:
        return problem("Settings", "SECRET_KEY is weak (too few different characters)", "use `openssl rand -hex 32`")
    if settings.webhook_url and settings.webhook_secret is None:
        return problem("Settings", "WEBHOOK_URL is set but WEBHOOK_SECRET is empty", "set WEBHOOK_SECRET in .env")
    return ok("Settings", "valid; SECRET_KEY strong")


# --- database ---------------------------------------------------------------------------------


def _missing_file(path: Path) -> bool:
    return not path.is_file()


async def check_database(database_url: str) -> Check:
    from storage.db import create_engine, sqlite_file
    from storage.migrate import current_revision, head_revision

    shown = safe_database_url(database_url)
    path = sqlite_file(database_url)
    if path is not None and await asyncio.to_thread(_missing_file, path):
        return problem("Database", f"no SQLite file at {path}", "run `tracebot db upgrade` to create it")
    engine = create_engine(database_url)
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            current = await current_revision(engine)
    except TimeoutError:
        return problem("Database", f"{shown} did not answer in {DATABASE_TIMEOUT:g} s", "check DATABASE_URL")
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
        reason = first_line(getattr(exc, "orig", None) or exc)
        return problem("Database", f"{shown} unreachable: {reason}", "check DATABASE_URL and that the server runs")
    finally:
        await engine.dispose()
    head = await asyncio.to_thread(head_revision)
    if current != head:
        return problem(
            "Database", f"{shown} is at revision {current or 'base'}, not {head}", "run `tracebot db upgrade`"
        )
    return ok("Database", f"{shown} reachable, migrated to head ({head})")


# --- Bot API ----------------------------------------------------------------------------------


class BotApiError(Exception):
    """A Bot API call failed; the message is safe to print (no token)."""


async def _bot_api(session: aiohttp.ClientSession, settings: Settings, method: str) -> Any:
    token = settings.telegram_bot_token.get_secret_value()
    url = f"{settings.bot_api_base_url}{token}/{method}"
    try:
        async with session.get(url) as response:
            body = await response.json(content_type=None)
    except TimeoutError:
        raise BotApiError(f"{settings.telegram_api_url} did not answer in {NETWORK_TIMEOUT:g} s") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        reason = first_line(exc).replace(token, "<token>")
        raise BotApiError(f"{settings.telegram_api_url} unreachable: {reason}") from None
    if not isinstance(body, dict) or not body.get("ok"):
        code = body.get("error_code") if isinstance(body, dict) else None
        description = body.get("description") if isinstance(body, dict) else None
        if code in (401, 404):
            raise BotApiError(f"the token was refused ({code} {description or 'Unauthorized'})")
        raise BotApiError(f"{method} failed: {code} {description}")
    return body["result"]


def _timeout() -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=NETWORK_TIMEOUT)


async def check_bot_api(settings: Settings) -> Check:
    try:
        async with aiohttp.ClientSession(timeout=_timeout()) as session:
            me = await _bot_api(session, settings, "getMe")
    except BotApiError as exc:
        fix = (
            "check TELEGRAM_BOT_TOKEN (from @BotFather)"
            if "token was refused" in str(exc)
            else "check TELEGRAM_API_URL and this machine's internet access"
        )
        return problem("Bot API", str(exc), fix)
    return ok("Bot API", f"{settings.telegram_api_url} answers getMe: @{me.get('username', '?')}")


async def check_webhook(settings: Settings) -> Check:
    try:
        async with aiohttp.ClientSession(timeout=_timeout()) as session:
            info = await _bot_api(session, settings, "getWebhookInfo")
    except BotApiError as exc:
        return problem("Webhook", str(exc), "check TELEGRAM_API_URL and TELEGRAM_BOT_TOKEN")
    registered = str(info.get("url") or "")
    if settings.webhook_url is None:
        if not registered:
            return problem(
                "Webhook", "no webhook is registered", "set WEBHOOK_URL; `tracebot run --webhook` registers it"
            )
        return ok("Webhook", f"Telegram delivers to {registered} (WEBHOOK_URL is empty: registered by hand)")
    if registered != settings.webhook_url:
        return problem(
            "Webhook",
            f"Telegram delivers to {registered or 'nothing (no webhook)'}, WEBHOOK_URL is {settings.webhook_url}",
            "start `tracebot run --webhook`, which registers WEBHOOK_URL",
        )
    error_date, pending = info.get("last_error_date"), int(info.get("pending_update_count") or 0)
    if error_date:
        age = time.time() - float(error_date)
        if pending or age < WEBHOOK_ERROR_WINDOW:
            message = info.get("last_error_message") or "unknown error"
            return problem(
                "Webhook",
                f"last delivery failed {max(0, round(age / 60))} min ago: {message} ({pending} updates waiting)",
                "make WEBHOOK_URL reach this server (TLS certificate, proxy, WEBHOOK_PATH) and keep it running",
            )
    return ok("Webhook", f"Telegram delivers to WEBHOOK_URL, no delivery error ({pending} updates waiting)")


# --- files, models, disk ------------------------------------------------------------------------


def _existing_ancestor(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_media(media_dir: Path) -> Check:
    if media_dir.exists() and not media_dir.is_dir():
        return problem("Media folder", f"{media_dir} is a file", "point MEDIA_DIR at a folder")
    target = media_dir if media_dir.is_dir() else _existing_ancestor(media_dir)
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".tracebot-doctor-"):
            pass
    except OSError as exc:
        return problem(
            "Media folder", f"{target} is not writable ({exc.strerror})", "fix its owner/permissions or MEDIA_DIR"
        )
    detail = f"{media_dir} writable" if media_dir.is_dir() else f"{media_dir} will be created (parent writable)"
    return ok("Media folder", detail)


def check_translation_models(packages_dir: Path) -> Check:
    ui_languages = [code for code in Catalogs().languages if code != "en"]
    missing = languages_without_path_to_english(ui_languages, packages_dir)
    covered = [code for code in ui_languages if code not in missing]
    if not missing:
        return ok("Translation models", f"all {len(ui_languages)} UI languages can be translated to English")
    detail = (
        f"{len(covered)} of {len(ui_languages)} UI languages translatable"
        + (f" ({' '.join(covered)})" if covered else "")
        + "; tips in the others show 'Language not supported by the translator'"
    )
    return warning(
        "Translation models",
        detail,
        f"`tracebot models install {' '.join(missing)}` (needs internet) or `--file X.argosmodel`",
        summary=f"{len(covered)} of {len(ui_languages)} UI languages translatable",
    )


def check_disk(paths: Sequence[Path]) -> list[Check]:
    """Free space on each filesystem that holds one of `paths` (media, models, the SQLite file)."""
    seen: dict[int, Path] = {}
    for path in paths:
        existing = _existing_ancestor(path)
        seen.setdefault(os.stat(existing).st_dev, existing)
    checks = []
    for path in seen.values():
        free = shutil.disk_usage(path).free
        detail = f"{_size(free)} free at {path}"
        if free < DISK_FAIL_BYTES:
            checks.append(problem("Disk space", detail, "free space: media imports and model installs will fail"))
        elif free < DISK_WARN_BYTES:
            checks.append(warning("Disk space", detail, "free some space before installing translation models"))
        else:
            checks.append(ok("Disk space", detail))
    return checks


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def _storage_paths(settings: StorageSettings) -> list[Path]:
    from storage.db import sqlite_file

    database = sqlite_file(settings.database_url)
    return [settings.media_dir, settings.argos_packages_dir, *([database] if database is not None else [])]


def _local_checks(settings: StorageSettings) -> list[Check]:
    return [
        check_media(settings.media_dir),
        check_translation_models(settings.argos_packages_dir),
        *check_disk(_storage_paths(settings)),
    ]


# --- the report ---------------------------------------------------------------------------------


async def run_doctor(*, webhook: bool = False) -> list[Check]:
    """Every check; the Bot API ones are skipped when the settings cannot be loaded."""
    settings: Settings | None = None
    storage: StorageSettings | None = None
    error: SettingsError | None = None
    try:
        settings = load_settings()
        storage = settings
    except SettingsError as exc:
        error = exc
        try:
            storage = load_storage_settings()
        except SettingsError:
            storage = None
    checks = [check_settings(settings, error)]
    if storage is None:
        checks.append(Check("Database", Status.SKIPPED, "not checked: DATABASE_URL is invalid"))
    else:
        checks.append(await check_database(storage.database_url))
    if settings is None:
        checks.append(Check("Bot API", Status.SKIPPED, "not checked until the settings are valid"))
    else:
        checks.append(await check_bot_api(settings))
        if webhook or settings.webhook_url:
            checks.append(await check_webhook(settings))
    if storage is not None:
        checks += _local_checks(storage)
    return checks


def failed(checks: Sequence[Check]) -> bool:
    return any(check.status is Status.FAIL for check in checks)


def quick_summary(settings: StorageSettings) -> str:
    """One line from the fast, local checks (no network, no database), for `run` and the demo."""
    checks = _local_checks(settings)
    problems = [check for check in checks if check.status in (Status.FAIL, Status.WARN)]
    if not problems:
        return "doctor: ✓ media folder, disk space, translation models (`tracebot doctor` checks everything)"
    parts = [f"{check.status.value} {check.name.lower()}: {check.summary or check.detail}" for check in problems]
    return "doctor: " + "; ".join(parts) + " (`tracebot doctor` for details)"
