"""Security primitives: tokens, password hashing, safe redirects, response headers, CSV cells."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
from urllib.parse import urlsplit

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

DASHBOARD_PREFIX = "/review"
API_PREFIX = "/api"
DEFAULT_LANDING = "/review/tips"
MIN_PASSWORD_LENGTH = 12

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# Spreadsheets run a cell as a formula when it starts with one of these.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps instead of a session or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Passwords:
    """argon2id hashing, run off the event loop (it is deliberately slow)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 64 * 1024) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verified against when the account does not exist, so timing does not reveal which names
        # exist. Made on first need, or by `prepare` in a worker thread once the server is up: one
        # hash is 70 ms of CPU, a fifth of a start, and the CLI's `moderator add` never needs it.
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def dummy(self) -> str:
        """The hash that a sign-in for a name nobody has is verified against (blocking: made once)."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(new_token())
            return self._dummy

    async def prepare(self) -> None:
        """Make the dummy hash off the event loop, so that the first sign-in with an unknown name
        costs what every later one does."""
        await asyncio.to_thread(self.dummy)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self.dummy(), password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self.verify, password_hash, password)

    async def hash_async(self, password: str) -> str:
        return await asyncio.to_thread(self.hash, password)


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "must be at most 1024 characters"
    return None


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path inside the dashboard, never another site."""
    if not target or len(target) > 2000 or any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in target):
        return DEFAULT_LANDING
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(DASHBOARD_PREFIX + "/") or target.startswith("//"):
        return DEFAULT_LANDING
    if parts.path.rstrip("/") in (f"{DASHBOARD_PREFIX}/login", f"{DASHBOARD_PREFIX}/logout"):
        return DEFAULT_LANDING
    return target


def is_dashboard_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in (DASHBOARD_PREFIX, API_PREFIX))


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: every dashboard and API response, errors and files included."""
    if not is_dashboard_path(request.path):
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(f"{DASHBOARD_PREFIX}/static/"):
        # Tips are sensitive: keep them out of shared and back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")


def neutralise_cell(value: str) -> str:
    """Prefix a quote to text a spreadsheet would otherwise evaluate as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
