"""Two bot processes on one PostgreSQL database behind a round-robin proxy.

Every webhook POST goes to the other instance than the one before, so a user's conversation
hops between processes in the middle of a tip. Meanwhile each instance is SIGKILLed and restarted
a couple of times, so an update one instance committed may be redelivered to the other, and a lost
reference re-sent by either sweeper. The reporter row lock and the processed-updates table must
make all that invisible: no tip lost, none duplicated, each user gets exactly their own.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator import BotApiEmulator
from tests.chaos.botproc import SECRET_KEY, ProcessPool, bot_env, free_port, import_demo_catalog
from tests.chaos.driver import TipUser
from tests.chaos.ledger import Figures, check_ledger, delivery_figures, load_tips, wait_until_all_confirmed
from tests.chaos.monkey import kill_repeatedly
from tests.chaos.proxy import RoundRobinProxy
from tests.support.databases import fresh_database

USERS = 150
SEED = 31337
RAMP_SECONDS = 6.0
THINK = (0.05, 0.6)
DRIVE_SECONDS = 60.0
FIRST_USER_ID = 800_000
KILLS = 4  # alternating between the instances

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(150)]


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (skipped without a server, failed in CI, as everywhere)."""
    async with fresh_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
async def proxy() -> AsyncIterator[RoundRobinProxy]:
    balancer = RoundRobinProxy(backends=[])
    await balancer.start()
    try:
        yield balancer
    finally:
        await balancer.stop()


async def drive(user: TipUser, delay: float) -> None:
    await asyncio.sleep(delay)
    await user.run()


async def test_two_instances_share_the_work(
    postgres_url: str, chaos_emulator: BotApiEmulator, processes: ProcessPool, proxy: RoundRobinProxy, tmp_path: Path
) -> None:
    started = time.monotonic()
    figures = Figures(database="postgresql x2 instances")
    media = tmp_path / "media"
    await import_demo_catalog(postgres_url, media, tmp_path)
    instances = []
    for name in ("a", "b"):
        port = free_port()
        env = bot_env(chaos_emulator, postgres_url, port=port, media_dir=media, webhook_url=proxy.url)
        instances.append(processes.add(name, env, port))
    proxy.backends.extend(instance.webhook for instance in instances)
    for instance in instances:
        await instance.start()
    assert chaos_emulator.state.webhook is not None and chaos_emulator.state.webhook.url == proxy.url

    rng = random.Random(SEED)
    deadline = asyncio.get_running_loop().time() + DRIVE_SECONDS
    users = [TipUser(chaos_emulator, FIRST_USER_ID + index, deadline, think=THINK) for index in range(USERS)]
    async with asyncio.TaskGroup() as group:
        for user in users:
            group.create_task(drive(user, rng.uniform(0, RAMP_SECONDS)))
        monkey = group.create_task(kill_repeatedly(instances, chaos_emulator, random.Random(rng.random()), KILLS))

    await chaos_emulator.wait_for_webhook_idle(timeout=30)
    unconfirmed = await wait_until_all_confirmed(postgres_url, timeout=20)
    for instance in instances:
        assert instance.running, f"instance {instance.name} died:\n{instance.log_tail()}"
        await instance.stop()
    tips = await load_tips(postgres_url)

    problems = check_ledger(users, tips, SECRET_KEY, figures)
    delivery_figures(chaos_emulator, figures)
    user_ids = {user.user_id for user in users}
    served = [proxy.chats_served_by(index) & user_ids for index in range(2)]
    both = served[0] & served[1]
    per_backend = [
        sum(n for (index, _, status), n in proxy.handled.items() if index == i and status == 200) for i in (0, 1)
    ]
    figures.extra.update(
        {
            "processed_by_a": per_backend[0],
            "processed_by_b": per_backend[1],
            "users_on_both": len(both),
            "non_200_at_proxy": sum(n for (_, _, status), n in proxy.handled.items() if status != 200),
        }
    )
    figures.extra["kills_mid_delivery"] = monkey.result()
    figures.kills = sum(instance.kills for instance in instances)
    figures.restarts = sum(instance.starts for instance in instances) - len(instances)
    figures.seconds = time.monotonic() - started
    print(f"\nCHAOS instances: {figures.line()}")
    assert not problems, "\n".join(problems[:30])
    assert unconfirmed == 0 and figures.tips_lost == 0
    unfinished = [user.user_id for user in users if not user.done]
    assert not unfinished, f"{len(unfinished)} users never got a reference, e.g. {unfinished[:5]}"
    assert figures.tips >= USERS
    assert figures.kills == KILLS and figures.restarts == KILLS
    assert figures.extra["kills_mid_delivery"] >= KILLS - 1, "the kills must hit a busy instance"
    assert min(per_backend) > 0.3 * sum(per_backend), f"round robin should split the load: {per_backend}"
    assert len(both) >= 0.75 * USERS, f"only {len(both)} users' conversations hopped between the instances"
    for instance in instances:
        assert instance.log_count("Traceback") == 0, f"{instance.name} logged an error:\n{instance.log_tail()}"
        assert instance.log_count("is running (webhook)") == 1 + KILLS // 2
