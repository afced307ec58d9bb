"""Text the database cannot hold (U+0000, lone surrogates) and bodies that do not decode are refused with a
400 at the dashboard's and the API's edge, never a 500 from inside a query."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from review.security import token_hash
from review.text_guard import storable
from storage.uow import Database
from tests.review.support import PASSWORD, Seeded, csrf_of, page_csrf

API_TOKEN = "tbt_text-guard-test-token"


def assert_refused_cleanly(status: int, body: str, caplog: pytest.LogCaptureFixture) -> None:
    assert status == 400, body[:500]
    assert "Traceback" not in body and "internal error" not in body
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_storable() -> None:
    assert storable("plain text, ünïcödé and emoji 🙂")
    assert not storable("a\x00b")
    assert not storable("lone \ud83d surrogate")
    assert not storable("\udfff")


@pytest.mark.parametrize("username", ["ali\x00ce", "\x00"])
async def test_sign_in_with_unstorable_text_is_a_400(
    client: TestClient[Any, Any], seeded: Seeded, username: str, caplog: pytest.LogCaptureFixture
) -> None:
    page = await client.get("/review/login")
    token = csrf_of(await page.text())
    form = {"csrf_token": token, "username": username, "password": PASSWORD}
    response = await client.post("/review/login", data=form, allow_redirects=False)
    body = await response.text()
    assert_refused_cleanly(response.status, body, caplog)
    assert "<html" in body.lower(), "the dashboard's error page"
    assert "tracebot-session" not in {cookie.key for cookie in client.session.cookie_jar}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=alice&password=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"username=alice", "application/x-www-form-urlencoded; charset=no-such-charset"),
        (b"username=%2BAG-+2D0-", "application/x-www-form-urlencoded; charset=utf-7"),  # a lone surrogate
        (
            b'--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nal\xffice\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
    ],
)
async def test_forms_that_do_not_decode_are_a_400(
    client: TestClient[Any, Any], seeded: Seeded, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/review/login", data=body, headers={"Content-Type": content_type})
    assert_refused_cleanly(response.status, await response.text(), caplog)


@pytest.mark.parametrize(
    "path",
    [
        "/review/audit?actor=%00",
        "/review/audit?action=login%00",
        "/review/audit?act%00or=x",
        "/review/tips?q=%00",
        "/review/tips?q=%ED%A0%80",  # percent-encoded surrogate: decoded to U+FFFD, which is fine
        "/review/stats?country=%00",
    ],
)
async def test_query_strings_with_a_nul_are_a_400(
    admin: TestClient[Any, Any], path: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await admin.get(path)
    body = await response.text()
    if "%ED" in path:
        assert response.status == 200
        return
    assert_refused_cleanly(response.status, body, caplog)


async def test_posted_forms_with_a_nul_are_a_400(
    admin: TestClient[Any, Any], seeded: Seeded, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    tip = seeded.tips[0]
    token = await page_csrf(admin, f"/review/tips/{tip}")
    response = await admin.post(f"/review/tips/{tip}/notes", data={"csrf_token": token, "text": "a\x00b"})
    assert_refused_cleanly(response.status, await response.text(), caplog)
    async with database.unit_of_work() as uow:
        assert await uow.review.notes(tip) == []


async def test_api_query_strings_with_a_nul_are_a_json_400(
    client: TestClient[Any, Any], seeded: Seeded, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with database.unit_of_work() as uow:
        await uow.api_tokens.create("integration", token_hash(API_TOKEN))
        await uow.commit()
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    for path in ("/api/tips?q=%00", "/api/tips?country=%00", "/api/stats?language=x%00", "/api/objects?x%00=1"):
        response = await client.get(path, headers=auth)
        assert_refused_cleanly(response.status, await response.text(), caplog)
        assert "error" in await response.json()
    # A stranger still learns nothing but that a token is needed.
    assert (await client.get("/api/tips?q=%00")).status == 401
