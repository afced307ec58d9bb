"""What the load benchmarks share: the bot as a pinned process, cores' busy time, percentiles, and a
load generator that does not pause for its own garbage collection (bench/walk.py, bench/burst.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pinned(cpu: int | None) -> Callable[[], None] | None:
    """A preexec_fn that puts the child (and every thread it starts) on `cpu`."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


async def start_bot(argv: list[str], env: dict[str, str], log: Path, cpu: int | None) -> asyncio.subprocess.Process:
    """The bot as its own process on `cpu`, its stderr in `log`."""
    with log.open("wb") as errors:
        return await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=REPO, stdout=asyncio.subprocess.DEVNULL, stderr=errors, preexec_fn=pinned(cpu)
        )


async def stop_bot(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def core_ticks() -> dict[int, tuple[int, int]]:
    """Busy and total clock ticks of each core so far (/proc/stat; busy = not idle, not waiting for I/O)."""
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(value) for value in values[:8]]  # user nice system idle iowait irq softirq steal
            ticks[int(name[3:])] = (sum(numbers) - numbers[3] - numbers[4], sum(numbers))
    return ticks


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in this process (the emulator and the users) while the users walk.

    Its pauses landed in the tail of whichever bot was being measured, and grew round by round:
    aiohttp caches each application's middleware chain (an `lru_cache` in `aiohttp.web_app`), so
    every earlier round's emulator stays alive, and full collections here took 40 ms in the first
    round and 100-220 ms by the third. What was alive before the walk is frozen, and a walk's
    garbage waits for its end.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
