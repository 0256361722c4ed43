"""A session's signals bucketed for charts, with event markers, key moments and transcript anchors.

Series share one grid of buckets from from_ms (bucket starts, ms on the session's signal clock);
a bucket with no samples holds None. pace is the live pace readings (wpm), pitch the mean f0
of voiced, confidently pitched windows inside the speaker's own range (none for a session with
too little clearly voiced speech; db.delivery.prosody_series), loudness the mean dBFS,
face_visible the share of camera samples with a face, gaze the mean gaze-on-camera score of
samples with a face.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from db import delivery as delivery_queries
from reports.model import KeyMoment, Report

MAX_BUCKETS = 10_000
MIN_F0_CONFIDENCE = 0.5
MARKER_KINDS = ("pause", "filler", "response_latency", "nudge")
MIN_MARKED_PAUSE_MS = 1000  # shorter pauses are part of normal speech, not worth a marker


class TooManyBuckets(ValueError):
    """bucket_ms too small for the span asked for."""


@dataclass(frozen=True, slots=True)
class Marker:
    """A speech event drawn on the timeline."""

    kind: str
    t_ms: int
    duration_ms: int | None
    value: float | None
    label: str | None


@dataclass(frozen=True, slots=True)
class ResponseAnchor:
    """Where a response sits on the timeline."""

    response_id: UUID
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class QuestionAnchor:
    """Where a question and its answer sit on the timeline."""

    question_id: UUID
    seq: int
    text: str
    asked_ms: int | None
    answer_from_ms: int | None
    answer_to_ms: int | None
    responses: tuple[ResponseAnchor, ...]


@dataclass(frozen=True, slots=True)
class Timeline:
    """Bucketed series on one grid, plus markers, moments and anchors."""

    session_id: UUID
    partial: bool
    bucket_ms: int
    from_ms: int
    to_ms: int
    t_ms: tuple[int, ...]
    pace_wpm: tuple[float | None, ...]
    pitch_hz: tuple[float | None, ...]
    loudness_dbfs: tuple[float | None, ...]
    face_visible: tuple[float | None, ...]
    gaze_on_camera: tuple[float | None, ...]
    markers: tuple[Marker, ...]
    moments: tuple[KeyMoment, ...]
    anchors: tuple[QuestionAnchor, ...]


def _grid(values: list[tuple[int, float | None]], from_ms: int, bucket_ms: int, n: int) -> tuple[float | None, ...]:
    out: list[float | None] = [None] * n
    for t, v in values:
        i = (t - from_ms) // bucket_ms
        if 0 <= i < n and v is not None:
            out[i] = round(float(v), 3)
    return tuple(out)


async def build_timeline(
    db: asyncpg.Pool | asyncpg.Connection,
    report: Report,
    *,
    bucket_ms: int,
    from_ms: int = 0,
    to_ms: int | None = None,
) -> Timeline:
    """The timeline of a session whose (read-only) report is already built."""
    end = to_ms if to_ms is not None else max(int(report.duration_s * 1000) + 1, from_ms + 1)
    if end <= from_ms:
        raise ValueError("to_ms must be after from_ms")
    n = -(-(end - from_ms) // bucket_ms)
    if n > MAX_BUCKETS:
        least = -(-(end - from_ms) // MAX_BUCKETS)
        raise TooManyBuckets(f"bucket_ms must be at least {least} for this span ({n} buckets > {MAX_BUCKETS})")
    # Align buckets to multiples of bucket_ms so zoomed views line up with whole ones.
    from_ms -= from_ms % bucket_ms
    n = -(-(end - from_ms) // bucket_ms)
    sid = report.session_id
    face = await delivery_queries.face_series(db, sid, from_ms, end, bucket_ms)
    prosody = await delivery_queries.prosody_series(
        db, sid, from_ms, end, bucket_ms, min_f0_confidence=MIN_F0_CONFIDENCE, speaker_range=True
    )
    pace = await delivery_queries.wpm_series(db, sid, end, bucket_ms)
    events = await delivery_queries.speech_events(db, sid, MARKER_KINDS, t_from_ms=from_ms, t_to_ms=end)
    markers = tuple(
        Marker(e.kind, e.t_ms, e.duration_ms, e.value, e.label)
        for e in events
        if e.kind != "pause" or (e.duration_ms or 0) >= MIN_MARKED_PAUSE_MS
    )
    anchors = tuple(
        QuestionAnchor(
            question_id=a.question_id,
            seq=a.seq,
            text=a.question,
            asked_ms=a.asked_ms,
            answer_from_ms=a.t_from_ms,
            answer_to_ms=a.t_to_ms,
            responses=tuple(ResponseAnchor(r.id, r.start_ms, r.end_ms) for r in a.responses),
        )
        for a in report.answers
    )
    return Timeline(
        session_id=sid,
        partial=report.partial,
        bucket_ms=bucket_ms,
        from_ms=from_ms,
        to_ms=end,
        t_ms=tuple(from_ms + i * bucket_ms for i in range(n)),
        pace_wpm=_grid([(t, v) for t, v in pace if t >= from_ms], from_ms, bucket_ms, n),
        pitch_hz=_grid([(b.t_ms, b.f0_hz) for b in prosody], from_ms, bucket_ms, n),
        loudness_dbfs=_grid([(b.t_ms, b.loudness_dbfs) for b in prosody], from_ms, bucket_ms, n),
        face_visible=_grid([(b.t_ms, b.face_present_ratio) for b in face], from_ms, bucket_ms, n),
        gaze_on_camera=_grid([(b.t_ms, b.gaze_on_camera) for b in face], from_ms, bucket_ms, n),
        markers=markers,
        moments=tuple(m for m in report.key_moments if from_ms <= m.t_ms < end),
        anchors=anchors,
    )
