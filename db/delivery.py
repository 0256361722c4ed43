"""The signal tables: the shape of their rows, the signal_stats counters, and every query
reading them (bucketed series, speech events, per-span sums, coverage, the CSV export).

Signal rows are timed in ms from the session's media start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import NamedTuple
from uuid import UUID

import asyncpg

from db.pool import Db, transaction

# -- rows as written -------------------------------------------------------------------------


class FaceSampleRow(NamedTuple):
    """One row of face_samples, its values in COPY column order."""

    session_id: UUID
    t_ms: int
    face_present: bool
    num_faces: int
    yaw: float | None
    pitch: float | None
    roll: float | None
    gaze_on_camera: float | None
    eye_open: float | None
    blink: bool | None
    smile: float | None
    brow_raise: float | None
    stability: float | None
    quality: float | None


class ProsodyWindowRow(NamedTuple):
    """One row of prosody_windows, its values in COPY column order."""

    session_id: UUID
    t_ms: int
    loudness_dbfs: float
    voiced: bool
    f0_hz: float | None
    f0_confidence: float | None


class SpeechEventRow(NamedTuple):
    """One row of speech_events as written (the database numbers it), in COPY column order;
    an event has whichever of duration, value and label its kind uses."""

    session_id: UUID
    t_ms: int
    kind: str
    duration_ms: int | None = None
    value: float | None = None
    label: str | None = None


# The row shape of each signal table; session_id always comes first.
SIGNAL_ROWS: dict[str, type[FaceSampleRow] | type[ProsodyWindowRow] | type[SpeechEventRow]] = {
    "face_samples": FaceSampleRow,
    "prosody_windows": ProsodyWindowRow,
    "speech_events": SpeechEventRow,
}
SIGNAL_TABLES: tuple[str, ...] = tuple(SIGNAL_ROWS)


# -- signal_stats ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionDeliveryStats:
    """One row of signal_stats: what the media consumer saw and what became of its rows."""

    session_id: UUID
    frames_received: int = 0
    frames_analysed: int = 0
    frames_dropped: int = 0
    audio_windows: int = 0
    rows_written: int = 0
    rows_spooled: int = 0
    rows_replayed: int = 0
    rows_dropped: int = 0

    def plus(self, earlier: SessionDeliveryStats | None) -> SessionDeliveryStats:
        """These counters added to those an earlier server process stored for the session."""
        if earlier is None:
            return self
        return replace(
            self,
            **{f.name: getattr(self, f.name) + getattr(earlier, f.name) for f in fields(self) if f.name != "session_id"},
        )


async def load_signal_stats(db: Db, session_id: UUID) -> SessionDeliveryStats | None:
    """The session's stored counters, if a server process stored any."""
    row = await db.fetchrow(
        """
        SELECT session_id, frames_received, frames_analysed, frames_dropped, audio_windows,
               rows_written, rows_spooled, rows_replayed, rows_dropped
        FROM signal_stats WHERE session_id = $1
        """,
        session_id,
    )
    return None if row is None else SessionDeliveryStats(**dict(row))


async def upsert_signal_stats(db: Db, stats: SessionDeliveryStats) -> None:
    """Writes a session's signal counters, replacing the previous snapshot."""
    async with transaction(db) as conn:
        await conn.execute(
            """
            INSERT INTO signal_stats (session_id, frames_received, frames_analysed,
                                      frames_dropped, audio_windows, rows_written,
                                      rows_spooled, rows_replayed, rows_dropped, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
            ON CONFLICT (session_id) DO UPDATE SET
                frames_received = EXCLUDED.frames_received,
                frames_analysed = EXCLUDED.frames_analysed,
                frames_dropped  = EXCLUDED.frames_dropped,
                audio_windows   = EXCLUDED.audio_windows,
                rows_written    = EXCLUDED.rows_written,
                rows_spooled    = EXCLUDED.rows_spooled,
                rows_replayed   = EXCLUDED.rows_replayed,
                rows_dropped    = EXCLUDED.rows_dropped,
                updated_at      = EXCLUDED.updated_at
            """,
            stats.session_id,
            stats.frames_received,
            stats.frames_analysed,
            stats.frames_dropped,
            stats.audio_windows,
            stats.rows_written,
            stats.rows_spooled,
            stats.rows_replayed,
            stats.rows_dropped,
        )


