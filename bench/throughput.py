"""Updates per second through the whole stack: webhook -> PTB -> handlers -> database -> Bot API.

Runs the real server in-process in webhook mode against the local Bot API emulator and posts
`--updates` /help messages from `--users` users concurrently (the emulator answers the bot's
sendMessage calls). Prints the rate and CPU seconds; a benchmark, not a pass/fail test.

    python -m bench.throughput [--updates 2000] [--users 200] [--concurrency 64] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from emulator import BotApiEmulator
from tests.support.harness import WEBHOOK_SECRET, make_settings, running_bot


def message(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "B"},
            "from": {"id": user_id, "is_bot": False, "first_name": "B", "language_code": "en"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def run(updates: int, users: int, concurrency: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        emulator = BotApiEmulator(bot_token="123456:TEST-token", bot_username="BenchBot")
        await emulator.start()
        settings = make_settings(
            url, emulator, folder / "media", telegram_rate_limit=0, translation_worker="off", log_level="WARNING"
        )
        try:
            async with running_bot(settings, mode="webhook", catalog_dir=folder / "catalog") as bot:
                for user_id in range(1, users + 1):
                    emulator.user(user_id, first_name="B", language_code="en")
                counter = itertools.count(1)
                headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
                connector = aiohttp.TCPConnector(limit=concurrency)
                async with aiohttp.ClientSession(connector=connector) as session:

                    async def worker() -> None:
                        while (update_id := next(counter)) <= updates:
                            user_id = update_id % users + 1
                            async with session.post(
                                f"{bot.url}/telegram/webhook", json=message(update_id, user_id), headers=headers
                            ) as response:
                                assert response.status == 200, response.status

                    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
                    started = time.perf_counter()
                    await asyncio.gather(*(worker() for _ in range(concurrency)))
                    elapsed = time.perf_counter() - started
                    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        finally:
            await emulator.stop()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    replies = len(emulator.calls_to("sendMessage"))
    print(f"database          {url.split(':', 1)[0]}")
    print(f"updates           {updates} from {users} users, {concurrency} in flight")
    print(f"wall              {elapsed:.2f} s  ->  {updates / elapsed:.0f} updates/s")
    print(f"CPU (bot+emulator+client, one process) {cpu:.2f} s  ->  {cpu / updates * 1000:.2f} ms per update")
    print(f"replies sent      {replies}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(run(args.updates, args.users, args.concurrency, args.database_url))


if __name__ == "__main__":
    main()
