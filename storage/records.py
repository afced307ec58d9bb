"""Plain records that repositories return: callers never hold live ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
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
    status: str  # CampaignStatus
    all_active: bool = False
    starts_on: date | None = None
    ends_on: date | None = None
    intro: dict[str, str] = field(default_factory=dict)

    def state_on(self, today: date) -> str:
        """The status that counts today: dates outside the run make an active campaign paused or ended."""
        if self.status == "active" and self.ends_on is not None and today > self.ends_on:
            return "ended"
        if self.status == "active" and self.starts_on is not None and today < self.starts_on:
            return "paused"
        return self.status

    def intro_in(self, language: str) -> str | None:
        return self.intro.get(language) or self.intro.get("en") or None


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
    channel: str | None = None
    viewed: list[int] = field(default_factory=list)
    draft: dict[str, Any] = field(default_factory=dict)
