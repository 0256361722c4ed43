"""SQL for reports: answers with their stored scores, signal aggregates per span, scorecards,
exports, share links and per-user history.

Signal rows are timed in ms from the session's media start; the media start is taken to be
sessions.started_at (the signal consumer starts with the candidate's first track, and the
session is marked live right after), else the first question or response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from db.pool import Db, transaction
from reports.delivery import GAZE_ON_CAMERA_MIN, SMILE_MIN, FaceAggregate
from reports.moments import EventRow, LookAway





# -- answers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """A question asked in a session."""

    id: UUID
    seq: int
    text: str
    source: str
    bank_question_id: str | None
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """A response given in a session, with its word timings."""

    id: UUID
    question_id: UUID | None
    transcript: str
    started_at: datetime
    ended_at: datetime | None
    words: list[dict[str, Any]]


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


async def questions_and_responses(
    db: Db, session_id: UUID
) -> tuple[list[QuestionRow], list[ResponseRow]]:
    """A session's questions in seq order and responses in time order."""
    questions = await db.fetch(
        """
        SELECT id, seq, text, source, bank_question_id, asked_at
        FROM questions WHERE session_id = $1 ORDER BY seq
        """,
        session_id,
    )
    responses = await db.fetch(
        """
        SELECT id, question_id, transcript, started_at, ended_at, words
        FROM responses WHERE session_id = $1 ORDER BY started_at, id
        """,
        session_id,
    )
    return [QuestionRow(**dict(r)) for r in questions], [ResponseRow(**dict(r)) for r in responses]


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


