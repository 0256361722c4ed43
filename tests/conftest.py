"""Shared fixtures: a throwaway PostgreSQL database per test run, a pool, and the API app."""

from __future__ import annotations

import os

# Before anything imports ONNX Runtime: it phones home otherwise.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from db.embedded import EmbeddedPostgres
from db.migrate import apply_migrations
from db.pool import create_pool
from greenroom.settings import Settings
from tests.users import TEST_PASSWORD, new_email

def _redacted(url: str) -> str:
    """The URL without its password, fit for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def base_database_url() -> Iterator[str]:
    """The server the tests may create databases on: GREENROOM_TEST_DATABASE_URL when set,
    otherwise an embedded PostgreSQL (pgserver) started for this run and deleted after it."""
    configured = os.environ.get("GREENROOM_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    # A short path: the server's Unix socket lives in it, and socket paths are capped at 107 bytes.
    with tempfile.TemporaryDirectory(prefix="greenroom-test-pg-") as data_dir:
        embedded = EmbeddedPostgres(Path(data_dir))
        try:
            yield embedded.start()
        finally:
            embedded.stop()


@pytest.fixture(scope="session")
async def make_database(base_database_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Creates empty, uniquely named databases on demand; drops them all at the end of the run."""
    try:
        admin = await asyncpg.connect(base_database_url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.fail(
            f"PostgreSQL not reachable at {_redacted(base_database_url)} ({type(exc).__name__}); "
            "unset GREENROOM_TEST_DATABASE_URL to let the tests start an embedded one, or point "
            "it at a server you may create databases on.",
            pytrace=False,
        )
    created: list[str] = []

    async def make() -> str:
        name = f"greenroom_test_{secrets.token_hex(6)}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _with_database(base_database_url, name)

    try:
        yield make
    finally:
        for name in created:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def database_url(make_database: Callable[[], Awaitable[str]]) -> str:
    """A fresh database for this test run, with every migration applied."""
    url = await make_database()
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()
    return url


@pytest.fixture
async def empty_database_url(make_database: Callable[[], Awaitable[str]]) -> str:
    """A fresh database with nothing in it, for tests of the migrations themselves."""
    return await make_database()


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the run's migrated database."""
    pool = await create_pool(database_url, min_size=1, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            yield conn
        finally:
            await tx.rollback()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the run's database and a temporary data directory."""
    return Settings(database_url=database_url, data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture
async def app(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[FastAPI]:
    """The API app with its lifespan running, starting from an empty database."""
    await pool.execute("TRUNCATE users, interview_templates, throttles CASCADE")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def anonymous_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client driving the app in process, not signed in."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://greenroom.test") as client:
        yield client


@pytest.fixture
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client driving the app in process, signed in to a fresh account (the cookie is
    in its jar)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://greenroom.test") as client:
        response = await client.post(
            "/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD}
        )
        assert response.status_code == 201, response.text
        yield client


@pytest.fixture
async def user_id(app_client: httpx.AsyncClient) -> UUID:
    """The id of the account app_client is signed in to."""
    response = await app_client.get("/v1/auth/me")
    assert response.status_code == 200, response.text
    return UUID(response.json()["user"]["id"])
