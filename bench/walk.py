"""The tip walk beside peer bots, each bot its own process on its own core (issue 12).

    .venv/bin/python -m bench.walk                    # 400 users x 6 steps, 64 at once, 3 interleaved rounds
    .venv/bin/python -m bench.walk --quick            # 100 users, 1 round
    .venv/bin/python -m bench.walk --database-url postgresql+asyncpg://...   # Tracebot on PostgreSQL
    .venv/bin/python -m bench.walk --systems tracebot,ptb

Rows: Tracebot (`tracebot run --webhook`) walking the whole tip flow; python-telegram-bot's echo
example under `run_webhook` defaults; aiogram 3's echo bot on its aiohttp webhook. Each user walks
6 steps, each waiting for its reply; at most `--concurrency` users walk at once. The bot runs alone on
`--bot-cpu`; the Bot API emulator and the simulated users run in this process on `--generator-cpu`.
The peers are installed in throwaway virtualenvs under $TMPDIR/tracebot-bench-peers (reused).
A benchmark, not a test: it prints one table and nothing passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.harness import (
    REPO,
    busy_share,
    collector_paused,
    core_ticks,
    percentile,
    start_bot,
    stop_bot,
    tail,
)
from bench.startup import TOKEN, free_port, proc_cpu_seconds, proc_rss_mib, server_env
from bench.walk_report import machine, pinning, print_report
from emulator import BotApiEmulator
from emulator.models import BotMessage
from emulator.users import SimulatedUser

PEERS_DIR = Path(tempfile.gettempdir()) / "tracebot-bench-peers"
# Pinned peers. aiogram: the newest 3.x pip found when this was written.
PEER_REQUIREMENTS = {
    "ptb": "python-telegram-bot[webhooks]==22.8",
    "aiogram": "aiogram==3.31.0",
}
PEER_SECRET = "bench-webhook-secret"
REFERENCE = re.compile(r"T-\d{6}")
STEPS = 6


@dataclass
class Recorder:
    """Actions handed to the emulator and each one's action -> reply latency."""

    timeout: float
    actions: int = 0
    latencies: list[float] = field(default_factory=list)
    by_step: dict[int, list[float]] = field(default_factory=dict)  # the same, by step of the walk
    _taken: dict[int, int] = field(default_factory=dict)  # steps each user has taken

    async def step(
        self, user: SimulatedUser, action: Awaitable[object], awaited: Callable[[BotMessage], bool]
    ) -> BotMessage:
        """Act, wait for the awaited reply, and record when that reply reached the emulator."""
        sent = time.time()
        self.actions += 1
        await action
        message = await user.wait_for_message(awaited, timeout=self.timeout)
        arrived = next(event.at for event in reversed(user.chat.events) if event.message is message)
        self.latencies.append(arrived - sent)
        number = self._taken[user.user_id] = self._taken.get(user.user_id, 0) + 1
        self.by_step.setdefault(number, []).append(arrived - sent)
        return message

    def taken(self, user: SimulatedUser) -> int:
        """How many steps `user` has taken so far."""
        return self._taken.get(user.user_id, 0)


Walk = Callable[[SimulatedUser, Recorder], Awaitable[None]]


def welcome(message: BotMessage) -> bool:
    return "I understand, show me the objects" in message.button_labels


async def tip_probe(user: SimulatedUser, recorder: Recorder) -> None:
    """Tracebot's first answer: /start and the welcome."""
    await recorder.step(user, user.send_command("start"), welcome)


async def tip_walk(user: SimulatedUser, recorder: Recorder, think: Callable[[], Awaitable[None]] | None = None) -> None:
    """Tracebot's whole tip flow; `think` (bench/burst.py) runs between two steps."""

    async def step(action: Awaitable[object], awaited: Callable[[BotMessage], bool]) -> BotMessage:
        if think is not None and recorder.taken(user):
            await think()
        return await recorder.step(user, action, awaited)

    await step(user.send_command("start"), welcome)
    await step(user.press("I understand, show me the objects"), lambda m: m.kind == "photo")
    country = await step(user.press("I recognise this"), lambda m: "which country" in m.plain_text.lower())
    await step(user.press_data(country.message_id, "cty:DE"), lambda m: "Nothing to add" in m.button_labels)
    await step(user.send_text("I saw this at a market in Hamburg"), lambda m: "✅ Send" in m.button_labels)
    await step(user.press("✅ Send"), lambda m: REFERENCE.search(m.plain_text) is not None)


async def echo_walk(user: SimulatedUser, recorder: Recorder) -> None:
    """Six messages one after another, each waiting for its echo."""
    for number in range(1, STEPS + 1):
        text = f"message {number} from {user.user_id}"
        await recorder.step(user, user.send_text(text), lambda m, text=text: m.plain_text == text)  # type: ignore[misc]


async def echo_probe(user: SimulatedUser, recorder: Recorder) -> None:
    """An echo bot's first answer."""
    await recorder.step(user, user.send_text("hello"), lambda m: m.plain_text == "hello")


