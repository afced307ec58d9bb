"""Pseudonyms and encrypted chat ids: a database alone never reveals who a reporter is."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "Privacy"]


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tracebot/v1", info=purpose).derive(secret)


class Privacy:
    """Derives independent keys from the one operator secret (HKDF), one per purpose."""

    def __init__(self, secret_key: str) -> None:
        secret = secret_key.encode()
        self._pseudonym_key = _derive(secret, b"reporter-pseudonym")
        self._search_key = _derive(secret, b"search-audit")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"chat-id-encryption")))
        self._login_key = _derive(secret, b"login-throttle")

    def pseudonym(self, telegram_user_id: int) -> str:
        """Keyed HMAC of the Telegram user id: stable per user, irreversible without the key."""
        return hmac.digest(self._pseudonym_key, str(telegram_user_id).encode(), "sha256").hex()  # one C call

    def search_digest(self, normalised_query: str) -> str:
        """Keyed HMAC of a normalised search query, for the audit trail.

        The same query gives the same digest; without the key nobody can test guesses (a query may
        be a phone number, which a plain hash of so few digits would give away).
        """
        return hmac.new(self._search_key, normalised_query.encode(), hashlib.sha256).hexdigest()

    def login_key(self, *parts: str) -> str:
        """Keyed HMAC naming a sign-in throttle counter (account, address, browser) without storing them."""
        return hmac.new(self._login_key, json.dumps(parts).encode(), hashlib.sha256).hexdigest()

    def encrypt_chat_id(self, chat_id: int) -> str:
        return self._fernet.encrypt(str(chat_id).encode()).decode()

    def decrypt_chat_id(self, token: str) -> int:
        """Raises `InvalidToken` when the key changed or the value was tampered with."""
        return int(self._fernet.decrypt(token.encode()))