@dataclass(frozen=True, slots=True)
class SignalCounts:
    """How many rows a session has in each signal table, how far they reach, and what the
    consumer dropped (None when it stored no counters)."""

    face_samples: int
    prosody_windows: int
    speech_events: int
    face_last_ms: int | None
    prosody_last_ms: int | None
    frames_dropped: int | None
    rows_dropped: int | None

    @property
    def table_rows(self) -> dict[str, int]:
        """Row counts by signal table."""
        return {table: getattr(self, table) for table in SIGNAL_TABLES}


async def signal_counts(db: Db, session_id: UUID) -> SignalCounts:
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
    return SignalCounts(**dict(row))


# -- bucketed series -------------------------------------------------------------------------


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


# A speaker's own pitch range, for pitch shown to them: Praat's two-pass method (De Looze and
# Hirst, 2008): from the quartiles of the first pass, floor 0.75 x q1 and ceiling 1.5 x q3. Frames
# outside it are octave errors (a hoarse or creaky voice, noise), which otherwise pull a man's
# average to 260 Hz. Under MIN_PITCHED_WINDOWS (2 s of clearly voiced speech) nothing is shown.
RANGE_FLOOR, RANGE_CEILING = 0.75, 1.5
MIN_PITCHED_WINDOWS = 20


async def prosody_series(
    db: Db,
    session_id: UUID,
    t_from_ms: int,
    t_to_ms: int,
    bucket_ms: int,
    *,
    min_f0_confidence: float = 0.0,
    speaker_range: bool = False,
) -> list[ProsodyBucket]:
    """Prosody windows in [t_from_ms, t_to_ms) summarised per bucket of bucket_ms. Pitch is over
    voiced windows with a pitch of at least `min_f0_confidence`; with `speaker_range`, also inside
    the speaker's range over the whole session, and only once the session has enough of them."""
    _check_range(t_from_ms, t_to_ms, bucket_ms)
    rows = await db.fetch(
        """
        WITH w AS (
            SELECT t_ms, voiced, loudness_dbfs, f0_hz,
                   voiced AND f0_hz IS NOT NULL AND coalesce(f0_confidence, 0) >= $5 AS pitched
            FROM prosody_windows
            WHERE session_id = $1 AND ($6 OR (t_ms >= $2 AND t_ms < $3))  -- the speaker's range needs it all
        ), speaker AS (
            SELECT count(*) FILTER (WHERE pitched) AS n,
                   percentile_cont(0.25) WITHIN GROUP (ORDER BY f0_hz) FILTER (WHERE pitched) AS q1,
                   percentile_cont(0.75) WITHIN GROUP (ORDER BY f0_hz) FILTER (WHERE pitched) AS q3
            FROM w
        ), kept AS (
            SELECT w.t_ms, w.voiced, w.loudness_dbfs, w.f0_hz,
                   w.pitched AND (NOT $6 OR (speaker.n >= $7 AND w.f0_hz BETWEEN $8 * speaker.q1 AND $9 * speaker.q3))
                       AS pitched
            FROM w, speaker
            WHERE w.t_ms >= $2 AND w.t_ms < $3
        )
        SELECT (t_ms / $4) * $4                     AS t_ms,
               count(*)                             AS windows,
               avg(voiced::int)::float8             AS voiced_ratio,
               avg(loudness_dbfs)                   AS loudness_dbfs,
               max(loudness_dbfs)::float8           AS loudness_dbfs_max,
               avg(f0_hz) FILTER (WHERE pitched)    AS f0_hz,
               stddev_samp(f0_hz) FILTER (WHERE pitched) AS f0_hz_stddev
        FROM kept
        GROUP BY t_ms / $4
        ORDER BY t_ms / $4
        """,
        session_id,
        t_from_ms,
        t_to_ms,
        bucket_ms,
        min_f0_confidence,
        speaker_range,
        MIN_PITCHED_WINDOWS,
        RANGE_FLOOR,
        RANGE_CEILING,
    )
    return [ProsodyBucket(**dict(row)) for row in rows]


