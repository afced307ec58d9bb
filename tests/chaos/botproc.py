"""Tracebot as a separate OS process (`python -m bot.cli run --webhook`), killable at any moment.

Every process started here is registered with a `ProcessPool`, whose `close()` (called from
fixture teardown) kills whatever is still running, so a failing test never leaves a bot behind.
On Linux the children also get SIGKILL if the test process itself dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.demo_catalog import write_demo_catalog
from emulator import BotApiEmulator

SECRET_KEY = "chaos-secret-key-0123456789abcdef-0123456789"
WEBHOOK_SECRET = "chaos-webhook-secret"
WEBHOOK_PATH = "/telegram/webhook"
HEALTH_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGKILL the child when the test process dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook


def bot_env(
    emulator: BotApiEmulator,
    database_url: str,
    *,
    port: int,
    media_dir: Path,
    webhook_url: str,
    confirmation_grace_seconds: float = 2,
) -> dict[str, str]:
    """The whole configuration of one bot process, as environment variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DASHBOARD_", "WEB_"))}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": emulator.bot_token,
            "TELEGRAM_API_URL": emulator.base_url,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_URL": webhook_url,
            "WEBHOOK_PATH": WEBHOOK_PATH,
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(port),
            "MEDIA_DIR": str(media_dir),
            "TRANSLATION_WORKER": "off",
            "TELEGRAM_RATE_LIMIT": "0",
            "CONFIRMATION_GRACE_SECONDS": str(confirmation_grace_seconds),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


async def import_demo_catalog(database_url: str, media_dir: Path, workdir: Path) -> None:
    """`tracebot objects import` on the synthetic demo catalog (this also migrates the database)."""
    folder = write_demo_catalog(workdir / "catalog")
    env = dict(os.environ, DATABASE_URL=database_url, MEDIA_DIR=str(media_dir))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "objects",
        "import",
        str(folder),
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, f"catalog import failed: {output.decode(errors='replace')}"
    assert b"5 new" in output, output.decode(errors="replace")


@dataclass
class BotProcess:
    """One bot instance; `start()` may be called again after `kill()` (same port, same log file)."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int
    starts: int = 0
    kills: int = 0
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return self.url + WEBHOOK_PATH

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Spawn the process and wait until /healthz answers (the webhook is registered by then)."""
        assert not self.running, f"{self.name} is already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"==== start #{self.starts + 1} of {self.name}\n".encode())
            log.flush()
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                "--webhook",
                cwd=self.workdir,  # no stray .env is picked up from the repository
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent(),  # only calls prctl: safe in a forked child
            )
        self.starts += 1
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HEALTH_TIMEOUT
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if not self.running:
                    raise AssertionError(f"{self.name} exited during start-up:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                if loop.time() > deadline:
                    raise AssertionError(f"{self.name} not healthy after {HEALTH_TIMEOUT} s:\n{self.log_tail()}")
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, in-flight requests and transactions just vanish."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.kills += 1

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bound, not a cancel scope
        """SIGTERM (a clean shutdown), SIGKILL if it takes longer than `timeout`."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
            await process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def log_count(self, needle: str) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count(needle)


class ProcessPool:
    """Owns every bot process of a test; `close()` kills the survivors."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[BotProcess] = []

    def add(self, name: str, env: dict[str, str], port: int) -> BotProcess:
        process = BotProcess(name=name, env=env, workdir=self.workdir, port=port)
        self.processes.append(process)
        return process

    async def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                await process.kill()
