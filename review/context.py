"""Typed keys for the dashboard's app state, and request accessors for the signed-in moderator."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from review.appkeys import DATABASE
from review.config import DashboardConfig
from review.security import Passwords
from review.throttle import LoginThrottle
from storage.repositories.moderators import ModeratorRecord, SessionRecord
from storage.uow import Database, UnitOfWork

CONFIG = web.AppKey("review_config", DashboardConfig)
TEMPLATES = web.AppKey("review_templates", jinja2.Environment)
PASSWORDS = web.AppKey("review_passwords", Passwords)
THROTTLE = web.AppKey("review_throttle", LoginThrottle)
MEDIA_DIR = web.AppKey("review_media_dir", Path)

_SESSION = web.RequestKey("review_session", SessionRecord)


def database(request: web.Request) -> Database:
    return request.config_dict[DATABASE]


def unit_of_work(request: web.Request) -> UnitOfWork:
    return database(request).unit_of_work()


def config(request: web.Request) -> DashboardConfig:
    return request.config_dict[CONFIG]


def set_session(request: web.Request, session: SessionRecord) -> None:
    request[_SESSION] = session


def optional_session(request: web.Request) -> SessionRecord | None:
    return request.get(_SESSION)


def current_session(request: web.Request) -> SessionRecord:
    session = optional_session(request)
    if session is None:  # the session middleware guarantees one on every non-public route
        raise web.HTTPUnauthorized()
    return session


def current_moderator(request: web.Request) -> ModeratorRecord:
    return current_session(request).moderator


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FilterOptionsCache:
    """Languages, countries, objects and campaigns for filter menus, refreshed at most once a minute.

    Listing the distinct values costs a scan of an index; the menus need not be to-the-second.
    """

    ttl: float = 60.0
    _loaded_at: float = -1e9
    _value: dict[str, Any] = field(default_factory=dict)

    async def get(self, request: web.Request) -> dict[str, Any]:
        now = time.monotonic()
        if now - self._loaded_at > self.ttl:
            async with unit_of_work(request) as uow:
                languages, countries = await uow.review_stats.filter_options()
                objects = await uow.review_stats.object_choices()
                campaigns = await uow.review_stats.campaign_choices()
            self._value = {"languages": languages, "countries": countries, "objects": objects, "campaigns": campaigns}
            self._loaded_at = now
        return self._value

    def invalidate(self) -> None:
        self._loaded_at = -1e9


OPTIONS = web.AppKey("review_options", FilterOptionsCache)