async def wpm_series(db: Db, session_id: UUID, t_to_ms: int, bucket_ms: int) -> list[tuple[int, float]]:
    """Live pace readings before t_to_ms averaged per bucket: (bucket start, wpm)."""
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


# -- speech events ---------------------------------------------------------------------------


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


async def speech_events(
    db: Db,
    session_id: UUID,
    kinds: Sequence[str] | None = None,
    *,
    t_from_ms: int | None = None,
    t_to_ms: int | None = None,
) -> list[SpeechEvent]:
    """A session's speech events (nudges too) in time order; optionally some kinds, in
    [t_from_ms, t_to_ms)."""
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


# -- face samples per answer -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaceSums:
    """Face samples of a span reduced to counts and sums (all zero for a span with none); spans add up."""

    samples: int = 0
    present: int = 0
    gaze_on: int = 0
    smiling: int = 0
    stability_n: int = 0
    stability_sum: float = 0.0
    stability_sq_sum: float = 0.0
    quality_sum: float = 0.0

    def __add__(self, other: FaceSums) -> FaceSums:
        return FaceSums(*(getattr(self, f) + getattr(other, f) for f in FaceSums.__slots__))


async def face_sums_by_span(
    db: Db,
    session_id: UUID,
    spans: Sequence[tuple[int, int]],
    *,
    gaze_on_min: float,
    smile_min: float,
) -> list[FaceSums]:
    """Face samples summed over each [from_ms, to_ms) span, in the order given; a sample with
    a face counts as gaze on the camera from gaze_on_min, and as smiling from smile_min."""
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
        gaze_on_min,
        smile_min,
    )
    out = [FaceSums() for _ in spans]
    for r in rows:
        sums = dict(r)
        idx = sums.pop("idx")
        out[idx] = FaceSums(**sums)
    return out


@dataclass(frozen=True, slots=True)
class LookAwayRun:
    """A run of face samples with no face, or eyes off the camera."""

    start_ms: int
    end_ms: int
    samples: int
    no_face_samples: int


async def look_away_runs(
    db: Db, session_id: UUID, *, min_ms: int, gaze_on_min: float, max_gap_ms: int = 1000
) -> list[LookAwayRun]:
    """Runs of face samples with no face or gaze on the camera under gaze_on_min, lasting
    min_ms or more.

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
        gaze_on_min,
        max_gap_ms,
        min_ms,
    )
    return [LookAwayRun(**dict(r)) for r in rows]


# -- the CSV export --------------------------------------------------------------------------

# The signals as one time-ordered table. Each table's rows can come off its (session_id, t_ms)
# index in order, so PostgreSQL may merge the three streams instead of sorting (it picks the
# cheaper); either way the rows reach Python through a cursor, a chunk at a time.
SIGNAL_CSV_COLUMNS: tuple[str, ...] = (
    "stream", "t_ms",
    "face_present", "num_faces", "yaw", "pitch", "roll", "gaze_on_camera", "eye_open", "blink",
    "smile", "brow_raise", "stability", "quality",
    "loudness_dbfs", "voiced", "f0_hz", "f0_confidence",
    "event", "duration_ms", "value", "label",
)  # fmt: skip
_SIGNAL_CSV_SQL = """
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


async def signal_csv_chunks(
    pool: asyncpg.Pool, session_id: UUID, *, chunk_rows: int
) -> AsyncIterator[list[asyncpg.Record]]:
    """The session's signals as SIGNAL_CSV_COLUMNS rows (all text but t_ms) in time order, in
    chunks of at most chunk_rows, read from one snapshot through a server-side cursor."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await conn.cursor(_SIGNAL_CSV_SQL, session_id)
        while rows := await cursor.fetch(chunk_rows):
            yield rows
            del rows
