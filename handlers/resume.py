"""Redelivered updates: show the reporter where they are again.

Telegram redelivers an update only when it got no answer: the process died after committing
the update but maybe before the reply went out. The update is not processed twice; instead the
current step is shown again, so the reporter is never left waiting for a reply that was lost.
"""

from __future__ import annotations

from telegram.ext import Application

from handlers import browse, keyboards, tip, urgent
from handlers.start import welcome_text
from handlers.turn import RESUME_KEY, Step, Turn


async def show_current_step(turn: Turn) -> None:
    step = turn.step
    if step is Step.STOPPED:
        turn.say(turn.gettext("You have stopped receiving objects. Send /start whenever you want to come back."))
    elif step is Step.WELCOME or not turn.reporter.opted_in:
        turn.say(welcome_text(turn), keyboards.opt_in(turn))
    elif step is Step.BROWSING:
        await browse.show_current_or_first(turn)
    elif step is Step.COUNTRY:
        tip.ask_country(turn)
    elif step is Step.COUNTRY_TYPED:
        turn.say(turn.gettext("Please type the name of the country."))
    elif step is Step.DETAILS:
        tip.ask_details(turn)
    elif step in urgent.STEPS:
        urgent.remind(turn)
    elif step in (Step.ANSWERING, Step.ADDING):
        turn.say(turn.gettext("Please write your answer."))
    else:
        await tip.show_preview(turn)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.bot_data[RESUME_KEY] = show_current_step
