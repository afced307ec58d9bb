"""A burst of people walking the tip flow against the bot with default settings (issue 12).

`--users` simulated users open the bot within `--ramp` seconds and walk the whole flow (start,
opt in, "I recognise this", country, text, Send) with a think time between actions. The bot is
`tracebot run` (long polling, or `--webhook`; every other setting at its default:
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
from pathlib import Path

from bench.startup import TOKEN, free_port, proc_cpu_seconds, proc_rss_mib
from bench.walk import REPO, percentile, pinned, prepare_tracebot, tail
from bot.demo_catalog import write_demo_catalog
from emulator import BotApiEmulator
from emulator.users import SimulatedUser
from tests.support.flows import REFERENCE

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
        latencies: list[float] = []
        errors: list[str] = []
        try:
            env = await prepare_tracebot(emulator, args, folder, free_port(), webhook=args.webhook)
            env.pop("TRANSLATION_WORKER", None)  # its default, like every other setting
            log = folder / "bot.log"
            with log.open("wb") as stderr:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "run",
                    *(["--webhook"] if args.webhook else []),
                    env=env,
                    cwd=REPO,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=stderr,
                    preexec_fn=pinned(args.bot_cpu),
                )
            try:
                await wait_serving(emulator, process, log)
                simulated = [
                    emulator.user(10_000 + index, first_name="B", language_code="en") for index in range(args.users)
                ]

                async def guarded(user: SimulatedUser) -> None:
                    try:
                        await walk(user, rng.uniform(0, args.ramp), random.Random(rng.random()), latencies)
                    except (TimeoutError, LookupError) as error:  # a stalled walk is a figure, not a crash
                        errors.append(type(error).__name__)

                calls_before = len(emulator.calls)
                cpu_before = proc_cpu_seconds(process.pid)
                started = time.perf_counter()
                await asyncio.gather(*(guarded(user) for user in simulated))
                elapsed = time.perf_counter() - started
                cpu = proc_cpu_seconds(process.pid) - cpu_before
                rss, _ = proc_rss_mib(process.pid)
                calls = emulator.calls[calls_before:]  # not the probe's, nor the shutdown's
            finally:
                process.terminate()
                await process.wait()
        finally:
            await emulator.stop()
    refused = [call for call in calls if not call.ok and (call.error or "").startswith("Too Many")]
    failed = [call for call in calls if not call.ok and not (call.error or "").startswith("Too Many")]
    mode = "webhook" if args.webhook else "long polling"
    print(f"database        {(args.database_url or 'sqlite').split(':', 1)[0]}, default settings, {mode}")
    print(
        f"users           {args.users} within {args.ramp:.0f} s, think {THINK[0]}-{THINK[1]} s, {elapsed:.1f} s in all"
    )
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
