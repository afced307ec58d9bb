"""Dashboard latency at scale: signs in and times each page, then streams the exports.

    .venv/bin/python -m bench.load_tips --database-url URL            # once: a million tips
    .venv/bin/python -m bench.dashboard --database-url URL            # 20 requests per page
    .venv/bin/python -m bench.dashboard --database-url URL --quick    # 5 per page, exports capped

The server is a separate process (`python -m bot.cli run --webhook`, dashboard included) against the
local Bot API emulator, so its memory is its own: peak RSS is sampled from /proc every 20 ms while
an export streams. Requests are sequential (p50/p95 of `--requests` each, after one warm-up); while
an export runs, a queue page is requested every 200 ms and its worst latency is reported, to show
that an export does not stall other requests. Search words are those `bench.load_tips` plants.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bench.load_tips import COMMON_WORD, RARE_WORD
from bench.startup import TOKEN, free_port, proc_rss_mib, server_env
from emulator import BotApiEmulator
from storage.db import create_engine
from storage.models import Tip

USERNAME, PASSWORD = "bench-admin", "bench password for the dashboard benchmark"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OLDER = re.compile(r'href="[^"]*[?&;]before=(\d+)')


def cli(database_url: str, *args: str, stdin: str = "") -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, env=env, capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


@asynccontextmanager
async def server(database_url: str, folder: Path) -> AsyncIterator[tuple[str, int]]:
    """The real server on a free port; yields its base URL and process id once it answers."""
    emulator = BotApiEmulator(bot_token=TOKEN, bot_username="BenchBot")
    await emulator.start()
    port = free_port()
    env = server_env(emulator, database_url, folder, port, TRANSLATION_WORKER="off", DASHBOARD_COOKIE_SECURE="false")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", "--webhook", env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(3000):
                if process.returncode is not None:
                    raise SystemExit(f"the server exited with {process.returncode}")
                with suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.02)
        yield base, process.pid
    finally:
        process.terminate()
        await process.wait()
        await emulator.stop()


async def sign_in(http: aiohttp.ClientSession, base: str) -> None:
    async with http.get(f"{base}/review/login") as page:
        token = CSRF.search(await page.text())
    assert token, "no sign-in form"
    form = {"csrf_token": token[1], "username": USERNAME, "password": PASSWORD}
    async with http.post(f"{base}/review/login", data=form, allow_redirects=False) as response:
        if response.status != 303:
            raise SystemExit(f"sign-in failed ({response.status})")


async def timed(http: aiohttp.ClientSession, url: str, **kwargs: object) -> tuple[float, str]:
    started = time.perf_counter()
    async with http.get(url, **kwargs) as response:  # type: ignore[arg-type]
        body = await response.text()
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - started) * 1000, body


async def page_figures(
    http: aiohttp.ClientSession, url: str, requests: int, **kwargs: object
) -> tuple[float, float, float]:
    """The first request's time (nothing cached yet), then p50 and p95 of `requests` more."""
    first = (await timed(http, url, **kwargs))[0]
    times = sorted([(await timed(http, url, **kwargs))[0] for _ in range(requests)])
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return first, statistics.median(times), p95


async def fiftieth_page(http: aiohttp.ClientSession, base: str) -> str:
    url = f"{base}/review/tips"
    for _ in range(49):
        _elapsed, body = await timed(http, url)
        older = OLDER.search(body)
        if older is None:
            raise SystemExit("fewer than 50 queue pages")
        url = f"{base}/review/tips?before={older[1]}"
    return url


