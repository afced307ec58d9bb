"""Telegram update handlers, one module per feature, composed in `register_all`."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    browse,
    commands,
    errors,
    flood,
    followup,
    language,
    media,
    news,
    privacy,
    resume,
    start,
    tip,
    urgent,
)


def register_all(application: Application) -> None:  # type: ignore[type-arg]
    """Compose every feature. Order matters only within a group: specific before general."""
    flood.register(application)
    resume.register(application)
    start.register(application)
    browse.register(application)
    commands.register(application)
    news.register(application)
    language.register(application)
    privacy.register(application)
    urgent.register(application)
    followup.register(application)
    tip.register(application)
    media.register(application)
    commands.register_fallbacks(application)
    errors.register(application)
