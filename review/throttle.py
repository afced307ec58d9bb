"""Sign-in throttling: growing delays per account and client instead of a lock a stranger could trigger.

Following OWASP's Authentication Cheat Sheet (account lockout lets anyone deny service to an
account; prefer delays that grow per account and source, and exempt devices that signed in before),
every attempt is counted against:

* its **own** counter: the account and the browser if it signed in to that account before (a
  random cookie), else the account and the client address. `free` failures, then each further one
  doubles the wait before the next try (up to `login_max_delay_seconds`). A stranger's failures
  land on the stranger's own counter.
* two **ceilings**, only for browsers that have not signed in to the account: all such clients of
  one account (a distributed guess), and all accounts from one address (password spraying). Their
  wait is bounded by `ceiling_max_delay_seconds`, and a browser that signed in skips them, so the
  most a stranger can do is make a moderator on a new browser wait, at most that long per try.

An attempt is *reserved* before the password is checked: one transaction locks the counters (row
locks taken in key order on PostgreSQL, a serialised writer on SQLite), refuses if any still makes
it wait, and otherwise counts a failure at once. Concurrent attempts therefore see each other, and
no more than the free failures are ever checked. A success clears its own counter and gives its
failure back to the ceilings. Counters are forgotten a day after their last failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from review.client_address import throttle_address
from review.config import DashboardConfig
from review.security import new_token
from storage.models import utcnow
from storage.privacy import Privacy
from storage.repositories.login_throttle import ThrottleState
from storage.uow import UnitOfWork

# Failures are forgotten a day after the last one.
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Backoff:
    free: int
    max_delay: int

    def delay(self, failures: int) -> timedelta:
        """The wait after `failures` consecutive failures: none while free, then 1 s, 2 s, 4 s ..."""
        if failures < self.free:
            return timedelta(0)
        return timedelta(seconds=min(self.max_delay, 2 ** min(failures - self.free, 30)))


@dataclass(frozen=True, slots=True)
class Attempt:
    """The counters one sign-in attempt is counted against."""

    own: str
    ceilings: tuple[str, ...]
    browser: str | None  # the counter of the browser cookie presented, trusted or not


@dataclass(frozen=True, slots=True)
class Reservation:
    attempt: Attempt
    allowed: bool
    # Refused: seconds to wait. Allowed: the wait this attempt imposes on the next one should it fail.
    wait: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.wait))


def clock() -> datetime:
    return utcnow()


class LoginThrottle:
    def __init__(self, config: DashboardConfig) -> None:
        self.own = Backoff(config.login_free_failures, config.login_max_delay_seconds)
        self.ceiling = Backoff(config.ceiling_free_failures, config.ceiling_max_delay_seconds)
        self.trusted_for = timedelta(days=config.trusted_browser_days)

    async def reserve(
        self, uow: UnitOfWork, privacy: Privacy, *, username: str, address: str, browser_token: str | None
    ) -> Reservation:
        """Count this attempt as a failure before its password is checked, or refuse it; commits."""
        now, address = clock(), throttle_address(address)
        browser = privacy.login_key("browser", username, browser_token) if browser_token is not None else None
        if browser is not None:
            state = (await uow.login_throttle.lock([browser])).get(browser)
            if state is not None and state.trusted(now):
                attempt = Attempt(own=browser, ceilings=(), browser=browser)
                return await self._decide(uow, attempt, {browser: state}, now)
            await uow.rollback()  # an unknown browser token: counted like no token at all
        attempt = Attempt(
            own=privacy.login_key("account+address", username, address),
            ceilings=(privacy.login_key("account", username), privacy.login_key("address", address)),
            browser=browser if browser_token else None,
        )
        keys = [attempt.own, *attempt.ceilings]
        for _ in range(3):  # a purge may remove a counter between its creation and its lock
            await uow.login_throttle.create_missing(keys, now=now, expires_at=now + FORGET_AFTER)
            await uow.commit()
            states = await uow.login_throttle.lock(keys)
            if len(states) == len(keys):
                return await self._decide(uow, attempt, states, now)
            await uow.rollback()
        raise RuntimeError("sign-in counters keep disappearing")

    async def _decide(
        self, uow: UnitOfWork, attempt: Attempt, states: dict[str, ThrottleState], now: datetime
    ) -> Reservation:
        gates = [(states[attempt.own], self.own)] + [(states[key], self.ceiling) for key in attempt.ceilings]
        waits = [(state.next_attempt_at - now).total_seconds() for state, _ in gates if state.live(now)]
        if max(waits, default=0.0) > 0:
            await uow.rollback()
            return Reservation(attempt, allowed=False, wait=max(waits))
        imposed = 0.0
        for state, backoff in gates:
            failures = (state.failures if state.live(now) else 0) + 1
            delay = backoff.delay(failures)
            imposed = max(imposed, delay.total_seconds())
            trusted_until = state.trusted_until if state.trusted(now) else None
            await uow.login_throttle.save(
                replace(
                    state,
                    failures=failures,
                    next_attempt_at=now + delay,
                    trusted_until=trusted_until,
                    expires_at=max(now + FORGET_AFTER, trusted_until or now),
                )
            )
        await uow.commit()
        return Reservation(attempt, allowed=True, wait=imposed)

    async def succeeded(self, uow: UnitOfWork, privacy: Privacy, *, attempt: Attempt, username: str) -> str:
        """Clear the attempt's own counter, give its failure back to the ceilings, and trust the browser
        under a fresh token (returned for its cookie). Part of the caller's transaction."""
        now = clock()
        if attempt.browser is not None:  # locked first, as in `reserve`
            await uow.login_throttle.forget([attempt.browser])  # a new token at every sign-in: no fixation
        states = await uow.login_throttle.lock([attempt.own, *attempt.ceilings])
        await uow.login_throttle.forget([attempt.own])
        for key in attempt.ceilings:
            if key in states:
                await uow.login_throttle.save(replace(states[key], failures=max(0, states[key].failures - 1)))
        token = new_token()
        until = now + self.trusted_for
        await uow.login_throttle.trust(privacy.login_key("browser", username, token), now=now, until=until)
        await uow.login_throttle.purge_expired(now)
        return token