@dataclass(frozen=True)
class System:
    """One row: how to start the bot and what its users do."""

    key: str
    label: str
    walk: Walk
    probe: Walk
    health_path: str  # any HTTP answer here means the bot's server is up
    steps: tuple[str, ...]


TIP_STEPS = ("/start", "opt in", "I recognise this", "country", "text", "Send")
ECHO_STEPS = tuple(f"text {number}" for number in range(1, STEPS + 1))
SYSTEMS = {
    "tracebot": System("tracebot", "Tracebot, whole tip walk", tip_walk, tip_probe, "/healthz", TIP_STEPS),
    "ptb": System("ptb", "PTB {version} echo, run_webhook defaults", echo_walk, echo_probe, "/webhook", ECHO_STEPS),
    "aiogram": System(
        "aiogram", "aiogram {version} echo, aiohttp webhook", echo_walk, echo_probe, "/webhook", ECHO_STEPS
    ),
}


@dataclass
class Result:
    """One system's figures from one round."""

    updates_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_update: float
    rss_mib: float
    startup_s: float
    errors: int
    generator_cpu: float  # share of one core over the walking phase
    max_connections: int
    bot_cpu: float  # share of one core
    cores_busy: dict[int, float]  # each core's busy share (anyone's work) over the walking phase
    steps_ms: list[tuple[float, float]]  # p50 and p99 of each step of the walk


# -- peers' virtualenvs ------------------------------------------------------------------


def peer_python(name: str) -> Path:
    """The interpreter of the peer's virtualenv, created (or refreshed) when its pin changed."""
    venv = PEERS_DIR / name
    marker = venv / ".bench-requirement"
    python = venv / "bin" / "python"
    requirement = PEER_REQUIREMENTS[name]
    if python.exists() and marker.exists() and marker.read_text().strip() == requirement:
        return python
    print(f"installing {requirement} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", requirement], check=True)
    marker.write_text(requirement + "\n")
    return python


# -- one bot, one round ------------------------------------------------------------------


async def prepare_tracebot(
    emulator: BotApiEmulator, args: argparse.Namespace, folder: Path, port: int, *, webhook: bool = True
) -> dict[str, str]:
    """A fresh database with the demo catalog imported (migrated by the import); the bot's environment.

    `webhook=False`: the environment of `tracebot run` polling, with nothing but what it needs set.
    """
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'walk.db'}"
    extra = {"WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook", "TRANSLATION_WORKER": "off"} if webhook else {}
    env = server_env(emulator, url, folder, port, **extra)
    commands = [["objects", "import", str(args.catalog)]]
    if args.database_url:  # one database for every round: down to nothing, then up again
        commands.insert(0, ["db", "downgrade", "base"])
    for command in commands:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *command, env=env, cwd=REPO, stdout=asyncio.subprocess.DEVNULL
        )
        if await process.wait() != 0:
            raise SystemExit(f"`tracebot {' '.join(command)}` failed")
    return env


def peer_env(emulator: BotApiEmulator, port: int) -> dict[str, str]:
    """The peer scripts' settings."""
    return {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "BOT_API_BASE": emulator.base_url,
        "PORT": str(port),
        "WEBHOOK_SECRET": PEER_SECRET,
    }


