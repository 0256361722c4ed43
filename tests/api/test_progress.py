"""The practice streak on the progress page: consecutive UTC days with a completed session."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.progress import practice_streak
from db import sessions as repo
from scoring.offline import OfflineEvaluator

D = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("days", "streak"),
    [
        ([], 0),
        ([D], 1),
        ([D - timedelta(days=1)], 1),  # today not practised yet: the streak still stands
        ([D - timedelta(days=2)], 0),
        ([D, D - timedelta(days=1), D - timedelta(days=2), D - timedelta(days=4)], 3),
        ([D - timedelta(days=1), D - timedelta(days=2), D - timedelta(days=3)], 3),
        ([D + timedelta(days=1), D], 1),  # a day after "today" does not count
        ([D - timedelta(days=n) for n in range(400)], 400),
    ],
)
def test_practice_streak(days: list[date], streak: int) -> None:
    assert practice_streak(days, D) == streak
    assert practice_streak(reversed(days), D) == streak


async def _session_on(pool: asyncpg.Pool, user_id: UUID, day: date, status: str = "completed") -> None:
    record = await repo.create_session(
        pool, user_id=user_id, role_track="general", round_type="behavioral",
        difficulty="easy", duration_min=10, persona="alex",
    )  # fmt: skip
    # Late in the day, so the session ends just before midnight UTC.
    started = datetime.combine(day, time(23, 40), tzinfo=UTC)
    await repo.mark_live(pool, record.id, started)
    if status != "live":
        await repo.mark_ended(pool, record.id, status, started + timedelta(minutes=15), "interview_finished")


async def test_progress_shows_streak_and_practice_days(
    app: FastAPI, app_client: httpx.AsyncClient, pool: asyncpg.Pool, user_id: UUID
) -> None:
    app.state.evaluator = OfflineEvaluator()
    empty = (await app_client.get("/v1/users/me/progress")).json()
    assert (empty["streak_days"], empty["practice_days"]) == (0, [])

    today = datetime.now(UTC).date()
    for back in (0, 1, 2, 5, 70):
        await _session_on(pool, user_id, today - timedelta(days=back))
    await _session_on(pool, user_id, today - timedelta(days=1))  # a second session the same day
    await _session_on(pool, user_id, today - timedelta(days=3), status="failed")
    await _session_on(pool, user_id, today - timedelta(days=4), status="live")

    progress = (await app_client.get("/v1/users/me/progress")).json()
    assert progress["streak_days"] == 3
    assert progress["practice_days"] == [
        (today - timedelta(days=back)).isoformat() for back in (5, 2, 1, 0)
    ]
