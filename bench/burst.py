"""A burst of people walking the tip flow against the bot with default settings (issue 12).

`--users` simulated users open the bot within `--ramp` seconds and walk `bench.walk`'s tip flow
(start, opt in, "I recognise this", country, text, Send) with a think time between actions. The
bot is `tracebot run` (long polling, or `--webhook`; every other setting at its default:
TELEGRAM_RATE_LIMIT=30 limits only proactive sends) as its own process on CPU 0; the Bot API
emulator and the users run here on CPU 1. The emulator's flood control answers 429 with
retry_after when one chat is sent more than `--per-chat` messages in a second. Prints the
action->reply latency percentiles, stalled walks, Bot API errors and the 429s answered. A
benchmark, not a pass/fail test (the target: p99 < 2 s, 0 errors, every 429 honoured).

    python -m bench.burst [--users 1000] [--ramp 10] [--per-chat 3] [--webhook] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.harness import collector_paused, percentile, start_bot, stop_bot, tail
from bench.startup import TOKEN, free_port, proc_cpu_seconds, proc_rss_mib
from bench.walk import Recorder, prepare_tracebot, tip_walk
from bot.demo_catalog import write_demo_catalog
from emulator import BotApiEmulator
from emulator.users import SimulatedUser

THINK = (0.5, 1.5)


async def wait_serving(emulator: BotApiEmulator, process: asyncio.subprocess.Process, log: Path) -> None:
    """Until the bot answers a probe user's /start (polling or webhook alike)."""
    probe = emulator.user(1, first_name="P", language_code="en")
    await probe.send_command("start")
    deadline = time.monotonic() + 60
    while not probe.messages:
        if process.returncode is not None or time.monotonic() > deadline:
            raise SystemExit(f"the bot did not start:\n{tail(log)}")
        await asyncio.sleep(0.02)


async def run(args: argparse.Namespace) -> None:
    if args.bot_cpu is not None:
        os.sched_setaffinity(0, {1 - args.bot_cpu})
    with tempfile.TemporaryDirectory(prefix="tracebot-burst-") as scratch:
        folder = Path(scratch)
        args.catalog = write_demo_catalog(folder / "catalog")
        emulator = BotApiEmulator(bot_token=TOKEN, bot_username="BurstBot")
        await emulator.start()
        flood = emulator.flood_control(per_chat=args.per_chat, overall=None, retry_after=1)
        rng = random.Random(args.seed)
        recorder = Recorder(timeout=60.0)
        errors: list[str] = []
        try:
            env = await prepare_tracebot(emulator, args, folder, free_port(), webhook=args.webhook)
            env.pop("TRANSLATION_WORKER", None)  # its default, like every other setting
            log = folder / "bot.log"
            argv = [sys.executable, "-m", "bot.cli", "run", *(["--webhook"] if args.webhook else [])]
            process = await start_bot(argv, env, log, args.bot_cpu)
            try:
                await wait_serving(emulator, process, log)
                simulated = [
                    emulator.user(10_000 + index, first_name="B", language_code="en") for index in range(args.users)
                ]

                async def guarded(user: SimulatedUser, delay: float, thinking: random.Random) -> None:
                    async def think() -> None:
                        await asyncio.sleep(thinking.uniform(*THINK))

                    await asyncio.sleep(delay)
                    try:
                        await tip_walk(user, recorder, think)
                    except (TimeoutError, LookupError) as error:  # a stalled walk is a figure, not a crash
                        errors.append(type(error).__name__)

                calls_before = len(emulator.calls)
                cpu_before = proc_cpu_seconds(process.pid)
                with collector_paused():  # the generator's pauses are not the bot's latency
                    started = time.perf_counter()
                    walks = [
                        guarded(user, rng.uniform(0, args.ramp), random.Random(rng.random())) for user in simulated
                    ]
                    await asyncio.gather(*walks)
                    elapsed = time.perf_counter() - started
                cpu = proc_cpu_seconds(process.pid) - cpu_before
                rss, _ = proc_rss_mib(process.pid)
                # Outcomes as they stand now: the last long poll is still open, and PTB's stop ends it
                # with one more getUpdates (Telegram then answers the open one 409, as the emulator does).
                calls = [replace(call) for call in emulator.calls[calls_before:]]  # not the probe's, nor the shutdown's
            finally:
                await stop_bot(process)
        finally:
            await emulator.stop()
    refused = [call for call in calls if not call.ok and (call.error or "").startswith("Too Many")]
    failed = [call for call in calls if not call.ok and not (call.error or "").startswith("Too Many")]
    mode = "webhook" if args.webhook else "long polling"
    print(f"database        {(args.database_url or 'sqlite').split(':', 1)[0]}, default settings, {mode}")
    print(
        f"users           {args.users} within {args.ramp:.0f} s, think {THINK[0]}-{THINK[1]} s, {elapsed:.1f} s in all"
    )
    latencies = recorder.latencies
    print(f"actions         {len(latencies)} ({len(latencies) / elapsed:.0f}/s on average)")
    if latencies:
        print(
            f"action->reply   p50 {percentile(latencies, 0.5):.3f} s  p95 {percentile(latencies, 0.95):.3f} s  "
            f"p99 {percentile(latencies, 0.99):.3f} s  max {max(latencies):.3f} s"
        )
    print(f"walk errors     {len(errors)} {sorted(set(errors))}")
    print(f"Bot API errors  {len(failed)} (besides 429) {sorted({(c.method, c.error) for c in failed})}")
    print(f"429 answered    {flood.refused} (per chat > {args.per_chat}/s); calls refused with 429: {len(refused)}")
    print(f"bot process     {cpu / elapsed * 100:.0f}% of a core over the burst, RSS {rss:.0f} MiB after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--ramp", type=float, default=10.0)
    parser.add_argument("--per-chat", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--webhook", action="store_true", help="`tracebot run --webhook` instead of long polling")
    parser.add_argument("--bot-cpu", type=int, default=0 if (os.cpu_count() or 1) >= 2 else None)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
