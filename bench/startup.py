"""Start-up time, CPU and idle memory of `tracebot run --webhook` against the local Bot API emulator.

    .venv/bin/python -m bench.startup            # three starts on one fresh SQLite database
    .venv/bin/python -m bench.startup --database-url postgresql+asyncpg://...

The emulator runs in this process; the bot is a separate process (`python -m bot.cli run --webhook`),
so its RSS and CPU are its own. "Serving" is the moment the emulator has the webhook set and
/healthz answers. The first start on a fresh database also migrates it; later starts are the usual case.
Idle RSS is read from /proc after the process has been idle for `--idle` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from emulator import BotApiEmulator

TOKEN = "123456:BENCH-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory and, of it, the anonymous part (heap, not shared library pages), in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["RssAnon"].split()[0]) / 1024


def server_env(emulator: BotApiEmulator, database_url: str, folder: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a `tracebot run --webhook` process talking to `emulator`, serving on `port`."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_URL": database_url,
        "MEDIA_DIR": str(folder / "media"),
        "SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789",
        "WEBHOOK_SECRET": "bench-webhook-secret",
        "WEB_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def one_start(
    emulator: BotApiEmulator, database_url: str, folder: Path, idle: float
) -> tuple[float, float, tuple[float, float]]:
    port = free_port()
    env = server_env(
        emulator,
        database_url,
        folder,
        port,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        TRANSLATION_WORKER="inline",
    )
    before = len(emulator.calls_to("setWebhook"))
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--webhook", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        async with aiohttp.ClientSession() as http:
            while True:
                if process.returncode is not None:
                    raise SystemExit(f"the bot exited with {process.returncode}")
                if len(emulator.calls_to("setWebhook")) > before:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                await asyncio.sleep(0.005)
        serving = time.perf_counter() - started
        cpu = proc_cpu_seconds(process.pid)
        await asyncio.sleep(idle)
        rss = proc_rss_mib(process.pid)
    finally:
        process.terminate()
        await process.wait()
    return serving, cpu, rss


IMPORTS_ONLY = """
import sys, time
started = time.perf_counter()
sys.modules.setdefault("httpx._main", None)
import bot.cli, bot.web, review
fields = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
print(time.perf_counter() - started, int(fields["VmRSS"].split()[0]) / 1024)
"""


async def imports_only() -> tuple[float, float, float]:
    """The floor: a process that only imports the server's modules (seconds to spawn+import, import, RSS)."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", IMPORTS_ONLY, stdout=asyncio.subprocess.PIPE)
    output, _ = await process.communicate()
    total = time.perf_counter() - started
    importing, rss = (float(value) for value in output.split())
    return total, importing, rss


async def run(database_url: str | None, starts: int, idle: float) -> None:
    with tempfile.TemporaryDirectory(prefix="tracebot-startup-") as tmp:
        folder = Path(tmp)
        url = database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        emulator = BotApiEmulator(bot_token=TOKEN, bot_username="BenchBot")
        await emulator.start()
        try:
            header = ("start", "serving s", "CPU s", "idle RSS MiB", "of it anon", "setMyCommands")
            print("{:<8} {:>10} {:>7} {:>13} {:>11} {:>14}".format(*header))
            for number in range(1, starts + 1):
                menus = len(emulator.calls_to("setMyCommands"))
                serving, cpu, (rss, anon) = await one_start(emulator, url, folder, idle)
                published = len(emulator.calls_to("setMyCommands")) - menus
                label = "first" if number == 1 else f"#{number}"
                print(f"{label:<8} {serving:>10.3f} {cpu:>7.2f} {rss:>13.1f} {anon:>11.1f} {published:>14}")
        finally:
            await emulator.stop()
    total, importing, rss = await imports_only()
    print(
        f"floor: a process that only imports the server's modules exits after {total:.3f} s "
        f"({importing:.3f} s importing), RSS {rss:.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading RSS")
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.starts, args.idle))


if __name__ == "__main__":
    main()
