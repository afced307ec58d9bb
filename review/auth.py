"""Sign-in, sign-out and the session middleware: server-side sessions, CSRF, throttling."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

from aiohttp import web

from review import client_address as addresses
from review.context import (
    PASSWORDS,
    THROTTLE,
    Handler,
    config,
    current_session,
    database,
    set_session,
    unit_of_work,
)
from review.render import error_page, render, see_other
from review.roles import landing
from review.security import DASHBOARD_PREFIX, DEFAULT_LANDING, new_token, safe_next, token_hash, tokens_match
from storage.models import utcnow
from storage.repositories.moderators import SessionRecord

log = logging.getLogger(__name__)

PUBLIC_ROUTES = frozenset({"review.login", "review.login_submit", "review.static"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOUCH_EVERY = timedelta(minutes=1)
FAILED_LOGIN = "Sign-in failed. Check your username and password. After repeated failures, each try must wait longer."
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,100}")


def session_cookie(secure: bool) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only and Path=/.
    return "__Host-tracebot-session" if secure else "tracebot-session"


def login_cookie(secure: bool) -> str:
    return "__Host-tracebot-login" if secure else "tracebot-login"


def browser_cookie(secure: bool) -> str:
    """Marks a browser that signed in before: it skips the shared sign-in ceilings (see `review.throttle`)."""
    return "__Host-tracebot-browser" if secure else "tracebot-browser"


def client_address(request: web.Request) -> str:
    """The client's address; X-Forwarded-For counts only when the peer is a trusted proxy."""
    return addresses.client_address(
        request.remote, request.headers.getall("X-Forwarded-For", []), config(request).trusted_proxies
    )


