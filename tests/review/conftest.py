"""Dashboard fixtures: a migrated database (copied from a template on SQLite), the app, a client."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import make_url

import review
from storage.migrate import upgrade
from storage.uow import Database
from tests.review.support import Seeded, dashboard_app, make_config, make_settings, seed, sign_in


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy instead of running every migration again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def migrated_url(database_url: str, sqlite_template: Path) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(sqlite_template, str(url.database))
    else:
        await asyncio.to_thread(upgrade, database_url)
    return database_url


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def make_client(migrated_url: str, media_dir: Path, aiohttp_client: Any) -> Callable[..., Any]:
    """`await make_client(**config)`: a test client on a fresh dashboard app."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        app = dashboard_app(make_settings(migrated_url, media_dir), make_config(**overrides))
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return make


@pytest.fixture
async def client(make_client: Callable[..., Any]) -> TestClient[Any, Any]:
    result: TestClient[Any, Any] = await make_client()
    return result


@pytest.fixture
def database(client: TestClient[Any, Any]) -> Database:
    return client.app[review.DATABASE]


@pytest.fixture
async def seeded(database: Database, media_dir: Path) -> Seeded:
    return await seed(database, media_dir)


@pytest.fixture
async def admin(client: TestClient[Any, Any], seeded: Seeded) -> TestClient[Any, Any]:
    """A client signed in as the admin `alice`."""
    response = await sign_in(client)
    assert response.status == 303, await response.text()
    return client


CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture
async def browser_page() -> AsyncIterator[Any]:
    if not await asyncio.to_thread(CHROMIUM.exists):
        if os.environ.get("TRACEBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing but TRACEBOT_REQUIRE_BROWSER=1")
        pytest.skip(f"browser tests need {CHROMIUM}")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = await browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 900})
            page = await context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            page.set_default_timeout(10_000)
            yield page
            assert not dialogs, f"a script ran in the dashboard: {dialogs}"
        finally:
            await browser.close()
