"""The proactive-send limiter's rows: one transaction decides whether a send may start now.

A "ring" of `per_second` rows ("global:0".."global:N-1") each stands for one send allowed in any
one-second window. A send takes the ring row that became free first and holds it (`free_at` is
pushed a lease ahead, in case the process dies mid-send); when the send has completed the row is
freed one window after the completion. So the (N+1)-th send after a given one starts at least a
window after that one *finished*, hence after Telegram received it: whatever the network delays,
no window ever sees more than N. A "chat:<key>" row spaces sends to one chat the same way, and
the "pause" row holds everyone back after a 429 `retry_after`.

The "pause" row doubles as the mutex: on PostgreSQL it is locked FOR UPDATE first, so concurrent
deciders queue on it; on SQLite every transaction already starts with BEGIN IMMEDIATE.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SendSlot
from storage.repositories.upsert import insert_for

PAUSE_KEY = "pause"


def ring_keys(per_second: int) -> list[str]:
    return [f"global:{index}" for index in range(per_second)]


@dataclass(frozen=True, slots=True)
class SlotGrant:
    """What a started send holds until it is released."""

    chat_key: str
    ring_key: str | None  # None: no overall cap configured


class SendSlotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def try_take(self, chat_key: str, *, per_second: int, now: float, lease: float) -> SlotGrant | float:
        """Take the slots for one send starting `now`, or say how many seconds to wait first."""
        keys = [PAUSE_KEY, chat_key, *ring_keys(per_second)]
        await self._session.execute(
            insert_for(self._session, SendSlot)
            .values([{"key": key, "free_at": 0.0} for key in keys])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        paused_until = await self._session.scalar(
            select(SendSlot.free_at).where(SendSlot.key == PAUSE_KEY).with_for_update()
        )
        chat_free_at = await self._session.scalar(select(SendSlot.free_at).where(SendSlot.key == chat_key))
        ring_key, ring_free_at = None, 0.0
        if per_second:
            first_free = (
                await self._session.execute(
                    select(SendSlot.key, SendSlot.free_at)
                    .where(SendSlot.key.in_(keys[2:]))
                    .order_by(SendSlot.free_at, SendSlot.key)
                    .limit(1)
                )
            ).one()
            ring_key, ring_free_at = first_free.key, first_free.free_at
        wait = max(paused_until or 0.0, chat_free_at or 0.0, ring_free_at) - now
        if wait > 0:
            return wait
        held = [chat_key] if ring_key is None else [chat_key, ring_key]
        await self._session.execute(update(SendSlot).where(SendSlot.key.in_(held)).values(free_at=now + lease))
        return SlotGrant(chat_key, ring_key)

    async def release(self, grant: SlotGrant, *, completed_at: float, window: float, chat_spacing: float) -> None:
        """The send finished at `completed_at`: its slots free up a window (chat: a spacing) later."""
        await self._set(grant.chat_key, completed_at + chat_spacing)
        if grant.ring_key is not None:
            await self._set(grant.ring_key, completed_at + window)

    async def hold(self, key: str, until: float) -> None:
        """Nobody sends (to that chat, or at all for PAUSE_KEY) before `until` (a 429's retry_after)."""
        await self._session.execute(
            insert_for(self._session, SendSlot)
            .values(key=key, free_at=0.0)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        await self._session.execute(
            update(SendSlot).where(SendSlot.key == key, SendSlot.free_at < until).values(free_at=until)
        )

    async def _set(self, key: str, free_at: float) -> None:
        await self._session.execute(update(SendSlot).where(SendSlot.key == key).values(free_at=free_at))