async def load_session(request: web.Request) -> SessionRecord | None:
    """The live session the cookie names, or None (expired, idle too long, or account disabled)."""
    token = request.cookies.get(session_cookie(config(request).cookie_secure))
    if not token or len(token) > 200:
        return None
    now = utcnow()
    async with unit_of_work(request) as uow:
        session = await uow.web_sessions.get(token_hash(token))
        if session is None:
            return None
        idle_limit = session.last_seen_at + timedelta(minutes=config(request).idle_minutes)
        if session.expires_at <= now or idle_limit <= now or not session.moderator.active:
            await uow.web_sessions.delete(session.token_hash)
            await uow.commit()
            return None
        if now - session.last_seen_at > TOUCH_EVERY:
            await uow.web_sessions.touch(session.token_hash, now)
            await uow.commit()
    return session


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every dashboard route but sign-in and static files needs a session; every POST a CSRF token."""
    route = request.match_info.route
    if request.match_info.http_exception is not None or route.name in PUBLIC_ROUTES:
        return await handler(request)
    session = await load_session(request)
    if session is None:
        target = f"{DASHBOARD_PREFIX}/login"
        if request.method in ("GET", "HEAD"):
            target += "?next=" + quote(request.path_qs, safe="")
        raise web.HTTPSeeOther(target)
    set_session(request, session)
    if request.method in UNSAFE_METHODS:
        form = await request.post()
        given = form.get("csrf_token")
        if not _same_origin(request) or not tokens_match(given if isinstance(given, str) else None, session.csrf_token):
            return error_page(
                request, 403, "Form expired", "This form could not be accepted. Reload the page and try again."
            )
    return await handler(request)


def _set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=config(request).cookie_secure,
        httponly=True,
        samesite="Strict",
    )


async def login_page(request: web.Request) -> web.StreamResponse:
    if await load_session(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_form(request, status=200, message=None)


def _login_form(request: web.Request, *, status: int, message: str | None, username: str = "") -> web.Response:
    # Login CSRF: a double-submit token, since there is no session yet to hold one.
    token = new_token()
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        next=safe_next(request.query.get("next")),
        message=message,
        username=username,
    )
    _set_cookie(response, request, login_cookie(config(request).cookie_secure), token, 3600)
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    settings, throttle, passwords = config(request), request.config_dict[THROTTLE], request.config_dict[PASSWORDS]
    privacy = database(request).privacy
    form = await request.post()
    given = form.get("csrf_token")
    expected = request.cookies.get(login_cookie(settings.cookie_secure), "")
    token_ok = bool(expected) and tokens_match(given if isinstance(given, str) else None, expected)
    if not token_ok or not _same_origin(request):  # the same checks as every other form
        return _login_form(request, status=403, message="The sign-in form expired. Please try again.")
    address = client_address(request)
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    browser = request.cookies.get(browser_cookie(settings.cookie_secure), "")
    # Decided (and counted as a failure) before the password is checked: see `review.throttle`.
    async with unit_of_work(request) as uow:
        reservation = await throttle.reserve(
            uow,
            privacy,
            username=username,
            address=address,
            browser_token=browser if TOKEN_SHAPE.fullmatch(browser) else None,
        )
    if not reservation.allowed:
        log.info("dashboard sign-in from %s delayed for %d s", address, reservation.retry_after)
        response = _login_form(
            request,
            status=429,
            message=f"Too many failed attempts. Try again in {reservation.retry_after} seconds.",
            username=username,
        )
        response.headers["Retry-After"] = str(reservation.retry_after)
        return response
    async with unit_of_work(request) as uow:
        found = await uow.moderators.credentials(username) if username else None
    verified = await passwords.verify_async(found[1] if found else None, password)
    now = utcnow()
    async with unit_of_work(request) as uow:
        moderator = found[0] if found else None
        refusal = None
        if moderator is None:
            refusal = "unknown account"
        elif not moderator.active:
            refusal = "account disabled"
        elif not verified:
            refusal = "wrong password"
        if refusal is not None:
            if reservation.wait > 0:
                refusal += f"; next try from this client in {reservation.retry_after} s"
            uow.audit.append(
                actor=moderator.username if moderator else "(unknown)",
                moderator_id=moderator.id if moderator else None,
                action="login.failed",
                target_type="moderator",
                target_id=moderator.id if moderator else None,
                details={"reason": refusal, "address": address},
            )
            await uow.commit()
            log.info("dashboard sign-in refused from %s: %s", address, refusal)
            return _login_form(request, status=401, message=FAILED_LOGIN, username=username)
        assert moderator is not None and found is not None
        if passwords.needs_rehash(found[1]):
            await uow.moderators.set_password(moderator.id, await passwords.hash_async(password))
        await uow.moderators.record_login(moderator.id, now)
        trusted_browser = await throttle.succeeded(uow, privacy, attempt=reservation.attempt, username=username)
        # A fresh token on every sign-in, and the one presented (if any) is dropped: no session fixation.
        old = request.cookies.get(session_cookie(settings.cookie_secure))
        if old:
            await uow.web_sessions.delete(token_hash(old[:200]))
        await uow.web_sessions.purge_expired(now)  # housekeeping, on an index
        token, lifetime = new_token(), timedelta(hours=settings.session_hours)
        await uow.web_sessions.create(
            token_hash=token_hash(token),
            moderator_id=moderator.id,
            csrf_token=new_token(),
            now=now,
            expires_at=now + lifetime,
        )
        uow.audit.append(
            actor=moderator.username,
            moderator_id=moderator.id,
            action="login",
            target_type="moderator",
            target_id=moderator.id,
            details={"address": address},
        )
        await uow.commit()
    next_value = form.get("next")
    target = safe_next(next_value if isinstance(next_value, str) else None)
    response = see_other(landing(moderator.role) if target == DEFAULT_LANDING else target)
    _set_cookie(response, request, session_cookie(settings.cookie_secure), token, int(lifetime.total_seconds()))
    _set_cookie(
        response,
        request,
        browser_cookie(settings.cookie_secure),
        trusted_browser,
        settings.trusted_browser_days * 24 * 3600,
    )
    response.del_cookie(login_cookie(settings.cookie_secure), path="/")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    session = current_session(request)
    async with unit_of_work(request) as uow:
        await uow.web_sessions.delete(session.token_hash)
        uow.audit.append(
            actor=session.moderator.username,
            moderator_id=session.moderator.id,
            action="logout",
            target_type="moderator",
            target_id=session.moderator.id,
        )
        await uow.commit()
    response = see_other(f"{DASHBOARD_PREFIX}/login?notice=logged_out")
    response.del_cookie(session_cookie(config(request).cookie_secure), path="/")
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page, name="review.login")
    app.router.add_post("/login", login_submit, name="review.login_submit")
    app.router.add_post("/logout", logout, name="review.logout")
