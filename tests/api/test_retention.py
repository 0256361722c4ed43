"""Retention: sessions past the time their candidate chose are deleted with everything under
them, at startup and then periodically; expired sign-ins go too."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
from fastapi import FastAPI

from api.app import create_app
from api.retention import sweep
from db import accounts
from greenroom.settings import Settings
from scoring.offline import OfflineEvaluator
from tests.api.full_session import fill_session, session_rows
from tests.users import PLAIN_SESSION, make_user



@dataclass
class FakeRooms:
    closed: list[tuple[str, str]] = field(default_factory=list)

    async def close_room(self, session_id: str, reason: str, *, wait: bool = True) -> None:
        self.closed.append((session_id, reason))


async def _keep_for(pool: asyncpg.Pool, session_id: UUID, days: int) -> None:
    await pool.execute(
        "UPDATE sessions SET retention_days = $2, retain_until = created_at + make_interval(days => $2) WHERE id = $1",
        session_id,
        days,
    )


async def test_sweep_deletes_expired_sessions_and_all_their_rows(
    app: FastAPI, app_client: httpx.AsyncClient, pool: asyncpg.Pool, user_id: UUID
) -> None:
    app.state.evaluator = OfflineEvaluator()
    week = await fill_session(app_client, pool, user_id)
    await _keep_for(pool, week, 7)
    quarter = await fill_session(app_client, pool, user_id)
    await _keep_for(pool, quarter, 90)
    forever = await fill_session(app_client, pool, user_id)
    created = await app_client.post("/v1/sessions", json={**PLAIN_SESSION, "retention_days": 7})
    scheduled_week = UUID(created.json()["session"]["id"])

    before = await session_rows(pool, week)
    assert len(before) >= 10 and all(before.values()), before

    # Six days on, nothing is due.
    assert (await sweep(pool, now=datetime.now(UTC) + timedelta(days=6))).sessions == 0
    assert await session_rows(pool, week) == before

    result = await sweep(pool, now=datetime.now(UTC) + timedelta(days=8))
    assert result.sessions == 2
    for sid in (week, scheduled_week):
        assert await pool.fetchval("SELECT count(*) FROM sessions WHERE id = $1", sid) == 0
        assert set((await session_rows(pool, sid)).values()) == {0}
    for sid in (quarter, forever):
        assert all((await session_rows(pool, sid)).values())
    assert (await app_client.get(f"/v1/sessions/{week}")).status_code == 404
    assert {s["id"] for s in (await app_client.get("/v1/sessions")).json()} == {str(quarter), str(forever)}


async def test_sweep_closes_rooms_of_open_sessions_it_deletes(
    app_client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    open_id = (await app_client.post("/v1/sessions", json={**PLAIN_SESSION, "retention_days": 7})).json()["session"]["id"]
    ended_id = (await app_client.post("/v1/sessions", json={**PLAIN_SESSION, "retention_days": 7})).json()["session"]["id"]
    await app_client.post(f"/v1/sessions/{ended_id}/end")
    rooms = FakeRooms()
    await sweep(pool, rooms, now=datetime.now(UTC) + timedelta(days=8))
    assert rooms.closed == [(open_id, "retention_expired")]


async def test_sweep_purges_expired_sign_ins(pool: asyncpg.Pool) -> None:
    user_id = await make_user(pool)
    now = datetime.now(UTC)
    short = await accounts.create_token(pool, user_id, timedelta(hours=1), now=now)
    long = await accounts.create_token(pool, user_id, timedelta(days=30), now=now)
    result = await sweep(pool, now=now + timedelta(hours=2))
    assert result.tokens >= 1
    assert await pool.fetchval("SELECT count(*) FROM auth_sessions WHERE user_id = $1", user_id) == 1
    assert await accounts.user_for_token(pool, long) == user_id
    assert await accounts.user_for_token(pool, short, now=now) is None
    await accounts.delete_user(pool, user_id)


async def _expired_session(pool: asyncpg.Pool) -> tuple[UUID, UUID]:
    """A session past its retention, with a question; written in one transaction, so that a
    sweep running meanwhile finds both rows or neither (it once deleted the session between them)."""
    user_id = await make_user(pool)
    async with pool.acquire() as conn, conn.transaction():
        sid = await conn.fetchval(
            """
            INSERT INTO sessions (user_id, role_track, round_type, difficulty, duration_min, persona,
                                  created_at, retention_days, retain_until)
            VALUES ($1, 'general', 'behavioral', 'easy', 10, 'alex',
                    now() - interval '8 days', 7, now() - interval '1 day')
            RETURNING id
            """,
            user_id,
        )
        await conn.execute(
            "INSERT INTO questions (session_id, seq, text, source, persona) VALUES ($1, 1, 'Why?', 'bank', 'alex')", sid
        )
    return user_id, sid


async def test_the_app_sweeps_at_startup(settings: Settings, pool: asyncpg.Pool) -> None:
    user_id, sid = await _expired_session(pool)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert await pool.fetchval("SELECT count(*) FROM sessions WHERE id = $1", sid) == 0
        assert await pool.fetchval("SELECT count(*) FROM questions WHERE session_id = $1", sid) == 0
    await accounts.delete_user(pool, user_id)


async def test_the_app_sweeps_periodically_and_stops_at_shutdown(settings: Settings, pool: asyncpg.Pool) -> None:
    app = create_app(settings.model_copy(update={"retention_sweep_s": 0.05}))
    async with app.router.lifespan_context(app):
        user_id, sid = await _expired_session(pool)
        async with asyncio.timeout(5):
            while await pool.fetchval("SELECT count(*) FROM sessions WHERE id = $1", sid):
                await asyncio.sleep(0.02)
        assert await pool.fetchval("SELECT count(*) FROM questions WHERE session_id = $1", sid) == 0
        tasks = {t.get_name() for t in asyncio.all_tasks()}
        assert "retention-sweeps" in tasks
    await asyncio.sleep(0)
    assert "retention-sweeps" not in {t.get_name() for t in asyncio.all_tasks()}
    await accounts.delete_user(pool, user_id)
