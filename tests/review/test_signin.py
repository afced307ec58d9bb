"""Sign-in hardening: attempts decided atomically, delays per account and client instead of a lock a
stranger could trigger, browsers that signed in before, trusted proxies, and the Origin check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from multidict import CIMultiDictProxy
from sqlalchemy import select

import review
from review import throttle
from review.client_address import client_address, throttle_address
from review.config import DashboardConfig
from review.security import Passwords, new_token
from storage.models import AuditEvent, LoginThrottle, utcnow
from storage.uow import Database
from tests.review.support import PASSWORD, seed

WRONG = "not the password at all"
PROXY = "127.0.0.1"  # the test client's address, trusted where a test puts a proxy in front


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The throttle's clock, stopped: concurrent attempts cannot outlast a delay by being slow."""
    frozen = Clock(utcnow())
    monkeypatch.setattr(throttle, "clock", frozen)
    return frozen


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification, by the password it checked."""
    checks: list[str] = []
    verify = Passwords.verify

    def counting(self: Passwords, password_hash: str | None, password: str) -> bool:
        checks.append(password)
        return verify(self, password_hash, password)

    monkeypatch.setattr(Passwords, "verify", counting)
    return checks


@dataclass
class Outcome:
    status: int
    text: str
    headers: CIMultiDictProxy[str]
    cookies: dict[str, str] = field(default_factory=dict)


async def attempt(
    client: TestClient[Any, Any],
    *,
    username: str = "alice",
    password: str = PASSWORD,
    forwarded_for: str | None = None,
    origin: str | None = None,
    browser: str | None = None,
) -> Outcome:
    """One sign-in POST with its own double-submit token and no cookie jar, so many can run at once."""
    token = new_token()
    cookies = {"tracebot-login": token} | ({"tracebot-browser": browser} if browser else {})
    headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    if origin is not None:
        headers["Origin"] = origin
    form = {"csrf_token": token, "username": username, "password": password, "next": ""}
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session,
        session.post(client.make_url("/review/login"), data=form, headers=headers, allow_redirects=False) as response,
    ):
        text = await response.text()
        return Outcome(response.status, text, response.headers, {c.key: c.value for c in response.cookies.values()})


async def audit(database: Database) -> list[tuple[str, dict[str, Any]]]:
    async with database.unit_of_work() as uow:
        rows = await uow.session.execute(select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.id))
        return [(action, details) for action, details in rows]


async def seeded_client(make_client: Callable[..., Any], media_dir: Path, **config: Any) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await make_client(**config)
    await seed(client.app[review.DATABASE], media_dir)
    return client


# Item 4: the decision is taken before the password is checked, atomically.


async def test_concurrent_sign_ins_get_no_more_password_checks_than_allowed(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock, password_checks: list[str]
) -> None:
    client = await seeded_client(make_client, media_dir)
    database = client.app[review.DATABASE]
    outcomes = await asyncio.gather(*(attempt(client, password=WRONG) for _ in range(30)))
    statuses = sorted(outcome.status for outcome in outcomes)
    assert len(password_checks) == 5, f"{len(password_checks)} password checks for 30 simultaneous attempts"
    assert statuses == [401] * 5 + [429] * 25
    assert all(int(outcome.headers["Retry-After"]) >= 1 for outcome in outcomes if outcome.status == 429)
    # Once the audit says the client must wait, even the right password is not checked until it has.
    failures = [details["reason"] for action, details in await audit(database) if action == "login.failed"]
    assert len(failures) == 5 and sum("next try" in reason for reason in failures) == 1
    refused = await attempt(client)
    assert refused.status == 429 and len(password_checks) == 5
    assert "login" not in [action for action, _ in await audit(database)]
    clock.advance(int(refused.headers["Retry-After"]))
    assert (await attempt(client)).status == 303
    assert len(password_checks) == 6


async def test_concurrent_attempts_across_addresses_respect_the_account_ceiling(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock, password_checks: list[str]
) -> None:
    client = await seeded_client(make_client, media_dir, trusted_proxies=PROXY, ceiling_free_failures=4)
    addresses = [f"203.0.113.{n}" for n in range(1, 31)]
    outcomes = await asyncio.gather(*(attempt(client, password=WRONG, forwarded_for=a) for a in addresses))
    assert len(password_checks) == 4
    assert sorted(outcome.status for outcome in outcomes) == [401] * 4 + [429] * 26


# Item 5: a stranger cannot keep a moderator out.


async def test_a_strangers_failures_do_not_lock_the_moderator_out(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock
) -> None:
    client = await seeded_client(make_client, media_dir, trusted_proxies=PROXY)
    stranger, moderator = "203.0.113.66", "198.51.100.7"
    statuses = [(await attempt(client, password=WRONG, forwarded_for=stranger)).status for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    # The stranger is slowed down, even with the right password ...
    assert (await attempt(client, forwarded_for=stranger)).status == 429
    # ... while the moderator, elsewhere, signs in at once.
    assert (await attempt(client, forwarded_for=moderator)).status == 303


async def test_delays_grow_and_are_bounded(make_client: Callable[..., Any], media_dir: Path, clock: Clock) -> None:
    client = await seeded_client(make_client, media_dir, login_max_delay_seconds=8)
    waits = []
    for _ in range(10):
        outcome = await attempt(client, password=WRONG)
        while outcome.status == 429:
            waits.append(int(outcome.headers["Retry-After"]))
            clock.advance(waits[-1])
            outcome = await attempt(client, password=WRONG)
        assert outcome.status == 401
    assert waits == [1, 2, 4, 8, 8]
    clock.advance(8)
    assert (await attempt(client)).status == 303
    # A success clears the client's own counter.
    assert [(await attempt(client, password=WRONG)).status for _ in range(5)] == [401] * 5


async def test_failures_are_forgotten_a_day_later(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock
) -> None:
    client = await seeded_client(make_client, media_dir)
    for _ in range(2):
        statuses = [(await attempt(client, password=WRONG)).status for _ in range(6)]
        assert statuses == [401] * 5 + [429]
        clock.advance(throttle.FORGET_AFTER.total_seconds() + 1)


async def test_a_browser_that_signed_in_skips_the_shared_ceiling(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock
) -> None:
    client = await seeded_client(make_client, media_dir, trusted_proxies=PROXY, ceiling_free_failures=3)
    first = await attempt(client, forwarded_for="198.51.100.7")
    assert first.status == 303
    browser = first.cookies["tracebot-browser"]
    # A distributed guess: one try from each of many addresses reaches the account's ceiling.
    for n in range(3):
        assert (await attempt(client, password=WRONG, forwarded_for=f"203.0.113.{n}")).status == 401
    assert (await attempt(client, forwarded_for="192.0.2.1")).status == 429, "a new browser waits"
    again = await attempt(client, forwarded_for="192.0.2.1", browser=browser)
    assert again.status == 303, "the moderator's own browser does not"
    assert again.cookies["tracebot-browser"] not in ("", browser), "a fresh browser token at each sign-in"
    # The replaced token vouches for nothing any more; a forged one never did.
    assert (await attempt(client, forwarded_for="192.0.2.1", browser=browser)).status == 429
    assert (await attempt(client, forwarded_for="192.0.2.1", browser=new_token())).status == 429


async def test_counters_are_shared_by_instances_and_name_nobody(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock
) -> None:
    one = await seeded_client(make_client, media_dir)
    other: TestClient[Any, Any] = await make_client()
    for _ in range(5):
        assert (await attempt(one, password=WRONG)).status == 401
    assert (await attempt(other, password=WRONG)).status == 429
    async with one.app[review.DATABASE].unit_of_work() as uow:
        keys = list(await uow.session.scalars(select(LoginThrottle.key)))
    assert keys and all(len(key) == 64 and set(key) <= set("0123456789abcdef") for key in keys)


async def test_unknown_accounts_are_throttled_like_known_ones(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock
) -> None:
    client = await seeded_client(make_client, media_dir)
    for name in ("alice", "nobody"):
        statuses = [(await attempt(client, username=name, password=WRONG)).status for _ in range(6)]
        assert statuses == [401] * 5 + [429], name


async def test_one_address_guessing_many_accounts_meets_the_address_ceiling(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock
) -> None:
    client = await seeded_client(make_client, media_dir, ceiling_free_failures=3)
    for name in ("nobody", "someone", "bob"):
        assert (await attempt(client, username=name, password=WRONG)).status == 401
    throttled = await attempt(client, username="alice")
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) >= 1


# Item 5: the client address behind a proxy.


def test_client_address_believes_only_trusted_proxies() -> None:
    proxies = (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))
    assert client_address("203.0.113.5", ["198.51.100.1"], proxies) == "203.0.113.5", "spoofed by a client"
    assert client_address("127.0.0.1", [], proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", ["198.51.100.1"], proxies) == "198.51.100.1"
    # The right-most hop that is not a trusted proxy; what the client wrote left of it is ignored.
    assert client_address("127.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], proxies) == "198.51.100.1"
    assert client_address("127.0.0.1", ["6.6.6.6", "198.51.100.1"], proxies) == "198.51.100.1"
    assert client_address("127.0.0.1", ["junk, 10.1.2.3"], proxies) == "10.1.2.3"
    assert client_address("::ffff:127.0.0.1", ["::ffff:198.51.100.1"], proxies) == "198.51.100.1"
    assert client_address(None, ["198.51.100.1"], proxies) == "unknown"
    assert throttle_address("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert throttle_address("198.51.100.1") == "198.51.100.1"


def test_trusted_proxies_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,::1")
    assert DashboardConfig(_env_file=None).trusted_proxies == (
        ip_network("10.0.0.0/8"),
        ip_network("192.0.2.7/32"),
        ip_network("::1/128"),
    )
    monkeypatch.setenv("DASHBOARD_TRUSTED_PROXIES", "10.0.0.1/8")
    with pytest.raises(ValueError, match="host bits set"):
        DashboardConfig(_env_file=None)
    monkeypatch.delenv("DASHBOARD_TRUSTED_PROXIES")
    assert DashboardConfig(_env_file=None).trusted_proxies == ()


async def test_forwarded_for_is_used_only_from_a_trusted_proxy(
    make_client: Callable[..., Any], media_dir: Path, clock: Clock
) -> None:
    direct = await seeded_client(make_client, media_dir)
    for n in range(5):  # a new address in every header: still one client
        assert (await attempt(direct, password=WRONG, forwarded_for=f"203.0.113.{n}")).status == 401
    assert (await attempt(direct, forwarded_for="198.51.100.7")).status == 429
    recorded = {details.get("address") for _, details in await audit(direct.app[review.DATABASE])}
    assert recorded == {"127.0.0.1"}

    proxied: TestClient[Any, Any] = await make_client(trusted_proxies=PROXY)
    assert (await attempt(proxied, username="bob", forwarded_for="6.6.6.6, 198.51.100.7")).status == 303
    action, details = (await audit(proxied.app[review.DATABASE]))[-1]
    assert action == "login" and details["address"] == "198.51.100.7"


# Item 6: the sign-in form checks Origin like every other form.


async def test_cross_origin_sign_in_is_refused_even_with_a_valid_token(
    make_client: Callable[..., Any], media_dir: Path
) -> None:
    client = await seeded_client(make_client, media_dir)
    for origin in ("https://evil.example", "null"):
        refused = await attempt(client, origin=origin)
        assert refused.status == 403, origin
        assert "tracebot-session" not in refused.cookies
    host = client.make_url("/").host
    assert (await attempt(client, origin=f"http://{host}:{client.port}")).status == 303
    assert "login" in [action for action, _ in await audit(client.app[review.DATABASE])]


async def test_mixed_simultaneous_sign_ins_never_fail_or_deadlock(
    make_client: Callable[..., Any], media_dir: Path, password_checks: list[str]
) -> None:
    """Successes, failures, remembered browsers and strangers at once: every answer is a decision."""
    client = await seeded_client(make_client, media_dir, trusted_proxies=PROXY, ceiling_free_failures=6)
    remembered = {}
    for name in ("alice", "bob"):
        outcome = await attempt(client, username=name, forwarded_for="198.51.100.1")
        remembered[name] = outcome.cookies["tracebot-browser"]
    jobs = []
    for n in range(48):
        name = ("alice", "bob")[n % 2]
        kind = n % 4
        if kind == 0:  # the moderator, from a remembered browser
            jobs.append(attempt(client, username=name, forwarded_for="198.51.100.1", browser=remembered[name]))
        elif kind == 1:  # a stranger guessing from many addresses
            jobs.append(attempt(client, username=name, password=WRONG, forwarded_for=f"203.0.113.{n}"))
        elif kind == 2:  # a stranger guessing from one address
            jobs.append(attempt(client, username=name, password=WRONG, forwarded_for="192.0.2.66"))
        else:  # the moderator on a new browser
            jobs.append(attempt(client, username=name, forwarded_for=f"198.51.100.{n}"))
    outcomes = await asyncio.gather(*jobs)
    assert {outcome.status for outcome in outcomes} <= {303, 401, 429}, [o.text[:200] for o in outcomes]
    assert sum(outcome.status == 303 for outcome in outcomes[0::4]) >= 1, "a remembered browser gets in"
    assert len(password_checks) == 2 + sum(outcome.status != 429 for outcome in outcomes)
