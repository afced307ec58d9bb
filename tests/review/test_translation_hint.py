"""A tip whose language has no translation model tells the moderator how to get one installed."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from storage.models import Tip
from storage.uow import Database
from tests.review.support import Seeded


async def test_unsupported_language_names_the_install_command(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    tip_id = seeded.tips[0]
    async with database.unit_of_work() as uow:
        unsupported = {"language": "de", "text_english": None, "translation_status": "unsupported"}
        await uow.session.execute(update(Tip).where(Tip.id == tip_id).values(**unsupported))
        await uow.commit()
    html = await (await admin.get(f"/review/tips/{tip_id}")).text()
    assert "Language not supported by the translator." in html
    assert "<code>tracebot models install de</code>" in html
    assert "--file de_en.argosmodel" in html

    other = seeded.tips[1]  # translated: no hint
    assert "tracebot models install" not in await (await admin.get(f"/review/tips/{other}")).text()