async def wait_serving(emulator: BotApiEmulator, process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    """Until the bot has set its webhook and its HTTP server answers (any status)."""
    async with aiohttp.ClientSession() as http:
        while True:
            if process.returncode is not None:
                raise SystemExit(f"the bot exited with {process.returncode}:\n{tail(log)}")
            if emulator.state.webhook is not None:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(url) as response:
                        await response.read()
                        return
            await asyncio.sleep(0.005)


async def walk_all(emulator: BotApiEmulator, walk: Walk, users: int, concurrency: int, recorder: Recorder) -> int:
    """Every user walks once, at most `concurrency` at a time; returns the walks that stalled."""
    waiting: Iterator[int] = iter(range(10_000, 10_000 + users))
    stalled = 0

    async def walker() -> None:
        nonlocal stalled
        for user_id in waiting:
            user = emulator.user(user_id, first_name="W", language_code="en")
            try:
                await walk(user, recorder)
            except (TimeoutError, LookupError):  # a stalled walk is a figure, not a crash
                stalled += 1

    await asyncio.gather(*(walker() for _ in range(concurrency)))
    return stalled


async def measure(system: System, args: argparse.Namespace, folder: Path) -> Result:
    """Start the bot on its core, wait until it answers, let the users walk, read its figures, stop it."""
    emulator = BotApiEmulator(bot_token=TOKEN, bot_username="WalkBot")
    await emulator.start()
    try:
        port = free_port()
        if system.key == "tracebot":
            env = await prepare_tracebot(emulator, args, folder, port)
            argv = [sys.executable, "-m", "bot.cli", "run", "--webhook"]
        else:
            env = peer_env(emulator, port)
            argv = [str(args.peer_pythons[system.key]), str(REPO / "bench" / "peers" / f"{system.key}_echo.py")]
        log = folder / "bot.log"
        started = time.perf_counter()
        process = await start_bot(argv, env, log, args.bot_cpu)
        try:
            await wait_serving(emulator, process, f"http://127.0.0.1:{port}{system.health_path}", log)
            # Serving means answering: a probe user's first step.
            await system.probe(emulator.user(1, first_name="P", language_code="en"), Recorder(args.step_timeout))
            startup = time.perf_counter() - started
            calls_before = len(emulator.calls)
            recorder = Recorder(args.step_timeout)
            cpu_before, own_before = proc_cpu_seconds(process.pid), resource.getrusage(resource.RUSAGE_SELF)
            cores_before = core_ticks()
            with collector_paused():
                began = time.perf_counter()
                stalled = await walk_all(emulator, system.walk, args.users, args.concurrency, recorder)
                wall = time.perf_counter() - began
            cpu, own = proc_cpu_seconds(process.pid) - cpu_before, resource.getrusage(resource.RUSAGE_SELF)
            cores_after = core_ticks()
            rss, _ = proc_rss_mib(process.pid)
        finally:
            await stop_bot(process)
        generator = (own.ru_utime - own_before.ru_utime) + (own.ru_stime - own_before.ru_stime)
        failed = [
            call
            for call in emulator.calls[calls_before:]
            if not call.ok and not (call.error or "").startswith("Too Many")
        ]
        webhook = emulator.state.webhook
        max_connections = webhook.max_connections if webhook is not None else 0
    finally:
        await emulator.stop()
    updates = recorder.actions
    return Result(
        updates_per_s=updates / wall,
        p50_ms=percentile(recorder.latencies, 0.5) * 1000,
        p99_ms=percentile(recorder.latencies, 0.99) * 1000,
        cpu_ms_per_update=cpu / updates * 1000,
        rss_mib=rss,
        startup_s=startup,
        errors=stalled + len(failed),
        generator_cpu=generator / wall,
        bot_cpu=cpu / wall,
        steps_ms=[
            (percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000)
            for _, values in sorted(recorder.by_step.items())
        ],
        cores_busy={core: busy_share(cores_before[core], cores_after[core]) for core in cores_after},
        max_connections=max_connections,
    )


async def run(args: argparse.Namespace, systems: list[System]) -> None:
    results: dict[str, list[Result]] = {system.key: [] for system in systems}
    with tempfile.TemporaryDirectory(prefix="tracebot-walk-") as scratch:
        folder = Path(scratch)
        if "tracebot" in results:
            from bot.demo_catalog import write_demo_catalog

            args.catalog = write_demo_catalog(folder / "catalog")
        for number in range(1, args.rounds + 1):
            for system in systems:  # interleaved: A, B, C, then A, B, C again
                (folder / f"round{number}-{system.key}").mkdir()
                result = await measure(system, args, folder / f"round{number}-{system.key}")
                results[system.key].append(result)
                print(
                    f"  round {number} {system.key}: {result.updates_per_s:,.0f} updates/s, "
                    f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, errors {result.errors}, "
                    f"bot CPU {result.bot_cpu:.0%}, generator {result.generator_cpu:.0%}, cores busy "
                    + ", ".join(f"{core}: {share:.0%}" for core, share in sorted(result.cores_busy.items())),
                    flush=True,
                )
    print()
    print(args.machine)
    database = (args.database_url or "sqlite").split(":", 1)[0]
    print(
        f"{args.users} users x {STEPS} steps, {args.concurrency} walking at once, {args.rounds} interleaved "
        f"round(s), medians; Tracebot on {database}; {pinning(args)}"
    )
    print_report(args, systems, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=64, help="users walking at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 users, 1 round")
    parser.add_argument(
        "--database-url",
        help="Tracebot's database (default: a fresh SQLite file per round); "
        "a PostgreSQL database is migrated down to base and up again every round",
    )
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of {', '.join(SYSTEMS)}")
    parser.add_argument("--step-timeout", type=float, default=30.0, help="seconds before a walk counts as stalled")
    parser.add_argument("--bot-cpu", type=int, default=0)
    parser.add_argument("--generator-cpu", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.users, args.rounds = 100, 1
    unknown = [key for key in args.systems.split(",") if key not in SYSTEMS]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    args.machine = machine()
    available = os.sched_getaffinity(0)
    if {args.bot_cpu, args.generator_cpu} <= available and args.bot_cpu != args.generator_cpu:
        os.sched_setaffinity(0, {args.generator_cpu})  # before any thread starts, so all inherit it
    else:
        args.bot_cpu = args.generator_cpu = None
    args.peer_pythons = {key: peer_python(key) for key in args.systems.split(",") if key in PEER_REQUIREMENTS}
    systems = []
    for key in args.systems.split(","):
        system = SYSTEMS[key]
        if key in PEER_REQUIREMENTS:
            version = PEER_REQUIREMENTS[key].split("==")[1]
            system = dataclasses.replace(system, label=system.label.format(version=version))
        systems.append(system)
    asyncio.run(run(args, systems))


if __name__ == "__main__":
    main()
