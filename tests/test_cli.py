"""The `tracebot` command line: catalog import, deep links, database commands, the demo."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from bot.demo import create_demo_app
from bot.demo_catalog import write_demo_catalog
from tests.support.cli import tracebot


def test_objects_import_is_idempotent_and_validates(tmp_path: Path) -> None:
    catalog = write_demo_catalog(tmp_path / "catalog")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "MEDIA_DIR": str(tmp_path / "media")}
    first = tracebot("objects", "import", str(catalog), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "5 new, 0 updated, 0 unchanged objects; 1 campaigns" in first.stdout
    again = tracebot("objects", "import", str(catalog), cwd=tmp_path, env=env)
    assert "0 new, 0 updated, 5 unchanged" in again.stdout
    assert len(list((tmp_path / "media").iterdir())) == 5

    toml = (catalog / "catalog.toml").read_text().replace("mug.png", "../outside.png", 1)
    (catalog / "catalog.toml").write_text(toml)
    broken = tracebot("objects", "import", str(catalog), cwd=tmp_path, env=env)
    assert broken.returncode == 1
    assert "not found inside the folder" in broken.stderr and broken.stderr.count("\n") == 1


def test_link_prints_deep_link_and_writes_qr(tmp_path: Path) -> None:
    result = tracebot("link", "--bot", "TraceBot", "--campaign", "spring26", "--object", "TAO-0001",
                      "--qr", str(tmp_path / "qr.png"), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "https://t.me/TraceBot?start=c-spring26_o-TAO-0001"
    assert (tmp_path / "qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tagged = tracebot("link", "--bot", "TraceBot", "--campaign", "spring26", "--channel", "x",
                      "--qr", str(tmp_path / "qr.svg"), cwd=tmp_path)  # fmt: skip
    assert tagged.stdout.splitlines()[0] == "https://t.me/TraceBot?start=c-spring26_s-x"
    assert ">https://t.me/TraceBot?start=c-spring26_s-x</text>" in (tmp_path / "qr.svg").read_text()
    too_long = tracebot("link", "--bot", "TraceBot", "--campaign", "c" * 32, "--object", "TAO-12345678",
                        "--channel", "a" * 16, cwd=tmp_path)  # fmt: skip
    assert too_long.returncode == 1 and "Telegram allows 64" in too_long.stderr


def test_db_upgrade_and_downgrade(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'db.sqlite'}"}
    upgraded = tracebot("db", "upgrade", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    revision = upgraded.stdout.split("revision ")[1].split(" ")[0]
    assert revision != "base" and f"(head: {revision})" in upgraded.stdout
    down = tracebot("db", "downgrade", "base", cwd=tmp_path, env=env)
    assert "revision base" in down.stdout


async def test_demo_serves_chat_dashboard_and_health(tmp_path: Path, unused_tcp_port_factory: object) -> None:
    ports = [unused_tcp_port_factory() for _ in range(2)]  # type: ignore[operator]
    app = create_demo_app(tmp_path / "demo", "127.0.0.1", ports[0], ports[1])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", ports[0]).start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{ports[0]}/healthz") as response:
                assert response.status == 200 and (await response.json())["status"] == "ok"
            async with session.get(f"http://127.0.0.1:{ports[1]}/chat?start=c-demo") as response:
                assert response.status == 200 and "<html" in (await response.text()).lower()
            async with session.get(f"http://127.0.0.1:{ports[0]}/review/", allow_redirects=False) as response:
                assert response.status in (302, 303) and "/review/login" in response.headers["Location"]
    finally:
        await runner.cleanup()
