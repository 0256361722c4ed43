"""A user's practice across sessions: their sessions with stored scorecards, and aggregates
of their answer scores and fillers, for the progress and insight views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from db.pool import Db


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """A user's session with its stored scorecard, if one was made."""

    session_id: UUID
    role_track: str
    round_type: str
    status: str
    duration_min: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    dimensions: dict[str, Any] | None
    delivery: dict[str, Any] | None
    categories: dict[str, Any] | None
    rubric: dict[str, Any] | None
    answers_scored: int | None


async def history(db: Db, user_id: UUID, *, limit: int) -> list[HistoryRow]:
    """A user's most recent sessions (oldest first) with their scorecards."""
    rows = await db.fetch(
        """
        SELECT * FROM (
            SELECT s.id AS session_id, s.role_track, s.round_type, s.status, s.duration_min,
                   s.created_at, s.started_at, s.ended_at, c.dimensions, c.delivery, c.categories,
                   c.rubric, c.answers_scored
            FROM sessions s LEFT JOIN session_scorecards c ON c.session_id = s.id
            WHERE s.user_id = $1
            ORDER BY coalesce(s.started_at, s.created_at) DESC, s.id DESC
            LIMIT $2
        ) AS recent
        ORDER BY coalesce(started_at, created_at), session_id
        """,
        user_id,
        limit,
    )
    return [HistoryRow(**dict(r)) for r in rows]


async def session_counts(db: Db, user_id: UUID) -> dict[str, int]:
    """How many sessions a user has, in all and ended."""
    row = await db.fetchrow(
        """
        SELECT count(*) AS sessions,
               count(*) FILTER (WHERE status = 'completed') AS completed,
               coalesce(sum(extract(epoch FROM ended_at - started_at))
                        FILTER (WHERE ended_at IS NOT NULL AND started_at IS NOT NULL), 0)::float8
                   AS practice_s
        FROM sessions WHERE user_id = $1
        """,
        user_id,
    )
    return dict(row)


async def category_averages(db: Db, user_id: UUID) -> list[dict[str, Any]]:
    """A user's answer scores per question category: average, best, count."""
    rows = await db.fetch(
        """
        SELECT a.category, avg(a.overall)::float8 AS average, max(a.overall) AS best,
               count(*) AS answers, count(DISTINCT a.session_id) AS sessions
        FROM answer_scores a JOIN sessions s ON s.id = a.session_id
        WHERE s.user_id = $1
        GROUP BY a.category ORDER BY a.category
        """,
        user_id,
    )
    return [dict(r) for r in rows]


async def rubric_dimension_averages(db: Db, user_id: UUID, session_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    """Rubric dimension averages over a user's answers in the given sessions."""
    rows = await db.fetch(
        """
        SELECT a.category, d ->> 'dimension' AS dimension, avg((d ->> 'score')::int)::float8 AS average,
               count(*) AS answers
        FROM answer_scores a
        JOIN sessions s ON s.id = a.session_id
        CROSS JOIN LATERAL jsonb_array_elements(a.dimensions) AS d
        WHERE s.user_id = $1 AND a.session_id = ANY($2::uuid[])
        GROUP BY a.category, d ->> 'dimension'
        ORDER BY average
        """,
        user_id,
        list(session_ids),
    )
    return [dict(r) for r in rows]


async def filler_labels(db: Db, user_id: UUID, session_ids: Sequence[UUID], *, limit: int = 5) -> list[dict[str, Any]]:
    """A user's most frequent filler words over the given sessions."""
    rows = await db.fetch(
        """
        SELECT lower(e.label) AS label, count(*) AS count, count(DISTINCT e.session_id) AS sessions
        FROM speech_events e JOIN sessions s ON s.id = e.session_id
        WHERE s.user_id = $1 AND e.session_id = ANY($2::uuid[]) AND e.kind = 'filler'
              AND e.label IS NOT NULL
        GROUP BY lower(e.label) ORDER BY count DESC, label LIMIT $3
        """,
        user_id,
        list(session_ids),
        limit,
    )
    return [dict(r) for r in rows]
