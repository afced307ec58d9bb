"""Plain records that repositories return: callers never hold live ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
