"""Funnel counts for a turn: added to the day's counters in the turn's own unit of work.

Nothing here records who did what or when: only "one more" on a (day, campaign, object, channel,
step) counter. The conversation keeps the campaign and channel tag of the link last opened (so a
tip is attributed) and which objects were already counted as viewed since then (no times).
"""

from __future__ import annotations

from handlers.turn import Turn
from storage.models import FunnelStep


async def count(turn: Turn, step: FunnelStep, object_id: int | None = None) -> None:
    conversation = turn.conversation
    await turn.uow.funnel.count(
        step, campaign_id=conversation.campaign_id, object_id=object_id, channel=conversation.channel
    )


async def count_view(turn: Turn, object_id: int) -> None:
    """ "Object viewed" once per object per visit: paging back and forth does not count again."""
    if object_id in turn.conversation.viewed:
        return
    turn.conversation.viewed = [*turn.conversation.viewed, object_id]
    await count(turn, FunnelStep.OBJECT_VIEWED, object_id)
