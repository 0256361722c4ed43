"""Throttle counters on virtual time: fixed windows, doubling backoff, forgetting, and concurrent
attempts that are counted one after another."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import asyncpg

from db import throttles

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
BACKOFF = throttles.Backoff(
    free=2, first_delay=timedelta(seconds=10), max_delay=timedelta(seconds=40), window=timedelta(hours=1)
)


def _s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_hits_are_limited_per_fixed_window(conn: asyncpg.Connection) -> None:
    key = os.urandom(32)
    window = timedelta(minutes=10)
    results = [await throttles.hit(conn, "test", key, limit=3, window=window, now=_s(n)) for n in range(5)]
    assert results == [None, None, None, T0 + window, T0 + window]
    # Another key, and the same key in the next window, start from nothing.
    assert await throttles.hit(conn, "test", os.urandom(32), limit=3, window=window, now=_s(5)) is None
    assert await throttles.hit(conn, "test", key, limit=3, window=window, now=T0 + window) is None


async def test_attempts_past_the_free_ones_wait_a_doubling_delay_up_to_the_cap(conn: asyncpg.Connection) -> None:
    key = os.urandom(32)

    async def attempt(at_s: float) -> datetime | None:
        return await throttles.attempt(conn, "test", key, BACKOFF, now=_s(at_s))

    assert await attempt(0) is None
    assert await attempt(1) is None  # the second free one: the next waits 10 s
    assert await attempt(2) == _s(11)
    assert await attempt(10.9) == _s(11)  # refusals change nothing
    assert await attempt(11) is None  # the next waits 20 s
    assert await attempt(30) == _s(31)
    assert await attempt(31) is None  # 40 s
    assert await attempt(71) is None  # 80 s, capped at 40
    assert await attempt(100) == _s(111)
    assert await attempt(111) is None


async def test_attempts_are_forgotten_a_window_after_the_last_one(conn: asyncpg.Connection) -> None:
    key = os.urandom(32)
    for at_s in (0, 1):
        assert await throttles.attempt(conn, "test", key, BACKOFF, now=_s(at_s)) is None
    later = 1 + BACKOFF.window.total_seconds()
    assert await throttles.attempt(conn, "test", key, BACKOFF, now=_s(later)) is None
    # Counted from one again: the next one is free too.
    assert await throttles.attempt(conn, "test", key, BACKOFF, now=_s(later + 1)) is None
    assert await throttles.attempt(conn, "test", key, BACKOFF, now=_s(later + 2)) is not None


async def test_forget_and_remember(conn: asyncpg.Connection) -> None:
    key = os.urandom(32)
    for at_s in (0, 1):
        await throttles.attempt(conn, "test", key, BACKOFF, now=_s(at_s))
    await throttles.forget(conn, "test", key)
    assert await throttles.attempt(conn, "test", key, BACKOFF, now=_s(2)) is None

    known = os.urandom(32)
    assert not await throttles.remembered(conn, "known", known, now=T0)
    await throttles.remember(conn, "known", known, until=_s(60))
    assert await throttles.remembered(conn, "known", known, now=_s(59))
    assert not await throttles.remembered(conn, "known", known, now=_s(60))


async def test_concurrent_attempts_are_counted_one_after_another(pool: asyncpg.Pool) -> None:
    key = os.urandom(32)
    backoff = throttles.Backoff(
        free=5, first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=1), window=timedelta(hours=1)
    )
    now = datetime.now(UTC)
    try:
        results = await asyncio.gather(*(throttles.attempt(pool, "test", key, backoff, now=now) for _ in range(25)))
        assert results.count(None) == 5
        hits = await asyncio.gather(
            *(throttles.hit(pool, "test-hit", key, limit=5, window=timedelta(hours=1), now=now) for _ in range(25))
        )
        assert hits.count(None) == 5
    finally:
        await pool.execute("DELETE FROM throttles WHERE key = $1", key)


async def test_purge_deletes_only_expired_rows(conn: asyncpg.Connection) -> None:
    old, live = os.urandom(32), os.urandom(32)
    await throttles.remember(conn, "test", old, until=_s(10))
    await throttles.remember(conn, "test", live, until=_s(100))
    assert await throttles.purge_expired(conn, now=_s(50)) >= 1
    keys = {r["key"] for r in await conn.fetch("SELECT key FROM throttles WHERE scope = 'test'")}
    assert live in keys and old not in keys
