"""Read-side queries over delivery signals: bucketed timelines, speech events, row counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from db.pool import Db


SIGNAL_TABLES: tuple[str, ...] = ("face_samples", "prosody_windows", "speech_events")


@dataclass(frozen=True, slots=True)
class FaceBucket:
    """Face samples of one time bucket; averages are over the samples where a face was found."""

    t_ms: int  # bucket start
    samples: int
    face_present_ratio: float
    multiple_faces_ratio: float
    yaw: float | None
    pitch: float | None
    roll: float | None
    gaze_on_camera: float | None
    eye_open: float | None
    blinks: int
    smile: float | None
    brow_raise: float | None
    stability: float | None
    quality: float | None


@dataclass(frozen=True, slots=True)
class ProsodyBucket:
    """Prosody windows of one time bucket; pitch is over voiced windows with a pitch."""

    t_ms: int  # bucket start
    windows: int
    voiced_ratio: float
    loudness_dbfs: float
    loudness_dbfs_max: float
    f0_hz: float | None
    f0_hz_stddev: float | None


@dataclass(frozen=True, slots=True)
class SpeechEvent:
    """One row of speech_events."""

    id: int
    session_id: UUID
    t_ms: int
    kind: str
    duration_ms: int | None
    value: float | None
    label: str | None


@dataclass(frozen=True, slots=True)
class SignalStats:
    """One row of signal_stats."""

    session_id: UUID
    frames_received: int
    frames_analysed: int
    frames_dropped: int
    audio_windows: int
    rows_written: int
    rows_spooled: int
    rows_replayed: int
    rows_dropped: int
    updated_at: datetime


def _check_range(t_from_ms: int, t_to_ms: int, bucket_ms: int) -> None:
    if bucket_ms <= 0:
        raise ValueError("bucket_ms must be positive")
    if t_from_ms < 0 or t_to_ms < t_from_ms:
        raise ValueError("need 0 <= t_from_ms <= t_to_ms")


async def face_series(
    db: Db, session_id: UUID, t_from_ms: int, t_to_ms: int, bucket_ms: int
) -> list[FaceBucket]:
    """Face samples in [t_from_ms, t_to_ms) averaged per bucket_ms; empty buckets are left out."""
    _check_range(t_from_ms, t_to_ms, bucket_ms)
    rows = await db.fetch(
        """
        SELECT (t_ms / $4) * $4                                    AS t_ms,
               count(*)                                            AS samples,
               avg(face_present::int)::float8                      AS face_present_ratio,
               avg((num_faces > 1)::int)::float8                   AS multiple_faces_ratio,
               avg(yaw) FILTER (WHERE face_present)                AS yaw,
               avg(pitch) FILTER (WHERE face_present)              AS pitch,
               avg(roll) FILTER (WHERE face_present)               AS roll,
               avg(gaze_on_camera) FILTER (WHERE face_present)     AS gaze_on_camera,
               avg(eye_open) FILTER (WHERE face_present)           AS eye_open,
               count(*) FILTER (WHERE blink)                       AS blinks,
               avg(smile) FILTER (WHERE face_present)              AS smile,
               avg(brow_raise) FILTER (WHERE face_present)         AS brow_raise,
               avg(stability) FILTER (WHERE face_present)          AS stability,
               avg(quality)                                        AS quality
        FROM face_samples
        WHERE session_id = $1 AND t_ms >= $2 AND t_ms < $3
        GROUP BY t_ms / $4
        ORDER BY t_ms / $4
        """,
        session_id,
        t_from_ms,
        t_to_ms,
        bucket_ms,
    )
    return [FaceBucket(**dict(row)) for row in rows]


async def prosody_series(
    db: Db,
    session_id: UUID,
    t_from_ms: int,
    t_to_ms: int,
    bucket_ms: int,
    *,
    min_f0_confidence: float = 0.0,
) -> list[ProsodyBucket]:
    """Prosody windows in [t_from_ms, t_to_ms) summarised per bucket of bucket_ms."""
    _check_range(t_from_ms, t_to_ms, bucket_ms)
    rows = await db.fetch(
        """
        SELECT (t_ms / $4) * $4                     AS t_ms,
               count(*)                             AS windows,
               avg(voiced::int)::float8             AS voiced_ratio,
               avg(loudness_dbfs)                   AS loudness_dbfs,
               max(loudness_dbfs)::float8           AS loudness_dbfs_max,
               avg(f0_hz) FILTER (WHERE pitched)    AS f0_hz,
               stddev_samp(f0_hz) FILTER (WHERE pitched) AS f0_hz_stddev
        FROM (
            SELECT t_ms, voiced, loudness_dbfs, f0_hz,
                   voiced AND f0_hz IS NOT NULL AND coalesce(f0_confidence, 0) >= $5 AS pitched
            FROM prosody_windows
            WHERE session_id = $1 AND t_ms >= $2 AND t_ms < $3
        ) AS w
        GROUP BY t_ms / $4
        ORDER BY t_ms / $4
        """,
        session_id,
        t_from_ms,
        t_to_ms,
        bucket_ms,
        min_f0_confidence,
    )
    return [ProsodyBucket(**dict(row)) for row in rows]


async def speech_events(
    db: Db,
    session_id: UUID,
    kinds: Sequence[str] | None = None,
    *,
    t_from_ms: int | None = None,
    t_to_ms: int | None = None,
) -> list[SpeechEvent]:
    """A session's speech events in time order; optionally some kinds, in [t_from_ms, t_to_ms)."""
    rows = await db.fetch(
        """
        SELECT id, session_id, t_ms, kind, duration_ms, value, label
        FROM speech_events
        WHERE session_id = $1
          AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
          AND ($3::integer IS NULL OR t_ms >= $3)
          AND ($4::integer IS NULL OR t_ms < $4)
        ORDER BY t_ms, id
        """,
        session_id,
        None if kinds is None else list(kinds),
        t_from_ms,
        t_to_ms,
    )
    return [SpeechEvent(**dict(row)) for row in rows]


async def count_rows(db: Db, session_id: UUID) -> dict[str, int]:
    """How many rows each signal table holds for a session."""
    row = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM face_samples WHERE session_id = $1)    AS face_samples,
               (SELECT count(*) FROM prosody_windows WHERE session_id = $1) AS prosody_windows,
               (SELECT count(*) FROM speech_events WHERE session_id = $1)   AS speech_events
        """,
        session_id,
    )
    return {table: row[table] for table in SIGNAL_TABLES}


async def signal_stats(db: Db, session_id: UUID) -> SignalStats | None:
    """A session's signal counters, or None when none were written."""
    row = await db.fetchrow(
        """
        SELECT session_id, frames_received, frames_analysed, frames_dropped, audio_windows,
               rows_written, rows_spooled, rows_replayed, rows_dropped, updated_at
        FROM signal_stats WHERE session_id = $1
        """,
        session_id,
    )
    return None if row is None else SignalStats(**dict(row))
