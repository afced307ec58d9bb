"""bench/walk.py's table: one row per system, medians over the rounds, and the notes under it."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.walk import Result, System

SATURATED = 0.9  # busy share of a core above which whoever runs there bounds the figures
OTHER_WORK = 0.1  # share of the bot's core taken by other processes worth a note


def machine() -> str:
    """CPU model, cores, Python, date and load: the table is only worth as much as this line."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"machine: {model}, {os.cpu_count()} cores; Python {platform.python_version()} "
        f"({platform.python_implementation()}); {date}; load average {load} at start"
    )


COLUMNS = ("updates/s", "p50 ms", "p99 ms", "CPU ms/upd", "RSS MiB", "start-up s", "errors", "gen CPU", "webhook conns")


def row(label: str, results: list[Result]) -> list[str]:
    """One system's cells: medians over the rounds; errors summed."""

    def middle(name: str) -> float:
        return median(getattr(result, name) for result in results)

    return [
        label,
        f"{middle('updates_per_s'):,.0f}",
        f"{middle('p50_ms'):.1f}",
        f"{middle('p99_ms'):.1f}",
        f"{middle('cpu_ms_per_update'):.2f}",
        f"{middle('rss_mib'):.0f}",
        f"{middle('startup_s'):.2f}",
        str(sum(result.errors for result in results)),
        f"{middle('generator_cpu'):.0%}",
        str(results[0].max_connections),
    ]


def print_table(rows: list[list[str]]) -> None:
    header = ["system", *COLUMNS]
    widths = [max(len(line[index]) for line in [header, *rows]) for index in range(len(header))]
    for number, line in enumerate([header, *rows]):
        cells = [line[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)
        ]
        print("| " + " | ".join(cells) + " |")
        if number == 0:
            print(
                "|"
                + "|".join("-" * (widths[0] + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
                + "|"
            )


def print_report(args: argparse.Namespace, systems: list[System], results: dict[str, list[Result]]) -> None:
    """The table (medians over the rounds), the notes on the cores, and each step's p50 / p99."""
    print_table([row(system.label, results[system.key]) for system in systems])
    print_notes(args, systems, results)
    print("Each step, p50 / p99 ms (medians over the rounds):")
    for system in systems:
        rows = results[system.key]
        cells = [
            f"{name} {median(r.steps_ms[index][0] for r in rows):.0f}"
            f" / {median(r.steps_ms[index][1] for r in rows):.0f}"
            for index, name in enumerate(system.steps)
            if all(len(r.steps_ms) > index for r in rows)
        ]
        print(f"  {system.label}: {', '.join(cells)}")


def print_notes(args: argparse.Namespace, systems: list[System], results: dict[str, list[Result]]) -> None:
    """What else ran on the two cores, and whether the generator's core was full (it then bounds the row)."""
    print("gen CPU: this process (emulator + simulated users) over the walking phase, in shares of one core.")
    if args.bot_cpu is None:
        return
    print("Cores busy over the walking phase (anything running on them counts), medians:")
    bounded = []
    for system in systems:
        rows = results[system.key]
        bot_core = median(r.cores_busy.get(args.bot_cpu, 0.0) for r in rows)
        generator_core = median(r.cores_busy.get(args.generator_cpu, 0.0) for r in rows)
        bot, generator = median(r.bot_cpu for r in rows), median(r.generator_cpu for r in rows)
        notes = []
        if bot_core - bot > OTHER_WORK:
            notes.append("other work shared the bot's core")
        if bot > SATURATED:
            notes.append("the bot used its whole core: the bot bounds this row")
        elif generator_core > SATURATED:
            notes.append("the generator's core was full and the bot's was not: the generator may bound this row")
            bounded.append(system.key)
        print(
            f"  {system.label}: CPU {args.bot_cpu} {bot_core:.0%} (the bot {bot:.0%}), "
            f"CPU {args.generator_cpu} {generator_core:.0%} (the generator {generator:.0%})"
            + (f" - {'; '.join(notes)}" if notes else "")
        )
    if bounded:
        print(
            f"Rows {', '.join(bounded)}: the emulator and the simulated users (with whatever else ran on their core) "
            "may have kept the bot from going faster; their figures are a floor for the bot, not its limit."
        )


def median(values: Iterable[float]) -> float:
    return float(statistics.median(values))


def pinning(args: argparse.Namespace) -> str:
    if args.bot_cpu is None:
        return "not pinned (fewer than 2 CPUs available)"
    return f"bot pinned to CPU {args.bot_cpu}, emulator + users to CPU {args.generator_cpu}"
