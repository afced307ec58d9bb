"""LOG_FORMAT=json: one JSON object a line with level, logger and update id; never message text or Telegram ids."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import configure_logging, update_context
from emulator import BotApiEmulator
from tests.support.flows import opt_in, send_tip
from tests.support.harness import make_settings, running_bot

SECRET_TEXT = "Zorglub-Markt in Quedlinburg, Stand 17"
USER_ID = 873_451_902


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes the root logger and a few library loggers: put them back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


def configure(level: str, fmt: str = "text") -> io.StringIO:
    """configure_logging, with its stderr handler writing to a buffer instead (pytest owns sys.stderr)."""
    configure_logging(level, fmt)
    (handler,) = logging.getLogger().handlers
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_update_id() -> None:
    stderr = configure("INFO", "json")
    log = logging.getLogger("tracebot.test")
    log.info("before any update")
    with update_context(4711):
        log.warning("inside update %s", 4711)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")

    first, inside, failed = records(stderr)
    assert first["level"] == "INFO" and first["logger"] == "tracebot.test" and "update_id" not in first
    assert inside["level"] == "WARNING" and inside["update_id"] == 4711 and inside["message"] == "inside update 4711"
    # The traceback names the class and where it was raised, never the message (it may quote a tip).
    assert "RuntimeError (message withheld)" in str(failed["exception"])
    assert 'raise RuntimeError("boom")' in str(failed["exception"])
    assert "RuntimeError: boom" not in str(failed["exception"])
    assert set(first) == {"time", "level", "logger", "message"}


@pytest.mark.usefixtures("restore_logging")
def test_text_stays_the_default_and_readable() -> None:
    stderr = configure("INFO")
    with update_context(12):
        logging.getLogger("tracebot.test").info("hello")
    line = stderr.getvalue().strip()
    assert line.endswith("INFO    tracebot.test [update 12]: hello")
    assert not line.startswith("{")


@pytest.mark.usefixtures("restore_logging")
async def test_a_whole_tip_logged_as_json_shows_no_text_or_ids(
    database_url: str, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    stderr = configure("DEBUG", "json")  # the most talkative level an operator can choose
    settings = make_settings(database_url, emulator, tmp_path / "media")
    async with running_bot(settings, catalog_dir=tmp_path / "catalog"):
        user = await opt_in(emulator, USER_ID)
        await send_tip(user, SECRET_TEXT)
        # A reporter who blocked the bot: the error handler logs it, inside the update.
        emulator.fail_next("sendMessage", error_code=403, retry_after=None, description="Forbidden: bot was blocked")
        await user.send_command("help")
        for _ in range(100):
            if "chat_gone" in stderr.getvalue():
                break
            await asyncio.sleep(0.05)

    output = stderr.getvalue()
    lines = records(stderr)  # every line is one JSON object
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    blocked = [line for line in lines if "chat_gone" in str(line["message"])]
    assert len(blocked) == 1 and isinstance(blocked[0]["update_id"], int)
    for secret in (SECRET_TEXT, "Quedlinburg", str(USER_ID), "Ana"):
        assert secret not in output, f"{secret!r} reached the logs"
