"""An object's photo is uploaded once, however many people open its card at the same time
(`handlers.photo_uploads`); the cards sent meanwhile carry the upload's file id."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from emulator import BotApiEmulator
from handlers.photo_uploads import PhotoUploads
from storage.models import TracedObject
from tests.support.flows import welcomed
from tests.support.harness import RunningBot


async def test_a_burst_of_first_cards_makes_one_upload(bot: RunningBot, emulator: BotApiEmulator) -> None:
    async with bot.services.database.unit_of_work() as uow:
        assert not await uow.session.scalar(select(TracedObject.telegram_file_id).limit(1)), "no upload yet"
    users = [await welcomed(emulator, 7100 + n) for n in range(12)]
    await asyncio.gather(*(user.press("I understand, show me the objects") for user in users))
    cards = await asyncio.gather(*(user.wait_for_message(lambda m: m.kind == "photo") for user in users))
    file_ids = {card.photo_file_id for card in cards}
    assert len(file_ids) == 1, f"{len(file_ids)} uploads of one photo"  # each upload gets new file ids
    stored: set[str | None] = set()
    for _ in range(100):  # kept just after the upload, in its own unit of work
        async with bot.services.database.unit_of_work() as uow:
            stored = set(await uow.session.scalars(select(TracedObject.telegram_file_id)))
        if stored - {None}:
            break
        await asyncio.sleep(0.05)
    assert stored - {None} == file_ids


async def test_when_the_upload_fails_the_next_waiting_card_uploads_and_the_rest_reuse_its_id() -> None:
    uploads = PhotoUploads()
    first_started, fail_first, keep_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    sent: list[tuple[int, str]] = []
    uploaded: list[int] = []
    kept: list[str] = []

    async def keep(file_id: str) -> None:  # storing the file id: the waiting cards must not wait for it
        kept.append(file_id)
        await keep_done.wait()

    def card(n: int, image: str = "mug.jpg") -> asyncio.Task[None]:
        async def by_file_id(file_id: str) -> None:
            sent.append((n, file_id))

        async def upload() -> str | None:
            uploaded.append(n)
            if n == 0:
                first_started.set()
                await fail_first.wait()
                raise ConnectionError("the upload broke")
            await asyncio.sleep(0.01)
            sent.append((n, "upload"))
            return f"file-of-{n}"

        return asyncio.create_task(uploads.send(5, image, by_file_id, upload, keep))

    first = card(0)
    await first_started.wait()
    waiting = [card(n) for n in range(1, 6)]
    await asyncio.sleep(0.01)
    assert uploaded == [0]  # the others wait for the upload in flight
    fail_first.set()
    with pytest.raises(ConnectionError):
        await first
    await asyncio.sleep(0.1)
    assert len(sent) == 5 and len(kept) == 1  # all cards out while the file id is still being stored
    keep_done.set()
    await asyncio.gather(*waiting)
    assert len(uploaded) == 2  # one waiting card took over
    taker = uploaded[1]
    assert sorted(sent) == sorted([(taker, "upload")] + [(n, f"file-of-{taker}") for n in range(1, 6) if n != taker])
    await card(9)  # later cards reuse it too
    assert sent[-1] == (9, f"file-of-{taker}") and len(uploaded) == 2
    await card(10, "mug-2.jpg")  # the object's image replaced: uploaded afresh
    assert uploaded[2:] == [10] and sent[-1] == (10, "upload")
    assert kept == [f"file-of-{taker}", "file-of-10"]  # a failed upload stores nothing
