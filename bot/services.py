"""The long-lived services every handler and web view may use, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from storage.uow import Database
from translations.i18n import Catalogs
from translations.worker import TranslationWorker


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    database: Database
    catalogs: Catalogs
    translation_worker: TranslationWorker | None = None

    @property
    def media_dir(self) -> Path:
        return self.settings.media_dir
