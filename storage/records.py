"""Plain records that repositories return: callers never hold live ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.models import format_tip_reference


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    id: int
    reference: str
    question: str
    hint: str | None
    image_path: str
    telegram_file_id: str | None
    status: str
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def question_in(self, language: str) -> str:
        return self.translations.get(language, {}).get("question") or self.question

    def hint_in(self, language: str) -> str | None:
        return self.translations.get(language, {}).get("hint") or self.hint


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: int
    code: str
    title: str
    active: bool


@dataclass(frozen=True, slots=True)
class ReporterRecord:
    id: int
    alias: str
    language: str
    telegram_language: str | None
    campaign_id: int | None
    opted_in: bool
    stopped: bool
    blocked: bool
    wants_news: bool


@dataclass(slots=True)
class ConversationRecord:
    """Mutable on purpose: handlers change it and the unit of work saves it."""

    reporter_id: int
    state: str
    object_id: int | None = None
    campaign_id: int | None = None
    draft: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TipRecord:
    id: int
    object_id: int
    object_reference: str
    campaign_id: int | None
    campaign_code: str | None
    reporter_alias: str | None
    recognised: bool
    country_code: str | None
    country_text: str | None
    text_original: str
    latitude: float | None
    longitude: float | None
    ui_language: str
    language: str | None
    language_confidence: float | None
    text_english: str | None
    translation_status: str
    status: str
    created_at: datetime

    @property
    def reference(self) -> str:
        return format_tip_reference(self.id)
