"""What follows every committed tip once the reporter was told its reference (tips and urgent reports)."""

from __future__ import annotations

from handlers.turn import Outgoing, Turn


def after_tip_committed(turn: Turn, tip_id: int, told: Outgoing) -> None:
    """Queue: mark the reference delivered once `told` went out (else the sweeper re-sends it), wake the translator."""
    database = turn.context.services.database

    async def mark_confirmed() -> None:
        async with database.turn() as uow:
            await uow.confirmations.mark_confirmed(tip_id)
            await uow.commit()

    turn.later(mark_confirmed, method="markConfirmed", after=told)
    worker = turn.context.services.translation_worker
    if worker is not None:

        async def wake_translator() -> None:
            worker.wake()

        turn.later(wake_translator, method="wakeTranslator")
