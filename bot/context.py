"""A typed PTB context: handlers reach services through properties, never raw dict keys."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services

SERVICES_KEY = "tracebot.services"


class TracebotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        services = self.application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, Services):
            raise RuntimeError("Tracebot services are not attached to the application")
        return services


TracebotApplication = Application[ExtBot[None], TracebotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


def attach_services(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.bot_data[SERVICES_KEY] = services
