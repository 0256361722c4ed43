"""Retention: deletes sessions kept past the time their candidate chose, expired sign-ins and
throttle counters that count for nothing any more."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from fastapi import FastAPI

from api.deps import RoomCloser
from db import accounts, audit
from db import sessions as repo
from db import throttles

logger = logging.getLogger(__name__)

END_REASON_RETENTION = "retention_expired"


@dataclass(frozen=True, slots=True)
class SweepResult:
    """How much one sweep deleted."""

    sessions: int
    tokens: int
    throttles: int


async def sweep(
    pool: asyncpg.Pool, rooms: RoomCloser | None = None, *, now: datetime | None = None
) -> SweepResult:
    """Deletes sessions past retain_until (everything under them goes by cascade, PDF exports
    included), expired sign-in tokens and expired throttle counters; closes the room of any
    deleted session still open."""
    now = now or datetime.now(UTC)
    purged = await repo.purge_expired_sessions(pool, now=now)
    for session in purged:
        await audit.record(
            pool,
            action="session_deleted",
            actor_id=None,
            subject_user_id=session.user_id,
            session_id=session.id,
            detail={"reason": "retention"},
        )
    if rooms is not None:
        for session in purged:
            if session.status in repo.OPEN_STATUSES:
                try:
                    await rooms.close_room(str(session.id), END_REASON_RETENTION)
                except Exception:
                    logger.exception("closing room failed", extra={"session_id": str(session.id)})
    tokens = await accounts.purge_expired_tokens(pool, now=now)
    counters = await throttles.purge_expired(pool, now=now)
    if purged or tokens or counters:
        logger.info(
            "retention sweep",
            extra={"sessions_deleted": len(purged), "tokens_deleted": tokens, "throttles_deleted": counters},
        )
    return SweepResult(sessions=len(purged), tokens=tokens, throttles=counters)


async def _sweep_every(app: FastAPI, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await sweep(app.state.pool, getattr(app.state, "rooms", None))
        except Exception:  # a database hiccup: the next sweep tries again
            logger.exception("retention sweep failed")


@asynccontextmanager
async def retention_sweeps(app: FastAPI, interval_s: float) -> AsyncIterator[None]:
    """Sweeps once now, then every interval_s in a task that is cancelled when the block ends."""
    await sweep(app.state.pool)
    task = asyncio.create_task(_sweep_every(app, interval_s), name="retention-sweeps")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait({task})
