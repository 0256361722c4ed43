"""A session's stored scores: each answer's rubric score (answer_scores) and the session's
scorecard summary (session_scorecards)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Db, transaction


@dataclass(frozen=True, slots=True)
class StoredScore:
    """One row of answer_scores."""

    question_id: UUID
    category: str
    overall: int
    dimensions: list[dict[str, Any]]
    evaluator: str
    fallback_reason: str | None
    strengths: list[str]
    improvements: list[str]
    stronger_answer: str | None
    factors: dict[str, float]
    responses_scored: int
    created_at: datetime


async def stored_scores(db: Db, session_id: UUID) -> dict[UUID, StoredScore]:
    """A session's stored answer scores by question id."""
    rows = await db.fetch(
        """
        SELECT question_id, category, overall, dimensions, evaluator, fallback_reason, strengths,
               improvements, stronger_answer, factors, responses_scored, created_at
        FROM answer_scores WHERE session_id = $1
        """,
        session_id,
    )
    return {r["question_id"]: StoredScore(**dict(r)) for r in rows}


@dataclass(frozen=True, slots=True)
class SavedScore:
    """What save_score stored: whether it is the question's first score, and the score that
    now stands (None if the session was deleted meanwhile)."""

    first: bool
    score: StoredScore | None


async def save_score(db: Db, session_id: UUID, score: StoredScore) -> SavedScore:
    """Stores (or replaces) an answer's score. A score of the same answer already stored (the
    same responses and text, on the same scale: another reader and the end-of-session scoring
    scored it at once) stands, and is returned: the first report to show a score fixes it, so
    it does not change on reload. Nothing is stored if the session was deleted meanwhile."""
    try:
        return await _save_score(db, session_id, score)
    except asyncpg.ForeignKeyViolationError:  # deleted between the check and the insert
        return SavedScore(first=False, score=None)


async def _save_score(db: Db, session_id: UUID, score: StoredScore) -> SavedScore:
    async with transaction(db) as conn:
        first = await conn.fetchval(
            """
            INSERT INTO answer_scores (session_id, question_id, category, overall, dimensions,
                                       evaluator, fallback_reason, strengths, improvements,
                                       stronger_answer, factors, responses_scored, created_at)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
            WHERE EXISTS (SELECT 1 FROM questions WHERE id = $2)
            ON CONFLICT (question_id) DO UPDATE SET
                category = EXCLUDED.category, overall = EXCLUDED.overall,
                dimensions = EXCLUDED.dimensions, evaluator = EXCLUDED.evaluator,
                fallback_reason = EXCLUDED.fallback_reason, strengths = EXCLUDED.strengths,
                improvements = EXCLUDED.improvements, stronger_answer = EXCLUDED.stronger_answer,
                factors = EXCLUDED.factors, responses_scored = EXCLUDED.responses_scored,
                created_at = EXCLUDED.created_at
            WHERE answer_scores.responses_scored <> EXCLUDED.responses_scored
               OR answer_scores.factors -> 'text_mark' IS DISTINCT FROM EXCLUDED.factors -> 'text_mark'
               OR answer_scores.factors -> 'score_scale' IS DISTINCT FROM EXCLUDED.factors -> 'score_scale'
            RETURNING (xmax = 0)
            """,
            session_id,
            score.question_id,
            score.category,
            score.overall,
            score.dimensions,
            score.evaluator,
            score.fallback_reason,
            score.strengths,
            score.improvements,
            score.stronger_answer,
            score.factors,
            score.responses_scored,
            # the time the report that scored it shows, so a later report shows the same
            score.created_at,
        )
        if first is not None:
            return SavedScore(first=first, score=score)
        standing = (await stored_scores(conn, session_id)).get(score.question_id)
        return SavedScore(first=False, score=standing)


async def save_scorecard(
    db: Db,
    session_id: UUID,
    *,
    dimensions: dict[str, Any],
    delivery: dict[str, Any],
    categories: dict[str, Any],
    rubric: dict[str, Any],
    answers_scored: int,
) -> None:
    """Stores a session's scorecard summary, replacing the one before (nothing if the session
    was deleted meanwhile)."""
    try:
        async with transaction(db) as conn:
            await conn.execute(
                """
                INSERT INTO session_scorecards (session_id, dimensions, delivery, categories, rubric,
                                                answers_scored)
                SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1)
                ON CONFLICT (session_id) DO UPDATE SET
                    dimensions = EXCLUDED.dimensions, delivery = EXCLUDED.delivery,
                    categories = EXCLUDED.categories, rubric = EXCLUDED.rubric,
                    answers_scored = EXCLUDED.answers_scored, computed_at = now()
                """,
                session_id,
                dimensions,
                delivery,
                categories,
                rubric,
                answers_scored,
            )
    except asyncpg.ForeignKeyViolationError:  # deleted between the check and the insert
        return
