"""Wiring of the translation worker: detector + argos engine + database."""

from __future__ import annotations

from bot.settings import Settings
from storage.uow import Database
from translations.detect import LanguageDetector
from translations.engine import TranslationEngine
from translations.worker import TranslationWorker, WorkerOptions


def build_translation_engine(settings: Settings) -> TranslationEngine:
    return TranslationEngine(settings.argos_packages_dir, intra_threads=settings.translation_threads)


def build_translation_worker(
    settings: Settings, database: Database, engine: TranslationEngine | None = None
) -> TranslationWorker:
    engine = engine or build_translation_engine(settings)
    return TranslationWorker(
        database, LanguageDetector(), engine, WorkerOptions(batch_size=settings.translation_batch_size)
    )
