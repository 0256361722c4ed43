"""The embedded PostgreSQL starts quickly in the data directory and holds a session."""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg
import pytest

from db import sessions as repo
from db.embedded import EmbeddedPostgres
from db.migrate import apply_migrations
from db.pool import create_pool
from tests.users import make_user


async def test_embedded_postgres_runs_migrations_and_keeps_a_session(tmp_path: Path) -> None:
    embedded = EmbeddedPostgres(tmp_path / "data")
    began = time.monotonic()
    url = embedded.start()
    start_s = time.monotonic() - began
    try:
        assert (tmp_path / "data" / "pg" / "PG_VERSION").exists()
        assert start_s < 30, f"embedded PostgreSQL took {start_s:.1f}s to start"
        pool = await create_pool(url, max_size=2)
        try:
            async with pool.acquire() as conn:
                assert await apply_migrations(conn)
            user_id = await make_user(pool)
            created = await repo.create_session(
                pool,
                user_id=user_id,
                role_track="general",
                round_type="behavioral",
                difficulty="easy",
                duration_min=10,
                persona="alex",
            )
            assert await repo.get_session(pool, created.id) == created
        finally:
            await pool.close()
    finally:
        embedded.stop()

    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(url, timeout=2)

    # A restart on the same data directory finds the data again.
    with EmbeddedPostgres(tmp_path / "data") as again:
        conn = await asyncpg.connect(again.url)
        try:
            assert await apply_migrations(conn) == []
            assert await conn.fetchval("SELECT count(*) FROM sessions WHERE id = $1", created.id) == 1
        finally:
            await conn.close()