async def save_score(db: Db, session_id: UUID, score: StoredScore) -> bool:
    """Stores (or replaces) an answer's score; True when it is the question's first score."""
    async with transaction(db) as conn:
        return await conn.fetchval(
            """
            INSERT INTO answer_scores (session_id, question_id, category, overall, dimensions,
                                       evaluator, fallback_reason, strengths, improvements,
                                       stronger_answer, factors, responses_scored)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
            WHERE EXISTS (SELECT 1 FROM questions WHERE id = $2)
            ON CONFLICT (question_id) DO UPDATE SET
                category = EXCLUDED.category, overall = EXCLUDED.overall,
                dimensions = EXCLUDED.dimensions, evaluator = EXCLUDED.evaluator,
                fallback_reason = EXCLUDED.fallback_reason, strengths = EXCLUDED.strengths,
                improvements = EXCLUDED.improvements, stronger_answer = EXCLUDED.stronger_answer,
                factors = EXCLUDED.factors, responses_scored = EXCLUDED.responses_scored,
                created_at = now()
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
        ) or False


# -- signals -------------------------------------------------------------------


async def face_by_span(
    db: Db, session_id: UUID, spans: Sequence[tuple[int, int]]
) -> list[FaceAggregate]:
    """Face samples summed over each [from_ms, to_ms) span, in the order given."""
    if not spans:
        return []
    rows = await db.fetch(
        """
        SELECT a.idx,
               count(*)                                                             AS samples,
               count(*) FILTER (WHERE f.face_present)                               AS present,
               count(*) FILTER (WHERE f.face_present AND f.gaze_on_camera >= $5)    AS gaze_on,
               count(*) FILTER (WHERE f.face_present AND f.smile >= $6)             AS smiling,
               count(f.stability) FILTER (WHERE f.face_present)                     AS stability_n,
               coalesce(sum(f.stability) FILTER (WHERE f.face_present), 0)::float8  AS stability_sum,
               coalesce(sum(f.stability * f.stability) FILTER (WHERE f.face_present), 0)::float8
                                                                                    AS stability_sq_sum,
               coalesce(sum(f.quality), 0)::float8                                  AS quality_sum
        FROM unnest($2::int[], $3::int[], $4::int[]) AS a (idx, t_from, t_to)
        JOIN face_samples f ON f.session_id = $1 AND f.t_ms >= a.t_from AND f.t_ms < a.t_to
        GROUP BY a.idx
        """,
        session_id,
        list(range(len(spans))),
        [s[0] for s in spans],
        [s[1] for s in spans],
        GAZE_ON_CAMERA_MIN,
        SMILE_MIN,
    )
    out = [FaceAggregate() for _ in spans]
    for r in rows:
        out[r["idx"]] = FaceAggregate(
            samples=r["samples"],
            present=r["present"],
            gaze_on=r["gaze_on"],
            smiling=r["smiling"],
            stability_n=r["stability_n"],
            stability_sum=r["stability_sum"],
            stability_sq_sum=r["stability_sq_sum"],
            quality_sum=r["quality_sum"],
        )
    return out


async def speech_event_rows(db: Db, session_id: UUID) -> list[EventRow]:
    """A session's speech events (nudges too) in time order."""
    rows = await db.fetch(
        """
        SELECT t_ms, kind, duration_ms, value, label FROM speech_events
        WHERE session_id = $1 ORDER BY t_ms, id
        """,
        session_id,
    )
    return [EventRow(*r) for r in rows]


async def look_aways(
    db: Db, session_id: UUID, *, min_ms: int, max_gap_ms: int = 1000
) -> list[LookAway]:
    """Runs of face samples with no face or eyes off the camera lasting min_ms or more.

    A run breaks where samples are missing for more than max_gap_ms (the camera stopped).
    """
    rows = await db.fetch(
        """
        WITH s AS (
            SELECT t_ms,
                   NOT face_present OR coalesce(gaze_on_camera, 0) < $2 AS away,
                   NOT face_present AS no_face
            FROM face_samples WHERE session_id = $1
        ), edges AS (
            SELECT t_ms, away, no_face,
                   CASE WHEN lag(away) OVER w IS DISTINCT FROM away
                          OR t_ms - lag(t_ms) OVER w > $3 THEN 1 ELSE 0 END AS starts_run
            FROM s WINDOW w AS (ORDER BY t_ms)
        ), runs AS (
            SELECT t_ms, away, no_face, sum(starts_run) OVER (ORDER BY t_ms) AS run
            FROM edges
        )
        SELECT min(t_ms) AS start_ms, max(t_ms) AS end_ms, count(*) AS samples,
               count(*) FILTER (WHERE no_face) AS no_face_samples
        FROM runs WHERE away
        GROUP BY run
        HAVING max(t_ms) - min(t_ms) >= $4
        ORDER BY start_ms
        """,
        session_id,
        GAZE_ON_CAMERA_MIN,
        max_gap_ms,
        min_ms,
    )
    return [LookAway(**dict(r)) for r in rows]


async def signal_coverage(db: Db, session_id: UUID) -> dict[str, int | None]:
    """Row counts of the signal tables and the consumer's drop counters for a session."""
    row = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM face_samples WHERE session_id = $1)    AS face_samples,
               (SELECT count(*) FROM prosody_windows WHERE session_id = $1) AS prosody_windows,
               (SELECT count(*) FROM speech_events WHERE session_id = $1)   AS speech_events,
               (SELECT max(t_ms) FROM face_samples WHERE session_id = $1)   AS face_last_ms,
               (SELECT max(t_ms) FROM prosody_windows WHERE session_id = $1) AS prosody_last_ms,
               st.frames_dropped, st.rows_dropped
        FROM (SELECT 1) AS one
        LEFT JOIN signal_stats st ON st.session_id = $1
        """,
        session_id,
    )
    return dict(row)


async def wpm_series(
    db: Db, session_id: UUID, t_to_ms: int, bucket_ms: int
) -> list[tuple[int, float]]:
    """Live pace readings averaged per bucket: (bucket start, wpm)."""
    rows = await db.fetch(
        """
        SELECT (t_ms / $3) * $3 AS t_ms, avg(value)::float8 AS wpm
        FROM speech_events
        WHERE session_id = $1 AND kind = 'wpm' AND t_ms < $2 AND value IS NOT NULL
        GROUP BY t_ms / $3 ORDER BY 1
        """,
        session_id,
        t_to_ms,
        bucket_ms,
    )
    return [(r["t_ms"], r["wpm"]) for r in rows]


# The signals as one time-ordered CSV. Each table's rows can come off its (session_id, t_ms)
# index in order, so PostgreSQL may merge the three streams instead of sorting (it picks the
# cheaper); either way the rows reach Python through a cursor, a chunk at a time.
SIGNAL_CSV_COLUMNS: tuple[str, ...] = (
    "stream", "t_ms",
    "face_present", "num_faces", "yaw", "pitch", "roll", "gaze_on_camera", "eye_open", "blink",
    "smile", "brow_raise", "stability", "quality",
    "loudness_dbfs", "voiced", "f0_hz", "f0_confidence",
    "event", "duration_ms", "value", "label",
)  # fmt: skip
SIGNAL_CSV_SQL = """
    SELECT * FROM (
        SELECT 'face' AS stream, t_ms, face_present::text, num_faces::text, yaw::text, pitch::text,
               roll::text, gaze_on_camera::text, eye_open::text, blink::text, smile::text,
               brow_raise::text, stability::text, quality::text,
               NULL::text AS loudness_dbfs, NULL::text AS voiced, NULL::text AS f0_hz,
               NULL::text AS f0_confidence, NULL::text AS event, NULL::text AS duration_ms,
               NULL::text AS value, NULL::text AS label
        FROM face_samples WHERE session_id = $1
        UNION ALL
        SELECT 'prosody', t_ms, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, loudness_dbfs::text, voiced::text, f0_hz::text, f0_confidence::text,
               NULL, NULL, NULL, NULL
        FROM prosody_windows WHERE session_id = $1
        UNION ALL
        SELECT 'speech', t_ms, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, kind, duration_ms::text, value::text, label
        FROM speech_events WHERE session_id = $1
    ) AS signals
    ORDER BY t_ms
