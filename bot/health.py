"""Readiness (`/readyz`) and the scrape-time metrics that read the database.

Liveness (`/healthz`) needs nothing from here: a process whose event loop answers is alive.
Readiness says whether this instance should get traffic: its database answers, the schema is at
the head revision, and - with TRANSLATION_WORKER=inline - its own translation worker has beaten
recently. Workers run as separate processes (TRANSLATION_WORKER=off) are reported but never make
an instance unready: routing around it would not bring them back, and every instance would go.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text

from bot.metrics import TRANSLATION_OLDEST_PENDING, TRANSLATION_QUEUE_DEPTH
from storage.migrate import revision_of
from storage.uow import Database
from translations.worker import HEARTBEAT_KIND, HEARTBEAT_STALE_AFTER, TranslationWorker

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # seconds; an orchestrator's probe should get an answer, not a hang


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)
    ok: bool = True

    def fail(self, name: str, reason: str) -> None:
        self.checks[name] = reason
        self.ok = False

    @property
    def body(self) -> dict[str, object]:
        return {"status": "ready" if self.ok else "not ready", "checks": self.checks}


async def readiness(database: Database, head: str, worker: TranslationWorker | None) -> Readiness:
    """Each check as `ok` or a short reason; never raises."""
    report = Readiness()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await _check_database(database, head, worker, report)
    except TimeoutError:
        report.fail("database", f"no answer within {CHECK_TIMEOUT:g} s")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the type is enough to act on
        report.fail("database", f"unreachable ({type(exc).__name__})")
    return report


async def _check_database(database: Database, head: str, worker: TranslationWorker | None, report: Readiness) -> None:
    async with database.unit_of_work() as uow:
        connection = await uow.session.connection()
        await connection.execute(text("SELECT 1"))
        report.checks["database"] = "ok"
        current = await connection.run_sync(revision_of)
        if (current or "base") != head:
            report.fail("migrations", f"at {current or 'base'}, head is {head} (run `tracebot db upgrade`)")
            return  # an older schema may lack the heartbeat table
        report.checks["migrations"] = "ok"
        now = datetime.now(UTC)
        if worker is not None:
            beat = await uow.heartbeats.get(worker.worker_id)
            if beat is None:
                report.fail("translation_worker", "no heartbeat yet")
            elif now - beat.beat_at > HEARTBEAT_STALE_AFTER:
                report.fail("translation_worker", f"last heartbeat {_age(now, beat.beat_at)} ago")
            else:
                report.checks["translation_worker"] = "ok"
        else:
            latest = await uow.heartbeats.latest(HEARTBEAT_KIND)
            report.checks["translation_worker"] = (
                "separate processes; none has beaten yet"
                if latest is None
                else f"separate processes; last heartbeat {_age(now, latest)} ago"
            )


def _age(now: datetime, then: datetime) -> str:
    return f"{max(0, round((now - then).total_seconds()))} s"


async def refresh_queue_gauges(database: Database) -> None:
    """Set the translation queue gauges from the database (at scrape time, with a cheap indexed query)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), database.unit_of_work() as uow:
            depth, oldest = await uow.translation_jobs.queue_stats()
    except Exception as exc:  # noqa: BLE001 - a scrape must still answer; the gauges keep their last value
        log.warning("translation queue metrics not refreshed: %s", type(exc).__name__)
        return
    TRANSLATION_QUEUE_DEPTH.set(depth)
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    TRANSLATION_OLDEST_PENDING.set(max(0.0, age))
