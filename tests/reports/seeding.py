"""A small interview session with known signals, written to the database for report tests.

Timeline (seconds on the signal clock, which starts at T0 = the session's started_at):

    Q1 asked at 1    answer 10–50 in two responses (10–29.6, 31–50), latency 1.5 s
    Q2 asked at 55   answer 60–100, a 4 s pause at 75–79, three fillers at 80–84, latency 2 s
    Q3 asked at 105  answer 110–150 (still open when the session is live), latency 1 s

Face samples at 10 Hz from 0 to 160 s: face visible, eyes on the camera, except 120–126 s
(eyes away: a look-away streak inside Q3) and 40–41 s (no face). Prosody at 10 Hz, voiced in
answers. Pace readings every 10 s of answer at 140 wpm, one spike of 210 wpm at 130 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from db import sessions as repo

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
QUESTIONS = (
    "Tell me about a time you disagreed with a colleague.",
    "Describe a project you are proud of.",
    "Tell me about a mistake you learned from.",
)
ANSWER = (
    "Last year at my company our team had a release deadline and a colleague wanted to skip testing. "
    "My task was to keep quality high without missing the date. I proposed a smaller test plan, "
    "I wrote the riskiest tests myself and I met with him to agree on priorities. As a result we "
    "shipped on time with zero critical bugs and I learned to raise concerns early with data."
)
FILLERS = ("um", "uh", "like")


@dataclass(frozen=True, slots=True)
class SeededSession:
    session_id: UUID
    question_ids: tuple[UUID, ...]
    response_ids: tuple[UUID, ...]


def words_over(text: str, seconds: float, *, gap_at: float | None = None, gap_s: float = 0.0) -> list[dict[str, Any]]:
    """The text's words spread evenly over `seconds`, with an optional silence after gap_at."""
    tokens = text.split()
    span = seconds - gap_s
    step = span / len(tokens)
    words, t = [], 0.0
    for token in tokens:
        if gap_at is not None and t >= gap_at and gap_s:
            t += gap_s
            gap_s = 0.0
        words.append({"w": token, "start": round(t, 3), "end": round(t + step * 0.8, 3), "p": 0.9})
        t += step
    return words


def face_rows(session_id: UUID, until_s: float = 160.0) -> list[tuple[Any, ...]]:
    rows = []
    for t_ms in range(0, int(until_s * 1000), 100):
        no_face = 40_000 <= t_ms < 41_000
        away = 120_000 <= t_ms < 126_000
        rows.append(
            (session_id, t_ms, not no_face, 0 if no_face else 1,
             None if no_face else 2.0, None if no_face else -1.0, None if no_face else 0.5,
             None if no_face else (0.2 if away else 0.9), None if no_face else 0.9, False,
             None if no_face else (0.7 if t_ms % 5000 < 500 else 0.1), None if no_face else 0.1,
             None if no_face else 0.92, 0.0 if no_face else 0.9)
        )  # fmt: skip
    return rows


FACE_COLUMNS = [
    "session_id", "t_ms", "face_present", "num_faces", "yaw", "pitch", "roll", "gaze_on_camera",
    "eye_open", "blink", "smile", "brow_raise", "stability", "quality",
]  # fmt: skip
ANSWER_SPANS_S = ((10.0, 50.0), (60.0, 100.0), (110.0, 150.0))


def prosody_rows(session_id: UUID, until_s: float = 160.0) -> list[tuple[Any, ...]]:
    rows = []
    for t_ms in range(0, int(until_s * 1000), 100):
        voiced = any(a * 1000 <= t_ms < b * 1000 for a, b in ANSWER_SPANS_S) and not 75_000 <= t_ms < 79_000
        rows.append((session_id, t_ms, -20.0 if voiced else -55.0, voiced, 180.0 if voiced else None, 0.9 if voiced else None))
    return rows


def speech_event_rows(session_id: UUID) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        (session_id, 10_000, "response_latency", None, 1.5, None),
        (session_id, 60_000, "response_latency", None, 2.0, None),
        (session_id, 110_000, "response_latency", None, 1.0, None),
        (session_id, 75_000, "pause", 4000, 4.0, None),
        (session_id, 20_000, "pause", 600, 0.6, None),
        (session_id, 80_000, "filler", None, None, "um"),
        (session_id, 82_000, "filler", None, None, "uh"),
        (session_id, 84_000, "filler", None, None, "like"),
        (session_id, 140_000, "filler", None, None, "kind of"),
        (session_id, 130_000, "wpm", None, 210.0, None),
        (session_id, 90_000, "nudge", None, 3.0, "silence"),
    ]
    for a, b in ANSWER_SPANS_S:
        t = a + 5
        while t < b:
            if round(t * 1000) != 130_000:
                rows.append((session_id, round(t * 1000), "wpm", None, 140.0, None))
            t += 10
    return rows


async def seed_session(
    db: asyncpg.Pool | asyncpg.Connection,
    user_id: UUID,
    *,
    status: str = "completed",
    round_type: str = "behavioral",
    started_at: datetime = T0,
    answer: str = ANSWER,
    bank_ids: Sequence[str | None] = (None, None, None),
    signals: bool = True,
) -> SeededSession:
    """The three-question session above, ended (completed) or still live."""
    session = await repo.create_session(
        db, user_id=user_id, role_track="software_engineer", round_type=round_type,
        difficulty="medium", duration_min=10, persona="alex",
    )  # fmt: skip
    sid = session.id
    await repo.mark_live(db, sid, started_at)
    at = lambda s: started_at + timedelta(seconds=s)  # noqa: E731
    qids = []
    for seq, (text, asked) in enumerate(zip(QUESTIONS, (1.0, 55.0, 105.0), strict=True), start=1):
        qids.append(await repo.add_question(db, sid, seq, text, "bank", bank_ids[seq - 1], "alex", at(asked)))
    half = len(answer.split()) // 2
    first, second = " ".join(answer.split()[:half]), " ".join(answer.split()[half:])
    rids = [
        await repo.add_response(db, sid, qids[0], first, at(10), at(29.6), words_over(first, 19.6)),
        await repo.add_response(db, sid, qids[0], second, at(31), at(50), words_over(second, 19.0)),
        await repo.add_response(
            db, sid, qids[1], "um uh like " + answer, at(60), at(100),
            words_over("um uh like " + answer, 40.0, gap_at=15.0, gap_s=4.0),
        ),
        await repo.add_response(db, sid, qids[2], answer, at(110), at(150), words_over(answer, 40.0)),
    ]
    if signals:
        conn = db if isinstance(db, asyncpg.Connection) else None
        if conn is None:
            async with db.acquire() as c:
                await _copy_signals(c, sid)
        else:
            await _copy_signals(conn, sid)
    if status != "live":
        await repo.mark_ended(db, sid, status, at(160), "interview_finished")
    return SeededSession(sid, tuple(qids), tuple(rids))


async def _copy_signals(conn: asyncpg.Connection, sid: UUID) -> None:
    await conn.copy_records_to_table("face_samples", records=face_rows(sid), columns=FACE_COLUMNS)
    await conn.copy_records_to_table(
        "prosody_windows",
        records=prosody_rows(sid),
        columns=["session_id", "t_ms", "loudness_dbfs", "voiced", "f0_hz", "f0_confidence"],
    )
    await conn.copy_records_to_table(
        "speech_events",
        records=speech_event_rows(sid),
        columns=["session_id", "t_ms", "kind", "duration_ms", "value", "label"],
    )
