"""Who may see what: every route closed to strangers, sessions, CSRF, roles, redirects (throttling: test_signin)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

import review
from bot.web import create_web_app
from review.security import SECURITY_HEADERS
from storage.models import AuditEvent, WebSession, utcnow
from storage.uow import Database
from tests.review.support import PASSWORD, Seeded, csrf_of, make_config, make_settings, page_csrf, seed, sign_in

PUBLIC = {("GET", "/review/login"), ("POST", "/review/login"), ("GET", "/review/static")}
SESSION = "tracebot-session"


def dashboard_routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD":
            continue
        path = resource.canonical
        if path.startswith(("/review", "/api")):
            found.append((route.method, path))
    return sorted(set(found))


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path).replace("/export.1", "/export.csv").replace("/code.1", "/code.png")


async def audit_actions(database: Database) -> list[str]:
    async with database.unit_of_work() as uow:
        return list(await uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


async def test_every_route_refuses_strangers(client: TestClient[Any, Any], seeded: Seeded, tmp_path: Path) -> None:
    routes = dashboard_routes(client.app)
    # The real server mounts exactly the same routes through `extra_setup`.
    real = create_web_app(
        make_settings("sqlite+aiosqlite:///" + str(tmp_path / "unused.db"), tmp_path),
        mode="polling",
        extra_setup=[review.setup_with(make_config())],
    )
    assert dashboard_routes(real) == routes
    assert len(routes) >= 20
    assert {route for route in routes if route in PUBLIC} == PUBLIC
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        response = await client.request(method, concrete(path), allow_redirects=False)
        if path.startswith("/api"):
            assert response.status == 401, (method, path)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        else:
            assert response.status == 303, (method, path, response.status)
            assert response.headers["Location"].startswith("/review/login"), (method, path)
        for header in SECURITY_HEADERS:
            assert header in response.headers, (path, header)


async def test_security_headers_and_no_inline_script(admin: TestClient[Any, Any]) -> None:
    for path in ("/review/tips", "/review/login", "/review/static/dashboard.css", "/review/nope"):
        response = await admin.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"]
    html = await (await admin.get("/review/tips")).text()
    assert "<script>" not in html and " style=" not in html and "onclick" not in html.lower()


async def test_sign_in_sets_hardened_cookie(make_client: Any, media_dir: Path) -> None:
    client = await make_client(cookie_secure=True, session_hours=8)
    await seed(client.app[review.DATABASE], media_dir)
    page = await client.get("/review/login")
    login_cookie = page.headers.getall("Set-Cookie")[0]
    assert login_cookie.startswith("__Host-tracebot-login=") and "Secure" in login_cookie
    token = csrf_of(await page.text())
    response = await client.post(
        "/review/login",
        data={"csrf_token": token, "username": "alice", "password": PASSWORD},
        headers={"Cookie": f"__Host-tracebot-login={token}"},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = next(
        value for value in response.headers.getall("Set-Cookie") if value.startswith("__Host-tracebot-session=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "path", "max-age"} <= attributes
    assert "SameSite=Strict" in cookie and "Max-Age=28800" in cookie and "Domain" not in cookie


async def test_session_is_stored_hashed_and_renewed_on_login(
    client: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    # An attacker plants a session id before the victim signs in (session fixation).
    client.session.cookie_jar.update_cookies({SESSION: "attacker-chosen-value"})
    assert (await sign_in(client)).status == 303
    first = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION].value
    assert first != "attacker-chosen-value"
    # Signing in again from a browser that still holds the first session replaces it.
    client.session.cookie_jar.clear()
    token = csrf_of(await (await client.get("/review/login")).text())
    client.session.cookie_jar.update_cookies({SESSION: first})
    again = await client.post(
        "/review/login", data={"csrf_token": token, "username": "alice", "password": PASSWORD}, allow_redirects=False
    )
    assert again.status == 303
    second = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION].value
    assert second != first
    async with database.unit_of_work() as uow:
        hashes = list(await uow.session.scalars(select(WebSession.token_hash)))
    assert len(hashes) == 1 and first not in hashes and second not in hashes, "only a hash of the live session"
    # The replaced session no longer opens anything; the new one does.
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({SESSION: second})
    assert (await client.get("/review/tips", allow_redirects=False)).status == 200
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({SESSION: first})
    assert (await client.get("/review/tips", allow_redirects=False)).status == 303


async def test_logout_ends_the_session(admin: TestClient[Any, Any], database: Database) -> None:
    cookie = admin.session.cookie_jar.filter_cookies(admin.make_url("/"))[SESSION].value
    token = await page_csrf(admin)
    response = await admin.post("/review/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/review/login")
    admin.session.cookie_jar.clear()
    admin.session.cookie_jar.update_cookies({SESSION: cookie})  # replaying the old cookie does not help
    assert (await admin.get("/review/tips", allow_redirects=False)).status == 303
    assert (await audit_actions(database))[-1] == "logout"


async def test_expired_and_idle_sessions_are_refused(admin: TestClient[Any, Any], database: Database) -> None:
    assert (await admin.get("/review/tips")).status == 200
    async with database.unit_of_work() as uow:
        await uow.session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=3)))
        await uow.commit()
    assert (await admin.get("/review/tips", allow_redirects=False)).status == 303
    async with database.unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(WebSession)) == 0


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/review/tips/3", "/review/tips/3"),
        ("/review/stats?object=1", "/review/stats?object=1"),
        ("https://evil.example/", "/review/tips"),
        ("//evil.example/review/", "/review/tips"),
        ("/\\evil.example", "/review/tips"),
        ("/review/\r\nLocation: https://evil", "/review/tips"),
        ("javascript:alert(1)", "/review/tips"),
        ("/healthz", "/review/tips"),
        ("/review/login", "/review/tips"),
    ],
)
async def test_next_only_goes_to_local_dashboard_pages(
    client: TestClient[Any, Any], seeded: Seeded, next_: str, expected: str
) -> None:
    response = await sign_in(client, next_=next_)
    assert response.status == 303
    assert response.headers["Location"] == expected


async def test_anonymous_request_remembers_where_it_was_going(client: TestClient[Any, Any], seeded: Seeded) -> None:
    response = await client.get("/review/tips?status=new", allow_redirects=False)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/review/login"
    assert parse_qs(location.query) == {"next": ["/review/tips?status=new"]}


async def test_posts_without_the_right_csrf_token_are_refused(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    tip = seeded.tips[0]
    url = f"/review/tips/{tip}/status"
    assert (await admin.post(url, data={"status": "spam"})).status == 403
    assert (await admin.post(url, data={"status": "spam", "csrf_token": "forged"})).status == 403
    token = await page_csrf(admin)
    cross_site = await admin.post(
        url, data={"status": "spam", "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status == 403
    async with database.unit_of_work() as uow:
        assert (await uow.review.get(tip)).status == "new"  # type: ignore[union-attr]
    ok = await admin.post(url, data={"status": "spam", "csrf_token": token}, allow_redirects=False)
    assert ok.status == 303


async def test_login_form_needs_its_token(client: TestClient[Any, Any], seeded: Seeded) -> None:
    response = await client.post(
        "/review/login", data={"username": "alice", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403
    assert SESSION not in {cookie.key for cookie in client.session.cookie_jar}


async def test_moderators_cannot_use_admin_pages(client: TestClient[Any, Any], seeded: Seeded) -> None:
    assert (await sign_in(client, username="bob")).status == 303
    assert (await client.get("/review/audit")).status == 403
    assert (await client.get("/review/accounts")).status == 403
    token = await page_csrf(client)
    change = await client.post(
        f"/review/objects/{seeded.objects['TAO-0001']}/status", data={"csrf_token": token, "status": "archived"}
    )
    assert change.status == 403
    promote = await client.post(
        f"/review/accounts/{seeded.moderator_id}", data={"csrf_token": token, "change": "make_admin"}
    )
    assert promote.status == 403
    assert (await client.get("/review/tips")).status == 200


async def test_admin_manages_accounts_and_sessions_end(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database
) -> None:
    token = await page_csrf(admin, "/review/accounts")
    own = await admin.post(f"/review/accounts/{seeded.admin_id}", data={"csrf_token": token, "change": "disable"})
    assert own.status == 400, "an admin cannot lock themself out"
    response = await admin.post(
        f"/review/accounts/{seeded.moderator_id}",
        data={"csrf_token": token, "change": "disable"},
        allow_redirects=False,
    )
    assert response.status == 303
    async with database.unit_of_work() as uow:
        bob = await uow.moderators.get(seeded.moderator_id)
    assert bob is not None and not bob.active
    assert (await audit_actions(database))[-1] == "account.change"