"""


# -- scorecards --------------------------------------------------------------------


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
    """Stores a session's scorecard summary, replacing the one before."""
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


# -- exports and shares -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One exported file (a PDF's bytes are loaded only for download)."""

    id: UUID
    session_id: UUID
    format: str
    size_bytes: int | None
    created_at: datetime
    expires_at: datetime


async def create_export(
    db: Db, session_id: UUID, fmt: str, content: bytes | None, expires_at: datetime
) -> ExportRow:
    """Records an export (and drops expired ones while at it)."""
    async with transaction(db) as conn:
        await conn.execute("DELETE FROM report_exports WHERE expires_at < now()")
        row = await conn.fetchrow(
            """
            INSERT INTO report_exports (session_id, format, content, size_bytes, expires_at)
            VALUES ($1, $2, $3, $4, $5)
            RETURNING id, session_id, format, size_bytes, created_at, expires_at
            """,
            session_id,
            fmt,
            content,
            None if content is None else len(content),
            expires_at,
        )
    return ExportRow(**dict(row))


async def get_export(db: Db, export_id: UUID, user_id: UUID) -> tuple[ExportRow, bytes | None] | None:
    """An export of one of the user's sessions, with a PDF's content; None when there is none."""
    row = await db.fetchrow(
        """
        SELECT e.id, e.session_id, e.format, e.size_bytes, e.created_at, e.expires_at, e.content
        FROM report_exports e JOIN sessions s ON s.id = e.session_id
        WHERE e.id = $1 AND s.user_id = $2
        """,
        export_id,
        user_id,
    )
    if row is None:
        return None
    data = dict(row)
    content = data.pop("content")
    return ExportRow(**data), content


@dataclass(frozen=True, slots=True)
class ShareRow:
    """A share link's row."""

    id: UUID
    session_id: UUID
    expires_at: datetime
    revoked_at: datetime | None


async def create_share(db: Db, session_id: UUID, expires_at: datetime) -> ShareRow:
    """Records a new share link for a session."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            """
            INSERT INTO report_shares (session_id, expires_at) VALUES ($1, $2)
            RETURNING id, session_id, expires_at, revoked_at
            """,
            session_id,
            expires_at,
        )
    return ShareRow(**dict(row))


async def get_share(db: Db, share_id: UUID) -> ShareRow | None:
    """A share link's row, or None (never made, or its session was deleted)."""
    row = await db.fetchrow(
        "SELECT id, session_id, expires_at, revoked_at FROM report_shares WHERE id = $1", share_id
    )
    return None if row is None else ShareRow(**dict(row))


async def revoke_shares(db: Db, session_id: UUID) -> int:
    """Revokes a session's live share links; returns how many."""
    async with transaction(db) as conn:
        result = await conn.execute(
            """
            UPDATE report_shares SET revoked_at = now()
            WHERE session_id = $1 AND revoked_at IS NULL AND expires_at > now()
            """,
            session_id,
        )
    return int(result.split()[-1])


@dataclass(frozen=True, slots=True)
class WatchState:
    """What watching a session live depends on, read in one query at one instant."""

    now: datetime
    owner_id: UUID | None  # None: the session is gone
    status: str | None
    account_exists: bool  # always True when the owner was not asked about
    shares: dict[UUID, ShareRow]  # the asked-about share links the session still has


async def watch_state(
    db: Db, session_id: UUID, share_ids: Sequence[UUID], *, owner_id: UUID | None = None
) -> WatchState:
    """The session, its owner's account and the given share links, in one cheap query."""
    rows = await db.fetch(
        """
        SELECT now() AS now, s.user_id AS owner_id, s.status,
               ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $2)) AS account_exists,
               r.id, r.session_id, r.expires_at, r.revoked_at
        FROM (SELECT 1) AS one
        LEFT JOIN sessions AS s ON s.id = $1
        LEFT JOIN report_shares AS r ON r.session_id = s.id AND r.id = ANY($3::uuid[])
        """,
        session_id,
        owner_id,
        list(share_ids),
    )
    first = rows[0]
    return WatchState(
        now=first["now"],
        owner_id=first["owner_id"],
        status=first["status"],
        account_exists=first["account_exists"],
        shares={
            r["id"]: ShareRow(r["id"], r["session_id"], r["expires_at"], r["revoked_at"])
            for r in rows
            if r["id"] is not None
        },
    )
