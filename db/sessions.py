"""The session repository: interview sessions, their questions, responses and turn latencies."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from db.pool import Db, transaction

logger = logging.getLogger(__name__)

SessionStatus = Literal["scheduled", "live", "completed", "failed", "abandoned"]
EndStatus = Literal["completed", "failed", "abandoned"]
QuestionSource = Literal["bank", "follow_up"]

OPEN_STATUSES: tuple[str, ...] = ("scheduled", "live")
END_STATUSES: tuple[str, ...] = ("completed", "failed", "abandoned")

_SESSION_COLUMNS = """
    id, user_id, template_id, role_track, round_type, difficulty, duration_min, persona,
    status, consent_version, created_at, started_at, ended_at, end_reason,
    cv_text, jd_text, consented_at, capture_signals, retention_days, retain_until,
    practice_question_id, panel, transcript_open_at
"""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One row of sessions."""

    id: UUID
    user_id: UUID
    template_id: UUID | None
    role_track: str
    round_type: str
    difficulty: str
    duration_min: int
    persona: str
    status: str
    consent_version: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    cv_text: str | None = None
    jd_text: str | None = None
    consented_at: datetime | None = None
    capture_signals: bool = True  # the candidate's "analyse my delivery" choice
    retention_days: int | None = None  # None: kept until the candidate deletes it
    retain_until: datetime | None = None
    practice_question_id: str | None = None  # a one-question practice session
    panel: Sequence[str] = ()  # a panel's persona ids, the lead (persona) first; empty: one interviewer
    # Set while the process running the interview may still store what was said (open_transcript).
    transcript_open_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One line of a session's transcript: a question asked or a response given."""

    speaker: Literal["interviewer", "candidate"]
    text: str
    at: datetime
    seq: int | None
    question_id: UUID | None
    source: str | None
    persona: str | None


@dataclass(frozen=True, slots=True)
class AskedQuestionRecord:
    """A question stored for a session, and whether the candidate's response to it is stored."""

    id: UUID
    seq: int
    text: str
    source: str
    bank_question_id: str | None
    persona: str
    asked_at: datetime
    answered: bool


def _session(row: asyncpg.Record | None) -> SessionRecord | None:
    return None if row is None else SessionRecord(**dict(row))


