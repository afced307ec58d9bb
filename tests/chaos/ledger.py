"""After the chaos: compare what users were told and confirmed with what the database holds."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from emulator import BotApiEmulator
from storage.db import create_engine, create_session_factory
from storage.models import Reporter, Tip, format_tip_reference
from storage.privacy import Privacy
from tests.chaos.driver import NONCE, TipUser, references_in


@dataclass(frozen=True)
class StoredTip:
    reference: str
    draft_token: str
    pseudonym: str | None
    text: str
    confirmed: bool

    @property
    def nonce(self) -> str | None:
        found = NONCE.search(self.text)
        return found.group() if found else None


async def load_tips(database_url: str) -> list[StoredTip]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.execute(
                select(Tip.id, Tip.draft_token, Reporter.pseudonym, Tip.text_original, Tip.confirmed_at)
                .outerjoin(Reporter, Reporter.id == Tip.reporter_id)
                .order_by(Tip.id)
            )
            return [
                StoredTip(format_tip_reference(tip_id), token, pseudonym, text, confirmed_at is not None)
                for tip_id, token, pseudonym, text, confirmed_at in rows.all()
            ]
    finally:
        await engine.dispose()


async def wait_until_all_confirmed(database_url: str, timeout: float) -> int:  # noqa: ASYNC109
    """Poll until the sweeper (or the turns) marked every tip confirmed; returns how many are left."""
    engine = create_engine(database_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            async with create_session_factory(engine)() as session:
                left = await session.scalar(select(func.count()).select_from(Tip).where(Tip.confirmed_at.is_(None)))
            if not left or loop.time() > deadline:
                return int(left or 0)
            await asyncio.sleep(0.25)
    finally:
        await engine.dispose()


@dataclass
class Figures:
    """The numbers a chaos run reports."""

    database: str
    users: int = 0
    users_with_reference: int = 0
    kills: int = 0
    restarts: int = 0
    updates_delivered: int = 0
    delivery_attempts: int = 0
    failed_deliveries: int = 0
    tips: int = 0
    tips_lost: int = 0
    reference_messages: int = 0
    repeated_references: int = 0
    stalls: int = 0
    fresh_attempts: int = 0
    error_replies: int = 0
    seconds: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        values = {k: v for k, v in vars(self).items() if k != "extra"}
        values.update(self.extra)
        return " ".join(
            f"{key}={value:.1f}" if isinstance(value, float) else f"{key}={value}" for key, value in values.items()
        )


def delivery_figures(emulator: BotApiEmulator, figures: Figures) -> None:
    deliveries = emulator.webhook_deliveries
    figures.delivery_attempts = len(deliveries)
    figures.failed_deliveries = sum(1 for d in deliveries if d.error is not None)
    figures.updates_delivered = len({d.update_id for d in deliveries if d.error is None})


def check_ledger(users: list[TipUser], tips: list[StoredTip], secret_key: str, figures: Figures) -> list[str]:
    """Every invariant of issue #5; returns the violations (empty when all hold) and fills `figures`."""
    problems: list[str] = []
    privacy = Privacy(secret_key)
    by_reference = Counter(tip.reference for tip in tips)
    stored = {tip.reference: tip for tip in tips}
    owner = {privacy.pseudonym(user.user_id): user for user in users}
    told: dict[int, Counter[str]] = {user.user_id: Counter(references_in(user.user)) for user in users}

    problems += [f"{ref} stored {n} times" for ref, n in by_reference.items() if n != 1]
    tokens = Counter(tip.draft_token for tip in tips)
    problems += [f"draft {token} submitted {n} times" for token, n in tokens.items() if n > 1]
    nonces = Counter(tip.nonce for tip in tips)
    problems += [f"the draft with {nonce} became {n} tips" for nonce, n in nonces.items() if n > 1]
    for tip in tips:
        user = owner.get(tip.pseudonym or "")
        if user is None:
            problems.append(f"{tip.reference} belongs to no simulated user")
            continue
        if not tip.confirmed:
            problems.append(f"{tip.reference} has no confirmed_at")
        if not told[user.user_id][tip.reference]:
            problems.append(f"{tip.reference} was never sent to user {user.user_id}")
    for user in users:
        pseudonym = privacy.pseudonym(user.user_id)
        for reference in told[user.user_id]:
            found = stored.get(reference)
            if found is None:
                problems.append(f"user {user.user_id} was told {reference}, which is not in the database")
            elif found.pseudonym != pseudonym:
                problems.append(f"user {user.user_id} was told {reference}, another reporter's tip")
        mine = {str(tip.nonce) for tip in tips if tip.pseudonym == pseudonym}
        if mine != user.confirmed:
            problems.append(
                f"user {user.user_id} confirmed {sorted(user.confirmed)}, the database holds {sorted(mine)}"
            )
    lost = {n for user in users for n in user.confirmed} - set(nonces)
    lost_refs = {ref for counter in told.values() for ref in counter} - set(stored)
    figures.users = len(users)
    figures.users_with_reference = sum(1 for counter in told.values() if counter)
    figures.tips = len(tips)
    figures.tips_lost = len(lost) + len(lost_refs)
    figures.reference_messages = sum(sum(counter.values()) for counter in told.values())
    figures.repeated_references = sum(n - 1 for counter in told.values() for n in counter.values())
    figures.stalls = sum(user.stats.stalls for user in users)
    figures.fresh_attempts = sum(user.stats.restarts for user in users)
    figures.error_replies = sum(user.stats.error_replies for user in users)
    return problems
