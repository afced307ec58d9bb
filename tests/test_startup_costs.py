"""What a start costs: heavy modules stay unloaded until used, and the schema check needs no Alembic."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys

from alembic.script import ScriptDirectory

from storage.db import create_engine
from storage.migrate import alembic_config, current_revision, head_revision, upgrade

# Imported by `tracebot run` only when needed: a migration, a translation model, a CLI progress bar,
# an uploaded image or a poster's QR code.
LAZY = (
    "alembic",
    "ctranslate2",
    "sentencepiece",
    "rich",
    "click",
    "pygments",
    "sqlalchemy.dialects.postgresql",
    "PIL",
    "segno",
)
SERVER_IMPORTS = """
import sys
sys.modules.setdefault("httpx._main", None)  # as `tracebot run` does
from bot.cli import build_parser
build_parser()
import bot.web, review, review.app  # review.app: what mounting the dashboard imports
print(" ".join(name for name in sys.argv[1:] if name in sys.modules))
"""


def test_the_server_loads_no_heavy_module_it_does_not_use() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", SERVER_IMPORTS, *LAZY], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []


def test_head_revision_read_from_the_files_is_alembics() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def test_current_revision_without_alembic(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) is None  # nothing migrated yet
        await asyncio.to_thread(upgrade, database_url, "0003")
        assert await current_revision(engine) == "0003"
        await asyncio.to_thread(upgrade, database_url)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_what_start_up_built_is_frozen_out_of_full_collections() -> None:
    from aiohttp import web

    from bot.web import freeze_startup_objects

    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    try:
        await freeze_startup_objects(web.Application())
        assert gc.get_freeze_count() > 10_000  # the modules, the schema, the app: all long-lived
        assert gc.get_threshold()[0] >= 10_000  # a turn's short-lived objects are not walked every update
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
