"""Expected failures of `tracebot` commands as one line for the operator, never a traceback.

`explain()` recognises what goes wrong on an operator's machine (a setting, a file, the database,
the Bot API, a busy port) and says it in one line without secrets (passwords, tokens) or SQL; an
exception it does not recognise is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.settings import SettingsError, load_storage_settings
from translations.packages import PackageError


class CommandError(Exception):
    """A command cannot do what was asked; the message is the one line to print."""


# Exit statuses: 2 for settings (as before), 1 for everything else that is expected.
SETTINGS_EXIT = 2
FAILURE_EXIT = 1


def safe_database_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is shown as a placeholder
        return "DATABASE_URL"


def first_line(error: object) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def _configured_database() -> str:
    try:
        return safe_database_url(load_storage_settings().database_url)
    except SettingsError:
        return "DATABASE_URL"


def explain(exc: BaseException) -> str | None:
    """One line for an expected failure, or None for an unexpected one (a bug)."""
    # Imported here: the command line starts faster without the bot's stack (and this runs once).
    from alembic.util import CommandError as AlembicCommandError
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.catalog import CatalogError

    if isinstance(exc, (SettingsError, CommandError, CatalogError, PackageError)):
        return str(exc)
    if isinstance(exc, DBAPIError):
        # Only the driver's own message: the statement and its parameters stay out of it.
        return f"database {_configured_database()}: {first_line(exc.orig)}"
    if isinstance(exc, sqlite3.Error):
        return f"database {_configured_database()}: {first_line(exc)}"
    if isinstance(exc, AlembicCommandError):
        return f"migrations: {first_line(exc)}"
    if isinstance(exc, SQLAlchemyError):
        return f"database {_configured_database()}: {first_line(exc).split(' [SQL:', 1)[0]}"
    if isinstance(exc, InvalidToken):
        return "the Bot API rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)"
    if isinstance(exc, NetworkError):
        return f"the Bot API (TELEGRAM_API_URL) is unreachable: {first_line(exc.message)}"
    if isinstance(exc, TelegramError):
        return f"the Bot API refused: {first_line(exc.message)}"
    if isinstance(exc, TimeoutError):  # before OSError, of which it is a subclass
        return "timed out waiting for the database or a server"
    if isinstance(exc, OSError):
        return _explain_os_error(exc)
    if isinstance(exc, EOFError):
        return "no answer on standard input; nothing was changed"
    if isinstance(exc, ValueError):
        return str(exc)
    return None


def _explain_os_error(exc: OSError) -> str:
    if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
        return f"cannot start the web server: {first_line(exc)} (is another instance or the demo running?)"
    if exc.filename is not None:
        return f"{exc.strerror or first_line(exc)}: {exc.filename}"
    # Other socket errors come from opening the database: the Bot API's are wrapped by PTB,
    # the package index's by the installer.
    return f"cannot connect to the database {_configured_database()}: {exc.strerror or first_line(exc)}"
