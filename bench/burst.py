"""A burst of people walking the tip flow against the bot with default settings (issue 12).

`--users` simulated users open the bot within `--ramp` seconds and walk the whole flow (start,
opt in, "I recognise this", country, text, Send) with a think time between actions, through the
real server (PTB polling, handlers, database) against the Bot API emulator, whose flood control
answers 429 with retry_after when one chat is sent more than `--per-chat` messages in a second.
TELEGRAM_RATE_LIMIT keeps its default (30): it only limits proactive sends, so replies must not
queue behind it. Prints the action→reply latency percentiles, errors and 429s. A benchmark, not
a pass/fail test (the target: p99 < 2 s, 0 errors, every 429 honoured).

    python -m bench.burst [--users 1000] [--ramp 10] [--per-chat 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from emulator import BotApiEmulator
from emulator.users import SimulatedUser
from tests.support.flows import REFERENCE
from tests.support.harness import make_settings, running_bot

THINK = (0.5, 1.5)


async def step(latencies: list[float], action: object, wait: object) -> None:
    started = time.perf_counter()
    await action  # type: ignore[misc]
    await wait  # type: ignore[misc]
    latencies.append(time.perf_counter() - started)


async def walk(user: SimulatedUser, delay: float, rng: random.Random, latencies: list[float]) -> None:
    await asyncio.sleep(delay)
    timeout = 60.0

    async def think() -> None:
        await asyncio.sleep(rng.uniform(*THINK))

    await step(latencies, user.send_command("start"), user.wait_for_message(timeout=timeout))
    await think()
    photo = user.wait_for_message(lambda m: m.kind == "photo", timeout=timeout)
    await step(latencies, user.press("I understand, show me the objects"), photo)
    await think()
    country = user.wait_for_message(lambda m: "which country" in m.plain_text.lower(), timeout=timeout)
    await step(latencies, user.press("I recognise this"), country)
    await think()
    details = user.wait_for_message(lambda m: "Nothing to add" in m.button_labels, timeout=timeout)
    await step(latencies, user.press_data(user.messages[-1].message_id, "cty:DE"), details)
    await think()
    preview = user.wait_for_message(lambda m: "✅ Send" in m.button_labels, timeout=timeout)
    await step(latencies, user.send_text("I saw this at a market in Hamburg"), preview)
    await think()
    confirmed = user.wait_for_message(lambda m: REFERENCE.search(m.plain_text) is not None, timeout=timeout)
    await step(latencies, user.press("✅ Send"), confirmed)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(users: int, ramp: float, per_chat: int, database_url: str | None, seed: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = database_url or f"sqlite+aiosqlite:///{folder / 'burst.db'}"
        emulator = BotApiEmulator(bot_token="123456:TEST-token", bot_username="BurstBot")
        await emulator.start()
        flood = emulator.flood_control(per_chat=per_chat, overall=None, retry_after=1)
        settings = make_settings(url, emulator, folder / "media", translation_worker="off", log_level="WARNING")
        rng = random.Random(seed)
        latencies: list[float] = []
        errors: list[str] = []
        try:
            async with running_bot(settings, catalog_dir=folder / "catalog"):
                simulated = [
                    emulator.user(10_000 + index, first_name="B", language_code="en") for index in range(users)
                ]

                async def guarded(user: SimulatedUser) -> None:
                    try:
                        await walk(user, rng.uniform(0, ramp), random.Random(rng.random()), latencies)
                    except (TimeoutError, LookupError) as error:  # a stalled walk is a figure, not a crash
                        errors.append(type(error).__name__)

                started = time.perf_counter()
                await asyncio.gather(*(guarded(user) for user in simulated))
                elapsed = time.perf_counter() - started
        finally:
            await emulator.stop()
    failed_calls = [call for call in emulator.calls if not call.ok and not (call.error or "").startswith("Too Many")]
    print(f"database        {url.split(':', 1)[0]}")
    print(f"users           {users} within {ramp:.0f} s, think {THINK[0]}-{THINK[1]} s, {elapsed:.1f} s in all")
    print(f"actions         {len(latencies)}")
    if latencies:
        print(
            f"action->reply   p50 {percentile(latencies, 0.5):.3f} s  p95 {percentile(latencies, 0.95):.3f} s  "
            f"p99 {percentile(latencies, 0.99):.3f} s  max {max(latencies):.3f} s"
        )
    print(f"walk errors     {len(errors)} {sorted(set(errors))}")
    print(f"Bot API errors  {len(failed_calls)} (besides 429) {sorted({(c.method, c.error) for c in failed_calls})}")
    print(f"429 answered    {flood.refused} (per chat > {per_chat}/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--ramp", type=float, default=10.0)
    parser.add_argument("--per-chat", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    asyncio.run(run(args.users, args.ramp, args.per_chat, args.database_url, args.seed))


if __name__ == "__main__":
    main()
