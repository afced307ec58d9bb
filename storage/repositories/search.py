"""The searchable copy of each tip: masked when the text is written, masked again when the rules change.

Search never reads `text_original` or `text_english`: it matches `search_text`, which holds only what
a moderator may see (contacts masked, `storage.pii`), so no query can find a hidden digit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Tip
from storage.pii import MASK_VERSION, normalise_search, search_text


def escape_like(text: str) -> str:
    """Make user text literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(text: str) -> ColumnElement[bool] | None:
    """Tips whose masked text contains `text` (normalised like the column); None for an empty query.

    Rows masked by older rules (or not yet) never match until they are masked again.
    """
    needle = normalise_search(text)
    if not needle:
        return None
    return Tip.search_text.like(f"%{escape_like(needle)}%", escape="\\") & (Tip.search_mask_version >= MASK_VERSION)


def search_values(text_original: str | None, text_english: str | None) -> dict[str, object]:
    """The search columns for a tip with this text, to write along with the text itself."""
    return {"search_text": search_text(text_original, text_english), "search_mask_version": MASK_VERSION}


@dataclass(frozen=True, slots=True)
class TipText:
    tip_id: int
    text_original: str
    text_english: str | None


def _stale() -> ColumnElement[bool]:
    return or_(Tip.search_mask_version.is_(None), Tip.search_mask_version < MASK_VERSION)


class TipSearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def stale(self, after_id: int, limit: int) -> list[TipText]:
        """Up to `limit` tips after `after_id` masked by older rules (locked, skipped if another worker holds them)."""
        rows = await self._session.execute(
            select(Tip.id, Tip.text_original, Tip.text_english)
            .where(Tip.id > after_id, _stale())
            .order_by(Tip.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [TipText(tip_id, original, english) for tip_id, original, english in rows.all()]

    async def store(self, masked: Sequence[tuple[int, str]]) -> None:
        """Write precomputed `(tip id, search text)` pairs, masked with the current rules."""
        if not masked:
            return
        statement = (
            update(Tip)
            .where(Tip.id == bindparam("tip_id"))
            .values(search_text=bindparam("masked"), search_mask_version=MASK_VERSION)
        )
        connection = await self._session.connection()
        await connection.execute(statement, [{"tip_id": tip_id, "masked": text} for tip_id, text in masked])

    async def refresh(self, tip_ids: Iterable[int]) -> None:
        """Mask these tips' text again from what is stored now (after a change outside the repositories)."""
        ids = sorted(set(tip_ids))
        if not ids:
            return
        rows = await self._session.execute(
            select(Tip.id, Tip.text_original, Tip.text_english).where(Tip.id.in_(ids)).with_for_update()
        )
        await self.store([(tip_id, search_text(original, english)) for tip_id, original, english in rows.all()])
