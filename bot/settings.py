"""Typed settings, read once from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from translations.safety.hotlines import Hotlines

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,200}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/tracebot.db"


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line for the operator."""


class StorageSettings(BaseSettings):
    """What the database and catalog commands need (no bot token required)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    media_dir: Path = Path("./data/media")
    argos_packages_dir: Path = Path("./data/argos-packages")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Accept the plain forms operators usually paste and pick the async driver for them.
        if value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        elif value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class Settings(StorageSettings):
    """Every knob Tracebot has. Names map 1:1 to upper-case environment variables."""

    telegram_bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram/webhook"
    secret_key: SecretStr
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    max_tip_length: Annotated[int, Field(ge=100, le=4000)] = 2000
    default_language: str = "en"
    max_concurrent_updates: Annotated[int, Field(ge=1, le=10_000)] = 256
    # Proactive sends (announcements, thank-yous, re-sent references) per second, across every instance
    # and worker together; 0: no overall cap (each chat still gets at most one per second).
    telegram_rate_limit: Annotated[int, Field(ge=0, le=1000)] = 30
    # The chat that receives an announcement's preview from the dashboard (e.g. the team's own chat
    # with the bot, or a group the bot is in); unset: previews are refused.
    announcement_preview_chat_id: int | None = None
    translation_worker: Literal["inline", "off"] = "inline"
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 180
    confirmation_grace_seconds: Annotated[float, Field(ge=1, le=3600)] = 20.0
    translation_batch_size: Annotated[int, Field(ge=1, le=1024)] = 64
    translation_threads: Annotated[int, Field(ge=0, le=64)] = 0
    public_url: str | None = None
    urgent_alert_url: str | None = None
    hotlines_file: Path | None = None
    followup_open_questions_per_tip: Annotated[int, Field(ge=1, le=20)] = 3
    followup_questions_per_moderator_hour: Annotated[int, Field(ge=1, le=1000)] = 20
    followup_questions_per_reporter_day: Annotated[int, Field(ge=1, le=100)] = 3

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_PATTERN.match(value.get_secret_value()):
            raise ValueError("must look like 123456789:AA... (from @BotFather)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_strength(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("public_url", "urgent_alert_url", "hotlines_file", "announcement_preview_chat_id", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("hotlines_file")
    @classmethod
    def _hotlines_readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            Hotlines(value)  # a malformed file stops start-up with one line naming the entry
        return value

    @field_validator("telegram_api_url", "webhook_url", "public_url", "urgent_alert_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    @property
    def bot_api_base_url(self) -> str:
        return f"{self.telegram_api_url}/bot"

    @property
    def bot_api_file_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"


SettingsT = TypeVar("SettingsT", bound=StorageSettings)


def load_settings(**overrides: Any) -> Settings:
    """Read all settings, turning validation failures into one readable `SettingsError` line."""
    return _load(Settings, overrides)


def load_storage_settings(**overrides: Any) -> StorageSettings:
    """Only what database and catalog commands need."""
    return _load(StorageSettings, overrides)


def _load(cls: type[SettingsT], overrides: dict[str, Any]) -> SettingsT:
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper()
            reason = "is required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
            problems.append(f"{name} {reason}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
