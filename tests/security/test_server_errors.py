"""Server errors: the probe saw every 500 write two tracebacks (~12 KB) to the log, and the API
answer 500 rather than 503 while PostgreSQL was down."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from api.app import create_app
from db.embedded import EmbeddedPostgres
from greenroom.settings import Settings
from tests.security.conftest import LiveServer
from tests.users import TEST_PASSWORD, new_email

PRIVATE = "sam@example.test told us about their divorce"


async def test_a_500_logs_one_line_with_the_request_id_and_nothing_private(
    settings: Settings, live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    router = APIRouter()

    @router.get("/v1/test-only/fail")
    async def fail() -> None:
        raise RuntimeError(PRIVATE)

    caplog.set_level(logging.INFO)
    app = create_app(settings, extra_routers=[router])
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as client:
        caplog.clear()
        response = await client.get("/v1/test-only/fail", headers={"X-Request-ID": "probe-42"})
        generated = await client.get("/v1/test-only/fail")

    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error", "request_id": "probe-42"}
    assert response.headers["x-request-id"] == "probe-42"
    new_id = generated.headers["x-request-id"]
    assert len(new_id) == 32 and generated.json()["request_id"] == new_id

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"unhandled error, answered 500: request_id={rid} GET /v1/test-only/fail: "
        f"RuntimeError at tests/security/test_server_errors.py:{fail.__code__.co_firstlineno + 2} in fail"
        for rid in ("probe-42", new_id)
    ]
    assert all(r.exc_info is None for r in errors)
    assert "divorce" not in caplog.text and "Traceback" not in caplog.text


async def test_the_api_answers_503_while_the_database_is_away_then_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A server of its own to stop; a short path, since its Unix socket lives in it.
    with tempfile.TemporaryDirectory(prefix="greenroom-outage-") as pg_dir:
        postgres = EmbeddedPostgres(Path(pg_dir))
        url = postgres.start()
        try:
            app = create_app(Settings(database_url=url, data_dir=tmp_path / "data", _env_file=None))
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://greenroom.test") as client,
            ):
                signed_up = await client.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})
                assert signed_up.status_code == 201, signed_up.text
                assert (await client.get("/v1/auth/me")).status_code == 200

                await asyncio.to_thread(postgres.stop)
                caplog.clear()
                # The pooled connection the server dropped, then new connections it refuses.
                for _ in range(3):
                    away = await client.get("/v1/auth/me")
                    assert away.status_code == 503, away.text
                    assert away.headers["retry-after"] == "2"
                    assert away.json()["detail"] == "database unavailable, retry shortly"
                    assert away.json()["request_id"] == away.headers["x-request-id"]
                logged = [r for r in caplog.records if r.name == "api.errors"]
                assert len(logged) == 3 and all(r.levelno == logging.WARNING and r.exc_info is None for r in logged)

                assert await asyncio.to_thread(postgres.start) == url
                deadline = time.monotonic() + 10
                while (back := await client.get("/v1/auth/me")).status_code != 200:
                    assert back.status_code == 503 and time.monotonic() < deadline, back.text
                    await asyncio.sleep(0.2)
        finally:
            postgres.stop()
