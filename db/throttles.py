"""Throttle counters: hits per (scope, key), kept in PostgreSQL so that every process sees them.

Keys are hashes made by the caller; nothing here sees an email or an address. Each call locks its
row from read to write, so concurrent hits on one key are counted one after another, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from db.pool import Db, transaction

# 2 ** this is the largest backoff multiplier, so that a long run of attempts cannot overflow.
_MAX_DOUBLINGS = 30


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long attempts on one key must wait: the first `free` pass at once; after that each one
    waits a delay that doubles from `first_delay` up to `max_delay`. The count is forgotten
    `window` after the last admitted attempt (or the end of its delay, if later)."""

    free: int
    first_delay: timedelta
    max_delay: timedelta
    window: timedelta

    def delay_after(self, hits: int) -> timedelta | None:
        """The wait the hits-th admitted attempt imposes on the next one; None when it may follow at once."""
        if hits < self.free:
            return None
        return min(self.max_delay, self.first_delay * 2 ** min(hits - self.free, _MAX_DOUBLINGS))


async def hit(
    db: Db, scope: str, key: bytes, *, limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """Counts one hit in a fixed window that opens with the first hit; None when the window holds
    at most `limit` hits, else the time it closes. Hits beyond the limit are counted too."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            """
            INSERT INTO throttles AS t (scope, key, hits, expires_at)
            VALUES ($1, $2, 1, $3::timestamptz + $4::interval)
            ON CONFLICT (scope, key) DO UPDATE SET
                hits = CASE WHEN t.expires_at <= $3 THEN 1 ELSE t.hits + 1 END,
                expires_at = CASE WHEN t.expires_at <= $3 THEN excluded.expires_at ELSE t.expires_at END
            RETURNING hits, expires_at
            """,
            scope,
            key,
            now,
            window,
        )
    return None if row["hits"] <= limit else row["expires_at"]


async def attempt(db: Db, scope: str, key: bytes, backoff: Backoff, *, now: datetime) -> datetime | None:
    """Records one attempt unless the key must still wait: None when it is admitted (and counted),
    else the time from which the next may be. A refused attempt changes nothing."""
    async with transaction(db) as conn:
        # Creates the row or locks the existing one; a new row reads as expired, so it starts at 1.
        row = await conn.fetchrow(
            """
            INSERT INTO throttles AS t (scope, key, hits, expires_at) VALUES ($1, $2, 0, $3)
            ON CONFLICT (scope, key) DO UPDATE SET hits = t.hits
            RETURNING hits, blocked_until, expires_at
            """,
            scope,
            key,
            now,
        )
        expired = row["expires_at"] <= now
        if not expired and row["blocked_until"] is not None and row["blocked_until"] > now:
            return row["blocked_until"]
        hits = 1 if expired else row["hits"] + 1
        delay = backoff.delay_after(hits)
        blocked_until = None if delay is None else now + delay
        await conn.execute(
            """
            UPDATE throttles SET hits = $3, blocked_until = $4, expires_at = $5
            WHERE scope = $1 AND key = $2
            """,
            scope,
            key,
            hits,
            blocked_until,
            max(now + backoff.window, blocked_until or now),
        )
    return None


async def forget(db: Db, scope: str, key: bytes) -> None:
    """Deletes the count of one key."""
    async with transaction(db) as conn:
        await conn.execute("DELETE FROM throttles WHERE scope = $1 AND key = $2", scope, key)


async def remember(db: Db, scope: str, key: bytes, *, until: datetime) -> None:
    """Marks a key as seen until the given time (a row with no hits)."""
    async with transaction(db) as conn:
        await conn.execute(
            """
            INSERT INTO throttles (scope, key, expires_at) VALUES ($1, $2, $3)
            ON CONFLICT (scope, key) DO UPDATE
            SET expires_at = greatest(throttles.expires_at, excluded.expires_at)
            """,
            scope,
            key,
            until,
        )


async def remembered(db: Db, scope: str, key: bytes, *, now: datetime) -> bool:
    """Whether a key was remembered and has not expired."""
    return bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM throttles WHERE scope = $1 AND key = $2 AND expires_at > $3)",
            scope,
            key,
            now,
        )
    )


async def purge_expired(db: Db, *, now: datetime) -> int:
    """Deletes the rows that count for nothing any more; returns how many."""
    async with transaction(db) as conn:
        result = await conn.execute("DELETE FROM throttles WHERE expires_at <= $1", now)
    return int(result.split()[-1])
