"""Keys of the host web application that the dashboard reads.

`bot.web` (the composition root) sets them; the dashboard never imports `bot`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from storage.uow import Database
from translations.worker import Translator

DATABASE = web.AppKey("database", Database)
MEDIA_ROOT = web.AppKey("media_root", Path)
# Machine translation (argos) for announcements' en→xx step; absent: English goes to everyone.
TRANSLATOR = web.AppKey("translator", Translator)  # type: ignore[type-abstract]
