"""Usage of bank questions: how often each was asked and how it scored, kept by atomic upserts."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from db.pool import Db


MIN_SCORE = 0.0
MAX_SCORE = 100.0


class QuestionUsage(NamedTuple):
    """How often a question was asked, and its answers' average score (None before any)."""

    times_asked: int
    average_score: float | None


NEVER_USED = QuestionUsage(times_asked=0, average_score=None)


async def record_asked(db: Db, question_id: str) -> None:
    """Counts one more asking of a bank question."""
    await db.execute(
        """
        INSERT INTO question_stats (question_id, times_asked, updated_at)
        VALUES ($1, 1, now())
        ON CONFLICT (question_id) DO UPDATE
        SET times_asked = question_stats.times_asked + 1,
            updated_at  = now()
        """,
        question_id,
    )


async def record_score(db: Db, question_id: str, score: float) -> None:
    """Adds one scored answer (0 to 100) to a bank question's average."""
    if not math.isfinite(score) or not MIN_SCORE <= score <= MAX_SCORE:
        raise ValueError(f"score must be a number from {MIN_SCORE:g} to {MAX_SCORE:g}")
    await db.execute(
        """
        INSERT INTO question_stats (question_id, times_scored, score_sum, updated_at)
        VALUES ($1, 1, $2, now())
        ON CONFLICT (question_id) DO UPDATE
        SET times_scored = question_stats.times_scored + 1,
            score_sum    = question_stats.score_sum + EXCLUDED.score_sum,
            updated_at   = now()
        """,
        question_id,
        float(score),
    )


async def question_stats(db: Db, ids: Iterable[str]) -> dict[str, QuestionUsage]:
    """Usage of each given question; one never asked nor scored gets (0, None)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = await db.fetch(
        """
        SELECT question_id, times_asked, times_scored, score_sum
        FROM question_stats
        WHERE question_id = ANY($1::text[])
        """,
        wanted,
    )
    found = {
        row["question_id"]: QuestionUsage(
            times_asked=row["times_asked"],
            average_score=(
                row["score_sum"] / row["times_scored"] if row["times_scored"] else None
            ),
        )
        for row in rows
    }
    return {qid: found.get(qid, NEVER_USED) for qid in wanted}
