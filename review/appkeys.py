"""Keys of the host web application that the dashboard reads.

`bot.web` (the composition root) sets them; the dashboard never imports `bot`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from storage.uow import Database

DATABASE = web.AppKey("database", Database)
MEDIA_ROOT = web.AppKey("media_root", Path)
