"""The chaos monkey: SIGKILL bot processes at seeded random moments while they are busy."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Sequence

from emulator import BotApiEmulator
from tests.chaos.botproc import BotProcess

BUSY_WAIT = 5.0  # how long to wait for the moment before killing anyway
REFERENCE = re.compile(r"\bT-\d{6}\b")


async def wait_until_busy(emulator: BotApiEmulator, timeout: float = BUSY_WAIT) -> bool:  # noqa: ASYNC109
    """Wait until a webhook delivery is in flight (or `timeout` passed); whether one is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while emulator.webhooks.idle:
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def wait_for_reference_sent(emulator: BotApiEmulator, timeout: float = BUSY_WAIT) -> bool:  # noqa: ASYNC109
    """Wait until the bot sends a tip reference (committed, not yet marked confirmed); whether it did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    calls = emulator.calls
    seen = len(calls)
    while loop.time() < deadline:
        for call in calls[seen:]:
            if not call.params:
                break  # still being read: look at it again next time
            seen += 1
            if call.method == "sendMessage" and REFERENCE.search(str(call.params.get("text"))):
                return True
        await asyncio.sleep(0.002)
    return False


async def kill_repeatedly(
    victims: Sequence[BotProcess], emulator: BotApiEmulator, rng: random.Random, kills: int
) -> int:
    """Kill `kills` times (round the victims in turn) and restart each at once; returns the kills mid-delivery.

    Each kill comes a random 0.5-2.5 s after the previous restart, at the first moment after that
    when the emulator has an update on its way to the bot, so it lands in the middle of the work;
    every other kill waits for the bot to send a tip reference instead, so it lands between the
    commit of a tip and the record that its reference was sent (the sweeper's job to repair).
    """
    busy = 0
    for index in range(kills):
        await asyncio.sleep(rng.uniform(0.5, 2.5))
        if index % 2:
            await wait_for_reference_sent(emulator)
        busy += not emulator.webhooks.idle or await wait_until_busy(emulator)
        victim = victims[index % len(victims)]
        await victim.kill()
        await victim.start()
    return busy
