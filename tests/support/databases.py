"""Test databases: a fresh SQLite file, or a fresh database on the PostgreSQL server CI starts."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_ENV = "TRACEBOT_TEST_POSTGRES_URL"


def postgres_server_url() -> str | None:
    """The server URL, or None. With TRACEBOT_REQUIRE_POSTGRES=1 (CI) a missing server fails the test."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url.replace("postgresql://", "postgresql+asyncpg://", 1)
    if os.environ.get("TRACEBOT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{POSTGRES_ENV} is not set but TRACEBOT_REQUIRE_POSTGRES=1")
    pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    return None


@asynccontextmanager
async def fresh_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """Yield the URL of an empty database of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tracebot-test.db'}"
        return
    server = postgres_server_url()
    assert server is not None
    name = f"tracebot_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
