"""A typed PTB context: handlers reach services through properties, never raw dict keys.

It lives beside the handlers (not in `bot/`) so that the composition root is the one place that
imports everything and nothing imports it: `bot/` builds `Services` with its own `Settings`,
which handlers only see through the `HandlerSettings` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from telegram.ext import Application, CallbackContext, ExtBot

from handlers.photo_uploads import PhotoUploads
from storage.uow import Database
from translations.i18n import Catalogs
from translations.safety.hotlines import Hotlines
from translations.worker import TranslationWorker

SERVICES_KEY = "tracebot.services"


class HandlerSettings(Protocol):
    """The settings handlers read (bot.settings.Settings has these and more)."""

    @property
    def media_dir(self) -> Path: ...

    @property
    def max_tip_length(self) -> int: ...

    @property
    def default_language(self) -> str: ...

    @property
    def urgent_alert_url(self) -> str | None: ...


SettingsT_co = TypeVar("SettingsT_co", bound=HandlerSettings, covariant=True)


@dataclass(frozen=True, slots=True)
class Services(Generic[SettingsT_co]):
    """The long-lived services every handler and web view may use, built once at start-up."""

    settings: SettingsT_co
    database: Database
    catalogs: Catalogs
    translation_worker: TranslationWorker | None = None
    hotlines: Hotlines = field(default_factory=Hotlines)  # emergency contacts (HOTLINES_FILE applied)
    photo_uploads: PhotoUploads = field(default_factory=PhotoUploads)  # an object's photo uploaded once

    @property
    def media_dir(self) -> Path:
        return self.settings.media_dir


class TracebotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services[HandlerSettings]:
        services = self.application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, Services):
            raise RuntimeError("Tracebot services are not attached to the application")
        return services


TracebotApplication = Application[ExtBot[None], TracebotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


def attach_services(application: Application[Any, Any, Any, Any, Any, Any], services: Services[Any]) -> None:
    application.bot_data[SERVICES_KEY] = services
