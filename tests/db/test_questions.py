"""Question usage stats: atomic upserts for asked and scored questions."""

from __future__ import annotations

import asyncio
import math
import uuid

import asyncpg
import pytest

from db import questions as repo


async def test_asked_counts_start_at_one_and_add_up(conn: asyncpg.Connection) -> None:
    await repo.record_asked(conn, "beh-sample")
    assert await repo.question_stats(conn, ["beh-sample"]) == {"beh-sample": (1, None)}
    await repo.record_asked(conn, "beh-sample")
    usage = (await repo.question_stats(conn, ["beh-sample"]))["beh-sample"]
    assert usage.times_asked == 2 and usage.average_score is None
    row = await conn.fetchrow("SELECT * FROM question_stats WHERE question_id = 'beh-sample'")
    assert row["updated_at"] is not None
    assert (row["times_scored"], row["score_sum"]) == (0, 0)


async def test_scores_average_without_counting_as_asked(conn: asyncpg.Connection) -> None:
    await repo.record_score(conn, "tech-sample", 90)
    await repo.record_score(conn, "tech-sample", 60.5)
    await repo.record_score(conn, "tech-sample", 0)
    usage = (await repo.question_stats(conn, ["tech-sample"]))["tech-sample"]
    assert usage.times_asked == 0
    assert usage.average_score == pytest.approx(150.5 / 3)


async def test_stats_for_unknown_and_repeated_ids(conn: asyncpg.Connection) -> None:
    await repo.record_asked(conn, "known")
    result = await repo.question_stats(conn, ["never-asked", "known", "known"])
    assert list(result) == ["never-asked", "known"]
    assert result["never-asked"] == repo.QuestionUsage(0, None)
    assert await repo.question_stats(conn, []) == {}


@pytest.mark.parametrize("score", [-1, 100.5, math.nan, math.inf])
async def test_scores_outside_0_to_100_are_refused(conn: asyncpg.Connection, score: float) -> None:
    with pytest.raises(ValueError, match="score must be a number from 0 to 100"):
        await repo.record_score(conn, "beh-sample", score)
    assert await conn.fetchval("SELECT count(*) FROM question_stats WHERE question_id = 'beh-sample'") == 0


async def test_concurrent_updates_lose_nothing(pool: asyncpg.Pool) -> None:
    question_id = f"concurrent-{uuid.uuid4().hex}"
    try:
        await asyncio.gather(
            *(repo.record_asked(pool, question_id) for _ in range(25)),
            *(repo.record_score(pool, question_id, 40 + i) for i in range(20)),
        )
        usage = (await repo.question_stats(pool, [question_id]))[question_id]
        assert usage.times_asked == 25
        assert usage.average_score == pytest.approx(sum(40 + i for i in range(20)) / 20)
        scored = await pool.fetchval(
            "SELECT times_scored FROM question_stats WHERE question_id = $1", question_id
        )
        assert scored == 20
    finally:
        await pool.execute("DELETE FROM question_stats WHERE question_id = $1", question_id)