async def export_figures(
    http: aiohttp.ClientSession, base: str, kind: str, pid: int, limit: int | None
) -> tuple[int, float, float, float]:
    """Rows, rows/s, peak server RSS (MiB) and the slowest queue page (ms) while the export streamed."""
    peak = proc_rss_mib(pid)[0]
    slowest = 0.0
    finished = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not finished.is_set():
            peak = max(peak, proc_rss_mib(pid)[0])
            await asyncio.sleep(0.02)

    async def other_requests() -> None:
        nonlocal slowest
        async with aiohttp.ClientSession(cookie_jar=http.cookie_jar) as other:
            while not finished.is_set():
                slowest = max(slowest, (await timed(other, f"{base}/review/tips"))[0])
                await asyncio.sleep(0.2)

    tasks = [asyncio.create_task(sample()), asyncio.create_task(other_requests())]
    rows = 0
    started = time.perf_counter()
    async with http.get(f"{base}/review/export.{kind}") as response:
        async for line in response.content:  # one tip per line in both formats (texts have no line breaks)
            if kind == "csv" or line.startswith(b'{"reference"'):
                rows += 1
            if limit is not None and rows >= limit:
                break
    elapsed = time.perf_counter() - started
    finished.set()
    await asyncio.gather(*tasks)
    if kind == "csv":
        rows -= 1  # the header
    return rows, rows / elapsed, peak, slowest


async def biggest_object(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = func.count().label("n")
            row = (
                await connection.execute(
                    select(Tip.object_id, count).group_by(Tip.object_id).order_by(count.desc()).limit(1)
                )
            ).one()
            newest = await connection.scalar(select(func.max(Tip.id)))
    finally:
        await engine.dispose()
    return int(row[0]), int(newest or 0)


async def run(database_url: str, requests: int, export_limit: int | None) -> None:
    print(cli(database_url, "moderator", "add", USERNAME, "--role", "admin", "--password-stdin", stdin=PASSWORD))
    created = cli(database_url, "api-token", "create", "bench")
    api_token = created.strip().splitlines()[-1]
    object_id, newest = await biggest_object(database_url)
    with tempfile.TemporaryDirectory(prefix="tracebot-dashboard-") as tmp:
        jar = aiohttp.CookieJar(unsafe=True)  # the server is at an IP address
        async with server(database_url, Path(tmp)) as (base, pid), aiohttp.ClientSession(cookie_jar=jar) as http:
            await sign_in(http, base)
            pages = {
                "queue, first page": f"{base}/review/tips",
                "queue, status+country+language": f"{base}/review/tips?status=new&country=DE&language=de",
                f"search, common word ({COMMON_WORD})": f"{base}/review/tips?q={COMMON_WORD}",
                f"search, rare word ({RARE_WORD})": f"{base}/review/tips?q={RARE_WORD}",
                "queue, 50th keyset page": await fiftieth_page(http, base),
                "tip page": f"{base}/review/tips/{newest // 2}",
                "objects list": f"{base}/review/objects",
                f"object page (object {object_id})": f"{base}/review/objects/{object_id}",
                "statistics": f"{base}/review/stats",
                "statistics, one campaign": f"{base}/review/stats?campaign=1",
            }
            print(f"{'page':<42} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}")
            for name, url in pages.items():
                first, p50, p95 = await page_figures(http, url, requests)
                print(f"{name:<42} {first:>9.1f} {p50:>8.1f} {p95:>8.1f}")
            headers = {"Authorization": f"Bearer {api_token}"}
            first, p50, p95 = await page_figures(http, f"{base}/api/tips?limit=200", requests, headers=headers)
            print(f"{'/api/tips?limit=200':<42} {first:>9.1f} {p50:>8.1f} {p95:>8.1f}")
            print(f"\n{'export':<8} {'rows':>10} {'rows/s':>10} {'peak RSS MiB':>13} {'slowest queue ms':>17}")
            for kind in ("csv", "json"):
                rows, rate, peak, slowest = await export_figures(http, base, kind, pid, export_limit)
                print(f"{kind:<8} {rows:>10,} {rate:>10,.0f} {peak:>13.1f} {slowest:>17.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a database filled by bench.load_tips")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--export-rows", type=int, help="stop reading each export after this many rows")
    parser.add_argument("--quick", action="store_true", help="5 requests per page, exports stop at 100,000 rows")
    args = parser.parse_args()
    requests = 5 if args.quick else args.requests
    export_rows = args.export_rows or (100_000 if args.quick else None)
    print(f"{sys.platform}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.database_url}")
    asyncio.run(run(args.database_url, requests, export_rows))


if __name__ == "__main__":
    main()
