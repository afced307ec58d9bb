"""SIGKILL the bot process again and again while hundreds of users send tips: nothing is lost.

The bot runs as `python -m bot.cli run --webhook`, exactly as in production, behind the Bot API
emulator's webhook delivery (which retries until the bot answers 2xx, like Telegram). A seeded
chaos monkey kills it with SIGKILL at random moments and restarts it. At the end every reference
a user was shown must be in the database exactly once, every stored tip must have reached its
user, and each user must have exactly the tips they confirmed.

Run with `-s` to see the figures.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from emulator import BotApiEmulator
from tests.chaos.botproc import SECRET_KEY, ProcessPool, bot_env, free_port, import_demo_catalog
from tests.chaos.driver import TipUser
from tests.chaos.ledger import Figures, check_ledger, delivery_figures, load_tips, wait_until_all_confirmed
from tests.chaos.monkey import kill_repeatedly

USERS = 200
KILLS = 7
SEED = 20260505
RAMP_SECONDS = 15.0  # users arrive spread over this window, while the monkey is at work
THINK = (0.1, 1.2)  # seconds a user takes before each action
DRIVE_SECONDS = 70.0  # every user must have its reference by then
FIRST_USER_ID = 700_000

pytestmark = pytest.mark.timeout(180)


async def drive(user: TipUser, delay: float) -> None:
    await asyncio.sleep(delay)
    await user.run()


async def test_sigkill_loses_no_tip(
    database_url: str, chaos_emulator: BotApiEmulator, processes: ProcessPool, tmp_path: Path
) -> None:
    started = time.monotonic()
    figures = Figures(database=database_url.split(":", 1)[0])
    media = tmp_path / "media"
    await import_demo_catalog(database_url, media, tmp_path)
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/telegram/webhook"
    bot = processes.add(
        "bot", bot_env(chaos_emulator, database_url, port=port, media_dir=media, webhook_url=webhook), port
    )
    await bot.start()
    assert chaos_emulator.state.webhook is not None and chaos_emulator.state.webhook.url == webhook

    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRIVE_SECONDS
    users = [TipUser(chaos_emulator, FIRST_USER_ID + index, deadline, think=THINK) for index in range(USERS)]
    async with asyncio.TaskGroup() as group:
        for user in users:
            group.create_task(drive(user, rng.uniform(0, RAMP_SECONDS)))
        monkey = group.create_task(kill_repeatedly([bot], chaos_emulator, random.Random(rng.random()), KILLS))

    # Quiesce: every update delivered (and processed), then the sweeper has confirmed every tip.
    await chaos_emulator.wait_for_webhook_idle(timeout=30)
    unconfirmed = await wait_until_all_confirmed(database_url, timeout=20)
    await bot.stop()
    tips = await load_tips(database_url)

    problems = check_ledger(users, tips, SECRET_KEY, figures)
    delivery_figures(chaos_emulator, figures)
    figures.kills, figures.restarts = bot.kills, bot.starts - 1
    figures.extra["kills_mid_delivery"] = monkey.result()
    figures.extra["redeliveries_deduplicated"] = bot.log_count("already processed; ignoring the redelivery")
    figures.extra["sweeper_rounds_resending"] = bot.log_count("tip confirmations")
    figures.seconds = time.monotonic() - started
    print(f"\nCHAOS sigkill: {figures.line()}")
    assert not problems, "\n".join(problems[:30])
    assert unconfirmed == 0
    assert figures.kills == KILLS and figures.restarts == KILLS
    assert figures.extra["kills_mid_delivery"] >= KILLS - 1, "the kills must hit a busy bot"
    assert figures.tips_lost == 0
    assert figures.tips >= USERS, "every user completes at least one tip"
    unfinished = [user.user_id for user in users if not user.done]
    assert not unfinished, f"{len(unfinished)} users never got a reference, e.g. {unfinished[:5]}\n{bot.log_tail()}"
    assert figures.failed_deliveries > 0, "the kills must have cost some webhook deliveries"
    assert bot.log_count("Traceback") == 0, f"the bot logged an error:\n{bot.log_tail()}"