async def create_session(
    db: Db,
    *,
    user_id: UUID,
    role_track: str,
    round_type: str,
    difficulty: str,
    duration_min: int,
    persona: str,
    consent_version: str | None = None,
    template_id: UUID | None = None,
    cv_text: str | None = None,
    jd_text: str | None = None,
    capture_signals: bool = True,
    retention_days: int | None = None,
    practice_question_id: str | None = None,
    panel: Sequence[str] = (),
) -> SessionRecord:
    """Schedules a new session for a user. A consent version records consent given now; with
    retention_days the session is kept until that many days after its creation."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            f"""
            INSERT INTO sessions (user_id, template_id, role_track, round_type, difficulty,
                                  duration_min, persona, consent_version, consented_at,
                                  cv_text, jd_text, capture_signals, retention_days, retain_until,
                                  practice_question_id, panel)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                    CASE WHEN $8::text IS NOT NULL THEN now() END,
                    $9, $10, $11, $12,
                    now() + make_interval(days => $12::int),
                    $13, $14)
            RETURNING {_SESSION_COLUMNS}
            """,
            user_id,
            template_id,
            role_track,
            round_type,
            difficulty,
            duration_min,
            persona,
            consent_version,
            cv_text,
            jd_text,
            capture_signals,
            retention_days,
            practice_question_id,
            list(panel),
        )
    return _session(row)


async def get_session(
    db: Db, session_id: UUID, *, user_id: UUID | None = None
) -> SessionRecord | None:
    """Returns a session, or None when it does not exist (or is not that user's)."""
    row = await db.fetchrow(
        f"""
        SELECT {_SESSION_COLUMNS} FROM sessions
        WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)
        """,
        session_id,
        user_id,
    )
    return _session(row)


async def list_sessions(
    db: Db, user_id: UUID, *, limit: int = 50, offset: int = 0
) -> list[SessionRecord]:
    """Returns a user's sessions, newest first."""
    rows = await db.fetch(
        f"""
        SELECT {_SESSION_COLUMNS} FROM sessions
        WHERE user_id = $1
        ORDER BY created_at DESC, id DESC
        LIMIT $2 OFFSET $3
        """,
        user_id,
        limit,
        offset,
    )
    return [SessionRecord(**dict(row)) for row in rows]


async def set_status(db: Db, session_id: UUID, status: SessionStatus) -> SessionRecord | None:
    """Sets a session's status unconditionally; None when the session does not exist."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            f"UPDATE sessions SET status = $2 WHERE id = $1 RETURNING {_SESSION_COLUMNS}",
            session_id,
            status,
        )
    return _session(row)


async def mark_live(db: Db, session_id: UUID, started_at: datetime) -> SessionRecord | None:
    """Moves a scheduled session to live, keeping the first start time; ended ones stay ended."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            f"""
            UPDATE sessions SET status = 'live', started_at = COALESCE(started_at, $2),
                                heartbeat_at = now()
            WHERE id = $1 AND status IN ('scheduled', 'live')
            RETURNING {_SESSION_COLUMNS}
            """,
            session_id,
            started_at,
        )
        if row is None:
            row = await conn.fetchrow(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = $1", session_id
            )
    return _session(row)


async def mark_ended(
    db: Db, session_id: UUID, status: EndStatus, ended_at: datetime, end_reason: str
) -> SessionRecord | None:
    """Ends a scheduled or live session; ending an ended session changes nothing and returns it."""
    if status not in END_STATUSES:
        raise ValueError(f"not an end status: {status!r}")
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            f"""
            UPDATE sessions SET status = $2, ended_at = $3, end_reason = $4
            WHERE id = $1 AND status IN ('scheduled', 'live')
            RETURNING {_SESSION_COLUMNS}
            """,
            session_id,
            status,
            ended_at,
            end_reason,
        )
        if row is None:
            row = await conn.fetchrow(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = $1", session_id
            )
    return _session(row)


async def open_transcript(db: Db, session_id: UUID) -> None:
    """Notes that this process is storing the session's transcript, until close_transcript."""
    await db.execute("UPDATE sessions SET transcript_open_at = now() WHERE id = $1", session_id)


async def close_transcript(db: Db, session_id: UUID) -> None:
    """Notes that everything the interview's process had to store is stored. A failure is only
    logged: the report then waits out its limit (transcript_settling)."""
    try:
        await db.execute("UPDATE sessions SET transcript_open_at = NULL WHERE id = $1", session_id)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        logger.warning("transcript not marked stored", extra={"session_id": str(session_id)})


def transcript_settling(session: SessionRecord, now: datetime, limit_s: float) -> bool:
    """The session has ended, but its interview's process may still be storing its last answers:
    for at most limit_s after the end (a process killed before closing never says it is done)."""
    return (
        session.status not in OPEN_STATUSES
        and session.transcript_open_at is not None
        and session.ended_at is not None
        and (now - session.ended_at).total_seconds() < limit_s
    )


async def heartbeat(db: Db, session_ids: Sequence[UUID]) -> None:
    """Notes that a running process holds these sessions' rooms now (only live ones are noted)."""
    await db.execute(
        "UPDATE sessions SET heartbeat_at = now() WHERE id = ANY($1::uuid[]) AND status = 'live'",
        list(session_ids),
    )


# A live session no process has kept alive for $stale seconds, counted from $since at the earliest.
_ORPHANED = """status = 'live' AND greatest(coalesce(heartbeat_at, started_at, created_at), {since})
              < now() - make_interval(secs => {stale}::float8)"""


async def orphaned_sessions(db: Db, *, stale_after_s: float, since: datetime) -> list[UUID]:
    """The live sessions abandon_orphaned would end now (before `held` is taken out)."""
    rows = await db.fetch(
        f"SELECT id FROM sessions WHERE {_ORPHANED.format(since='$2', stale='$1')}", stale_after_s, since
    )
    return [row["id"] for row in rows]


async def abandon_orphaned(
    db: Db,
    *,
    stale_after_s: float,
    held: Sequence[UUID] = (),
    among: Sequence[UUID] | None = None,
    end_reason: str,
    since: datetime,
) -> list[UUID]:
    """Ends as abandoned every live session outside `held` (and in `among`, when given) that no
    process has kept alive for stale_after_s (its process died, and its candidate did not come
    back); the end time is its last sign of life. Time counts from `since` at the earliest (when
    the calling process started): while no server ran, the candidate could not have come back.
    Returns their ids."""
    async with transaction(db) as conn:
        rows = await conn.fetch(
            f"""
            UPDATE sessions
            SET status = 'abandoned', end_reason = $3,
                ended_at = coalesce(heartbeat_at, started_at, created_at)
            WHERE NOT (id = ANY($1::uuid[])) AND ($5::uuid[] IS NULL OR id = ANY($5::uuid[]))
              AND {_ORPHANED.format(since='$4', stale='$2')}
            RETURNING id
            """,
            list(held),
            stale_after_s,
            end_reason,
            since,
            None if among is None else list(among),
        )
    return [row["id"] for row in rows]


async def delete_session(db: Db, session_id: UUID, *, user_id: UUID | None = None) -> bool:
    """Deletes a session and everything recorded under it; False when there was none."""
    async with transaction(db) as conn:
        deleted = await conn.fetchval(
            """
            DELETE FROM sessions WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)
            RETURNING id
            """,
            session_id,
            user_id,
        )
    return deleted is not None


async def purge_expired_sessions(db: Db, *, now: datetime | None = None) -> list[SessionRecord]:
    """Deletes every session kept past its retain_until, with everything recorded under it;
    returns the sessions deleted."""
    async with transaction(db) as conn:
        rows = await conn.fetch(
            f"""
            DELETE FROM sessions WHERE retain_until < coalesce($1, now())
            RETURNING {_SESSION_COLUMNS}
            """,
            now,
        )
    return [SessionRecord(**dict(row)) for row in rows]


async def open_session_ids(db: Db, user_id: UUID) -> list[UUID]:
    """The ids of a user's scheduled and live sessions."""
    rows = await db.fetch(
        "SELECT id FROM sessions WHERE user_id = $1 AND status = ANY($2::text[])",
        user_id,
        list(OPEN_STATUSES),
    )
    return [row["id"] for row in rows]


async def practice_days(db: Db, user_id: UUID, since: date) -> list[date]:
    """The distinct UTC calendar days, from since on, on which the user completed a session."""
    rows = await db.fetch(
        """
        SELECT DISTINCT (coalesce(ended_at, started_at, created_at) AT TIME ZONE 'UTC')::date AS day
        FROM sessions
        WHERE user_id = $1 AND status = 'completed'
          AND coalesce(ended_at, started_at, created_at) >= ($2::date::timestamp AT TIME ZONE 'UTC')
        ORDER BY day
        """,
        user_id,
        since,
    )
    return [row["day"] for row in rows]


async def add_question(
    db: Db,
    session_id: UUID,
    seq: int,
    text: str,
    source: QuestionSource,
    bank_question_id: str | None,
    persona: str,
    asked_at: datetime,
) -> UUID:
    """Records a question the interviewer asked; returns its id."""
    async with transaction(db) as conn:
        return await conn.fetchval(
            """
            INSERT INTO questions (session_id, seq, text, source, bank_question_id,
                                   persona, asked_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING id
            """,
            session_id,
            seq,
            text,
            source,
            bank_question_id,
            persona,
            asked_at,
        )


async def store_question(
    db: Db,
    question_id: UUID,
    session_id: UUID,
    seq: int,
    text: str,
    source: QuestionSource,
    bank_question_id: str | None,
    persona: str,
    asked_at: datetime,
) -> bool:
    """Records a question under the id its writer chose, once: storing it again (a replay after
    a lost commit) changes nothing. True when this call stored it."""
    async with transaction(db) as conn:
        stored = await conn.fetchval(
            """
            INSERT INTO questions (id, session_id, seq, text, source, bank_question_id,
                                   persona, asked_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT DO NOTHING
            RETURNING true
            """,
            question_id,
            session_id,
            seq,
            text,
            source,
            bank_question_id,
            persona,
            asked_at,
        )
    return bool(stored)


async def asked_questions(db: Db, session_id: UUID) -> list[AskedQuestionRecord]:
    """The questions already asked in a session, in seq order, each marked answered or not."""
    rows = await db.fetch(
        """
        SELECT q.id, q.seq, q.text, q.source, q.bank_question_id, q.persona, q.asked_at,
               EXISTS (SELECT 1 FROM responses r WHERE r.question_id = q.id) AS answered
        FROM questions q
        WHERE q.session_id = $1
        ORDER BY q.seq
        """,
        session_id,
    )
    return [AskedQuestionRecord(**dict(row)) for row in rows]


async def add_response(
    db: Db,
    session_id: UUID,
    question_id: UUID | None,
    transcript: str,
    started_at: datetime,
    ended_at: datetime | None,
    words: Sequence[dict[str, Any]] = (),
) -> UUID:
    """Records what the candidate said (words timed in seconds from started_at); returns its id."""
    async with transaction(db) as conn:
        return await conn.fetchval(
            """
            INSERT INTO responses (session_id, question_id, transcript, started_at, ended_at, words)
            VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
            RETURNING id
            """,
            session_id,
            question_id,
            transcript,
            started_at,
            ended_at,
            json.dumps(list(words)),
        )


async def delete_response(db: Db, response_id: UUID, session_id: UUID) -> None:
    """Removes a response (gone already: nothing to do)."""
    await db.execute("DELETE FROM responses WHERE id = $1 AND session_id = $2", response_id, session_id)


async def store_response(
    db: Db,
    response_id: UUID,
    session_id: UUID,
    question_id: UUID | None,
    transcript: str,
    started_at: datetime,
    ended_at: datetime | None,
    words: Sequence[dict[str, Any]] = (),
) -> None:
    """Records a response under the id its writer chose, or replaces what it holds: an answer
    stitched across pauses grows as it goes on, and storing the same state again (a replay)
    changes nothing. A question that was never stored leaves the response unlinked, not lost."""
    async with transaction(db) as conn:
        await conn.execute(
            """
            INSERT INTO responses (id, session_id, question_id, transcript, started_at, ended_at, words)
            VALUES ($1, $2, (SELECT id FROM questions WHERE id = $3), $4, $5, $6, $7::text::jsonb)
            ON CONFLICT (id) DO UPDATE
            SET transcript = EXCLUDED.transcript, ended_at = EXCLUDED.ended_at, words = EXCLUDED.words
            """,
            response_id,
            session_id,
            question_id,
            transcript,
            started_at,
            ended_at,
            json.dumps(list(words)),
        )


async def store_turn_latency(
    db: Db,
    session_id: UUID,
    turn_seq: int,
    speech_end_at: datetime,
    first_audio_at: datetime,
    latency_ms: float,
    stt_ms: float | None = None,
) -> None:
    """Records one turn's latency once: the same turn stored again (a replay) changes nothing."""
    async with transaction(db) as conn:
        await conn.execute(
            """
            INSERT INTO turn_latency (session_id, turn_seq, speech_end_at, first_audio_at,
                                      latency_ms, stt_ms)
            SELECT $1, $2, $3, $4, $5, $6
            WHERE NOT EXISTS (
                SELECT 1 FROM turn_latency
                WHERE session_id = $1 AND turn_seq = $2 AND speech_end_at = $3
            )
            """,
            session_id,
            turn_seq,
            speech_end_at,
            first_audio_at,
            latency_ms,
            stt_ms,
        )


async def last_turn_seq(db: Db, session_id: UUID) -> int:
    """The highest turn number stored for a session (0 before any), for a resumed run to go on from."""
    return await db.fetchval(
        "SELECT coalesce(max(turn_seq), 0) FROM turn_latency WHERE session_id = $1", session_id
    )


async def add_turn_latency(
    db: Db,
    session_id: UUID,
    turn_seq: int,
    speech_end_at: datetime,
    first_audio_at: datetime,
    latency_ms: float,
    stt_ms: float | None = None,
) -> int:
    """Records how long the interviewer took to answer one turn; returns the row id."""
    async with transaction(db) as conn:
        return await conn.fetchval(
            """
            INSERT INTO turn_latency (session_id, turn_seq, speech_end_at, first_audio_at,
                                      latency_ms, stt_ms)
            VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING id
            """,
            session_id,
            turn_seq,
            speech_end_at,
            first_audio_at,
            latency_ms,
            stt_ms,
        )


async def transcript(db: Db, session_id: UUID) -> list[TranscriptEntry]:
    """Returns a session's questions and responses in the order they happened."""
    rows = await db.fetch(
        """
        SELECT 'interviewer' AS speaker, q.text, q.asked_at AS at, q.seq, q.id AS question_id,
               q.source, q.persona, 0 AS speaker_order
        FROM questions q
        WHERE q.session_id = $1
        UNION ALL
        SELECT 'candidate', r.transcript, r.started_at, q.seq, r.question_id,
               NULL, NULL, 1
        FROM responses r
        LEFT JOIN questions q ON q.id = r.question_id
        WHERE r.session_id = $1
        ORDER BY at, speaker_order, seq NULLS LAST
        """,
        session_id,
    )
    return [
        TranscriptEntry(
            speaker=row["speaker"],
            text=row["text"],
            at=row["at"],
            seq=row["seq"],
            question_id=row["question_id"],
            source=row["source"],
            persona=row["persona"],
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """A question asked in a session, as its report reads it."""

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
