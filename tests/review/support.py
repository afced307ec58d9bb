"""Build a dashboard app on a real (migrated) database, seed it through the repositories, sign in."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image
from sqlalchemy import update

import review
from bot.settings import Settings, load_settings
from bot.web import error_middleware
from review.config import MAX_REQUEST_MB, DashboardConfig
from review.security import Passwords
from storage.db import create_engine, create_session_factory
from storage.models import ModeratorRole, Tip, TranslationStatus
from storage.privacy import Privacy
from storage.repositories import TipDraft
from storage.repositories.translation_jobs import TranslationResult
from storage.uow import Database

SECRET_KEY = "review-test-secret-key-0123456789abcdef"
PASSWORD = "correct horse battery staple"
CHEAP = Passwords(time_cost=1, memory_kib=1024)  # tests sign in often; production cost is in DashboardConfig
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_config(**overrides: Any) -> DashboardConfig:
    values: dict[str, Any] = {"cookie_secure": False, "argon2_time_cost": 1, "argon2_memory_kib": 1024}
    values.update(overrides)
    return DashboardConfig(**values)


def make_settings(database_url: str, media_dir: Path) -> Settings:
    return load_settings(
        telegram_bot_token="123456:REVIEW-test-token",
        database_url=database_url,
        secret_key=SECRET_KEY,
        media_dir=media_dir,
        webhook_url=None,
    )


def dashboard_app(settings: Settings, config: DashboardConfig) -> web.Application:
    """The web app with only the database and the dashboard: no bot, so tests start fast."""
    app = web.Application(client_max_size=MAX_REQUEST_MB * 1024 * 1024, middlewares=[error_middleware])
    app[review.MEDIA_ROOT] = settings.media_dir

    async def database_context(app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app[review.DATABASE] = Database(create_session_factory(engine), Privacy(SECRET_KEY))
        try:
            yield
        finally:
            await engine.dispose()

    app.cleanup_ctx.append(database_context)
    review.setup_with(config)(app)
    return app


def write_png(path: Path, colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), colour).save(path, "PNG")


@dataclass
class Seeded:
    objects: dict[str, int]
    campaign_id: int
    tips: list[int]
    admin_id: int
    moderator_id: int


TIPS: list[dict[str, Any]] = [
    {"object": "TAO-0001", "country": "DE", "text": "Blaue Tasse aus Hamburg, gekauft 2019", "language": "de",
     "english": "Blue mug from Hamburg, bought in 2019", "user": 1},
    {"object": "TAO-0001", "country": "DE", "text": "Same mug at my grandmother's kitchen in Bremen", "language": "en",
     "english": "Same mug at my grandmother's kitchen in Bremen", "user": 1},
    {"object": "TAO-0001", "country": "PL", "text": "Kubek z Krakowa", "language": "pl", "english": None, "user": 2,
     "lat": 50.06143, "lon": 19.93658},
    {"object": "TAO-0002", "country": "FR", "text": "Rideau vendu chez Ikea Lyon", "language": "fr",
     "english": "Curtain sold at Ikea Lyon", "user": 3},
    {"object": "TAO-0002", "country": None, "text": "<script>alert(1)</script>", "language": "en",
     "english": '"><img src=x onerror=alert(1)>', "user": 4},
    {"object": "TAO-0002", "country": "ES", "text": "=HYPERLINK(\"http://evil\")", "language": "es",
     "english": "+cmd|' /C calc'!A0", "user": 4},
    {"object": "TAO-0001", "country": "DE", "text": "50% off_sale mug", "language": "en",
     "english": "50% off_sale mug", "user": 5},
]  # fmt: skip


async def seed(database: Database, media_dir: Path) -> Seeded:
    """Two objects, a campaign, an admin and a moderator, and the tips above (oldest first)."""
    write_png(media_dir / "mug.png", (40, 90, 160))
    write_png(media_dir / "curtain.png", (160, 60, 70))
    async with database.unit_of_work() as uow:
        mug, _ = await uow.objects.upsert(
            reference="TAO-0001", question="Do you know this mug?", hint=None, image_path="mug.png",
            image_sha256="0" * 64, position=0,
        )  # fmt: skip
        curtain, _ = await uow.objects.upsert(
            reference="TAO-0002", question="Where is this curtain from?", hint="Hexagon pattern",
            image_path="curtain.png", image_sha256="1" * 64, position=1,
        )  # fmt: skip
        campaign = await uow.campaigns.upsert(code="spring", title="Spring appeal", object_ids=[mug.id, curtain.id])
        admin = await uow.moderators.add("alice", CHEAP.hash(PASSWORD), ModeratorRole.ADMIN)
        moderator = await uow.moderators.add("bob", CHEAP.hash(PASSWORD), ModeratorRole.MODERATOR)
        objects = {"TAO-0001": mug.id, "TAO-0002": curtain.id}
        tips = []
        for spec in TIPS:
            reporter, _, _ = await uow.reporters.open_chat(
                900_000 + spec["user"],
                900_000 + spec["user"],
                language="en",
                telegram_language="en",
                initial_state="idle",
            )
            tip_id, _ = await uow.tips.submit(
                TipDraft(
                    draft_token=str(uuid.uuid4()),
                    object_id=objects[spec["object"]],
                    reporter_id=reporter.id,
                    campaign_id=campaign.id if spec["user"] != 5 else None,
                    recognised=True,
                    country_code=spec["country"],
                    country_text=None,
                    text_original=spec["text"],
                    latitude=spec.get("lat"),
                    longitude=spec.get("lon"),
                    ui_language="en",
                )
            )
            if spec["english"]:  # saved as the translation worker saves it (which masks the search copy)
                result = TranslationResult(
                    tip_id, TranslationStatus.DONE, spec["language"], 0.93, "test", text_english=spec["english"]
                )
                await uow.translation_jobs.complete(result, datetime.now(UTC))
            else:
                await uow.session.execute(
                    update(Tip).where(Tip.id == tip_id).values(language=spec["language"], language_confidence=0.93)
                )
            tips.append(tip_id)
        await uow.commit()
    return Seeded(objects, campaign.id, tips, admin.id, moderator.id)


async def set_created(database: Database, tip_id: int, when: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.session.execute(update(Tip).where(Tip.id == tip_id).values(created_at=when.astimezone(UTC)))
        await uow.commit()


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has a CSRF field"
    return match.group(1)


async def sign_in(
    client: TestClient[Any, Any], username: str = "alice", password: str = PASSWORD, next_: str = ""
) -> Any:
    """Fetch the sign-in form (for its token) and post it; returns the (unfollowed) response."""
    page = await client.get("/review/login")
    token = csrf_of(await page.text())
    return await client.post(
        "/review/login",
        data={"csrf_token": token, "username": username, "password": password, "next": next_},
        allow_redirects=False,
    )


async def page_csrf(client: TestClient[Any, Any], path: str = "/review/tips") -> str:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return csrf_of(await response.text())
