"""Contact details are masked unless an admin reveals them (audited); moderators can block a reporter."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from storage.models import AuditEvent, Reporter, Tip
from storage.pii import mask_contacts
from storage.uow import Database
from tests.review.support import Seeded, page_csrf, sign_in

CONTACTS = "Call Jan on +48 601 234 567 or jan.k@example.pl, barcode 4006381333931, seen 12.03.2024"


def test_masking_keeps_evidence() -> None:
    masked = mask_contacts(CONTACTS)
    assert "601" not in masked and "jan.k@example.pl" not in masked
    assert "[phone number hidden]" in masked and "[e-mail hidden]" in masked
    assert "4006381333931" in masked, "EAN-13 barcodes are evidence, not phone numbers"
    assert "12.03.2024" in masked, "dates stay"
    assert mask_contacts("tel 030 12345678 / 0171-1234567") == "tel [phone number hidden] / [phone number hidden]"


async def _with_contacts(database: Database, seeded: Seeded) -> int:
    tip_id = seeded.tips[0]
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(Tip).where(Tip.id == tip_id).values(text_original=CONTACTS, text_english=CONTACTS)
        )
        await uow.tip_search.refresh([tip_id])  # written behind the repositories' back
        await uow.commit()
    return tip_id


async def test_contacts_masked_everywhere_for_moderators(
    client: TestClient[Any, Any], database: Database, seeded: Seeded
) -> None:
    tip_id = await _with_contacts(database, seeded)
    await sign_in(client, "bob")
    for path in (f"/review/tips/{tip_id}", "/review/tips", f"/review/objects/{seeded.objects['TAO-0001']}"):
        body = await (await client.get(path)).text()
        assert "601 234 567" not in body and "jan.k@example.pl" not in body, path
    page = await (await client.get(f"/review/tips/{tip_id}")).text()
    assert "Reveal contact details" not in page, "only admins may reveal"
    csrf = await page_csrf(client, f"/review/tips/{tip_id}")
    refused = await client.post(f"/review/tips/{tip_id}/reveal", data={"csrf_token": csrf}, allow_redirects=False)
    assert refused.status in (403, 404)
    export = await (await client.get("/review/export.csv")).text()
    assert "601 234 567" not in export and "jan.k@example.pl" not in export


async def test_admin_reveal_is_audited(admin: TestClient[Any, Any], database: Database, seeded: Seeded) -> None:
    tip_id = await _with_contacts(database, seeded)
    page = await (await admin.get(f"/review/tips/{tip_id}")).text()
    assert "Reveal contact details" in page and "601 234 567" not in page
    csrf = await page_csrf(admin, f"/review/tips/{tip_id}")
    revealed = await admin.post(f"/review/tips/{tip_id}/reveal", data={"csrf_token": csrf})
    assert revealed.status == 200
    assert revealed.headers["Cache-Control"] == "no-store"
    text = await revealed.text()
    assert "+48 601 234 567" in text and "jan.k@example.pl" in text
    async with database.session_factory() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(tip_id)))).all()
    assert "tip.reveal_contacts" in actions


async def test_moderator_blocks_and_unblocks_a_reporter(
    client: TestClient[Any, Any], database: Database, seeded: Seeded
) -> None:
    await sign_in(client, "bob")
    tip_id = seeded.tips[3]
    csrf = await page_csrf(client, f"/review/tips/{tip_id}")
    response = await client.post(f"/review/tips/{tip_id}/block", data={"csrf_token": csrf, "blocked": "1"})
    assert response.status == 200
    assert "Unblock reporter" in await response.text()
    async with database.session_factory() as session:
        blocked = await session.scalar(
            select(Reporter.blocked).join(Tip, Tip.reporter_id == Reporter.id).where(Tip.id == tip_id)
        )
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert blocked is True and "reporter.block" in actions
    csrf = await page_csrf(client, f"/review/tips/{tip_id}")
    await client.post(f"/review/tips/{tip_id}/block", data={"csrf_token": csrf, "blocked": "0"})
    async with database.session_factory() as session:
        blocked = await session.scalar(
            select(Reporter.blocked).join(Tip, Tip.reporter_id == Reporter.id).where(Tip.id == tip_id)
        )
    assert blocked is False
