"""Mask the searchable copy of tips again after the masking rules changed (`MASK_VERSION`).

Run at start-up after the schema upgrade and by `tracebot db reindex-search`. Batches of tips are
claimed in id order, masked in a worker thread and written in one short transaction each, so the
event loop and other writers are never held up for long; until a row is done, search skips it.
"""

from __future__ import annotations

import asyncio
import logging

from storage.pii import search_text
from storage.repositories.search import TipText
from storage.uow import Database

log = logging.getLogger(__name__)

BATCH = 500


def _mask_batch(tips: list[TipText]) -> list[tuple[int, str]]:
    return [(tip.tip_id, search_text(tip.text_original, tip.text_english)) for tip in tips]


async def reindex_search(database: Database, batch: int = BATCH) -> int:
    """Mask every tip whose search copy is older than the current rules; returns how many were done."""
    done, after_id = 0, 0
    while True:
        async with database.unit_of_work() as uow:
            tips = await uow.tip_search.stale(after_id, batch)
            if not tips:
                break
            await uow.tip_search.store(await asyncio.to_thread(_mask_batch, tips))
            await uow.commit()
        done += len(tips)
        after_id = tips[-1].tip_id
    if done:
        log.info("search copy of %d tips masked with the current rules", done)
    return done
