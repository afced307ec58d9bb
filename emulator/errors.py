"""Bot API errors, shaped exactly like Telegram's ``{"ok": false, ...}`` replies."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed Bot API call; ``to_json`` is the body Telegram would send."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Keep the HTTP status, Telegram's description and optional ``parameters``."""
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        """The reply body."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """400 with Telegram's ``Bad Request: ...`` prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def entities_error(detail: str) -> ApiError:
    """400 for text that Telegram cannot parse in the requested parse_mode."""
    return bad_request(f"can't parse entities: {detail}")


def chat_not_found() -> ApiError:
    """400 for a chat the bot has never seen."""
    return bad_request("chat not found")


def unauthorized() -> ApiError:
    """401 for a wrong bot token."""
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    """404 for an unknown method or path."""
    return ApiError(404, "Not Found")


def too_many_requests(retry_after: int) -> ApiError:
    """429 flood-wait with ``parameters.retry_after`` (PTB turns it into ``RetryAfter``)."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def default_description(error_code: int, retry_after: int | None) -> str:
    """The description Telegram uses for an injected error code."""
    if error_code == 429:
        return f"Too Many Requests: retry after {retry_after or 0}"
    return {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(error_code, f"Error {error_code}")
