"""The moderator dashboard (aiohttp + jinja2, server-rendered)."""

from __future__ import annotations

from aiohttp import web

from storage.uow import Database

DATABASE = web.AppKey("database", Database)
