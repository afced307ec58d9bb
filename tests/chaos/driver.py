"""A simulated tipster who keeps trying until a tip reference arrives, whatever the bot goes through.

The driver reacts to what the bot last showed (welcome -> opt in, object card -> write the tip,
country question -> Germany, preview -> Send) and recovers from stalls: a reply lost because the
bot died between commit and reply is answered by sending the tip text again (which re-shows the
question or the preview), and a second stall in a row by starting a fresh attempt with /cancel
and /start. Every attempt writes a unique nonce into its text, so the database can be compared
with what this user actually confirmed: Send is pressed only on a preview that shows the current
attempt's nonce, and an attempt on which Send was pressed is never reused.
"""

from __future__ import annotations

import asyncio
import enum
import random
import re
from dataclasses import dataclass, field

from emulator import BotApiEmulator, BotMessage, SimulatedUser

REFERENCE = re.compile(r"\bT-\d{6}\b")
NONCE = re.compile(r"\bchaos-\d+-\d+\b")


class Phase(enum.Enum):
    FLOW = "flow"  # working towards a preview
    SENT = "sent"  # pressed Send, waiting for the reference
    DONE = "done"  # a reference arrived


@dataclass
class DriverStats:
    """What happened to one user, summed up by the tests."""

    actions: int = 0
    stalls: int = 0
    restarts: int = 0  # fresh attempts after a stall
    error_replies: int = 0  # "Sorry, something went wrong"
    flood_warnings: int = 0


@dataclass
class TipUser:
    """One tipster; `run()` returns when a reference arrived or the deadline passed."""

    emulator: BotApiEmulator
    user_id: int
    deadline: float  # loop time
    stall_timeout: float = 5.0
    think: tuple[float, float] = (0.0, 0.0)  # seconds a person takes before each action
    sent_timeout: float = 15.0  # the sweeper re-sends a lost reference; give it time (and restarts)
    attempt: int = 0
    phase: Phase = Phase.FLOW
    confirmed: set[str] = field(default_factory=set)  # nonces of previews on which Send was pressed
    stats: DriverStats = field(default_factory=DriverStats)
    _stalls_in_row: int = 0
    _seen_card: bool = False
    _pressed_revision: int = 0  # the draft revision of the preview on which Send was pressed

    def __post_init__(self) -> None:
        self.user: SimulatedUser = self.emulator.user(self.user_id, first_name="Chaos", language_code="en")
        self._rng = random.Random(self.user_id)

    @property
    def nonce(self) -> str:
        return f"chaos-{self.user_id}-{self.attempt}"

    @property
    def tip_text(self) -> str:
        # More than three words and no country name: in the country step it is never taken for one.
        return f"Spotted at a market stall, note {self.nonce}"

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        await self._command("start")
        while not self.done:
            remaining = self.deadline - loop.time()
            if remaining <= 0:
                return
            timeout = self.sent_timeout if self.phase is Phase.SENT else self.stall_timeout
            try:
                message = await self.user.wait_for_message(_fresh, timeout=min(timeout, remaining))
            except TimeoutError:
                if loop.time() < self.deadline:
                    await self._recover()
                continue
            await self._react(message)

    # -- actions ---------------------------------------------------------------------------

    async def _pause(self) -> None:
        self.stats.actions += 1
        low, high = self.think
        if high > 0:
            await asyncio.sleep(self._rng.uniform(low, high))

    async def _command(self, command: str) -> None:
        await self._pause()
        await self.user.send_command(command)

    async def _write_tip(self) -> None:
        await self._pause()
        await self.user.send_text(self.tip_text)

    async def _press(self, message: BotMessage, data: str) -> None:
        await self._pause()
        await self.user.press_data(message.message_id, data)

    async def _press_send(self, message: BotMessage, send: str) -> None:
        self._pressed_revision = _revision(send)
        await self._press(message, send)

    def _new_attempt(self) -> None:
        self.attempt += 1
        self.phase = Phase.FLOW
        self.stats.restarts += 1

    # -- reacting --------------------------------------------------------------------------

    async def _react(self, message: BotMessage) -> None:
        text = message.plain_text
        data = {value for row in message.buttons for _, value in row if value}
        if REFERENCE.search(text):
            self.phase = Phase.DONE
            return
        if "Sorry, something went wrong" in text:
            self.stats.error_replies += 1
            return
        if "very quickly" in text:
            self.stats.flood_warnings += 1
            return
        self._stalls_in_row = 0
        send = next((value for value in data if value.startswith("tip:send")), None)
        shown = NONCE.search(text)
        current = shown is not None and shown.group() == self.nonce
        if self.phase is Phase.SENT:
            # Only the reference matters now, with one exception: Send is tied to the preview's draft
            # revision, and a press on a preview that a later one replaced (a stall made us write the
            # tip again) is answered with the newer preview instead of saving. The bot said nothing
            # was saved, so the reporter presses Send on what it now shows: same attempt, same nonce.
            if send is not None and current and _revision(send) > self._pressed_revision:
                await self._press_send(message, send)
            return
        if send is not None:
            if current:
                self.confirmed.add(self.nonce)
                self.phase = Phase.SENT
                await self._press_send(message, send)
            else:  # a preview of an older attempt: make the bot show the current one
                await self._write_tip()
        elif any(value.startswith("cty:") for value in data):
            await self._press(message, "cty:DE")
        elif "optin" in data:
            await self._press(message, "optin")
        elif any(value.startswith("tip:new:") for value in data):
            self._seen_card = True
            await self._write_tip()
        elif "What do you know" in text:
            await self._write_tip()

    async def _recover(self) -> None:
        self.stats.stalls += 1
        self._stalls_in_row += 1
        if self.phase is Phase.SENT:
            # The reference never came (the Send may still be queued): leave this attempt alone.
            self._new_attempt()
            await self._command("start")
        elif self._stalls_in_row == 1 and self._seen_card:
            await self._write_tip()  # re-shows a lost question or preview of the same draft
        else:
            self._new_attempt()
            await self._command("cancel")
            await self._command("start")


def _revision(send: str) -> int:
    """The draft revision a `tip:send:N` button carries (0 for a bare `tip:send`)."""
    tail = send.removeprefix("tip:send").lstrip(":")
    return int(tail) if tail.isdigit() else 0


def _fresh(message: BotMessage) -> bool:
    """New messages only: an edit here just removes a pressed keyboard."""
    return not message.edited


def references_in(user: SimulatedUser) -> list[str]:
    """Every tip reference the bot sent this user, one entry per message (repeats kept)."""
    found: list[str] = []
    for message in user.chat.bot_messages.values():
        found += REFERENCE.findall(message.plain_text)
    return found
