"""The signals CSV streams from a server-side cursor: a large session is never held in memory."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest

from db import sessions as repo
from db.delivery import SIGNAL_CSV_COLUMNS
from reports.csv_export import stream_signals_csv
from tests.users import make_user

ROWS = 100_000


@pytest.fixture(scope="module")
async def large_session(pool: asyncpg.Pool) -> AsyncIterator[UUID]:
    """A session with 100k face samples, 20k prosody windows and a few speech events."""
    user_id = await make_user(pool)
    session = await repo.create_session(
        pool, user_id=user_id, role_track="general", round_type="behavioral", difficulty="easy",
        duration_min=30, persona="alex",
    )  # fmt: skip
    sid = session.id
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "face_samples",
            records=((sid, t * 10, True, 1, 1.5, -2.0, 0.25, 0.8, 0.9, False, 0.1, 0.05, 0.95, 0.9) for t in range(ROWS)),
            columns=["session_id", "t_ms", "face_present", "num_faces", "yaw", "pitch", "roll", "gaze_on_camera",
                     "eye_open", "blink", "smile", "brow_raise", "stability", "quality"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "prosody_windows",
            records=((sid, t * 50, -20.5, True, 180.0, 0.9) for t in range(ROWS // 5)),
            columns=["session_id", "t_ms", "loudness_dbfs", "voiced", "f0_hz", "f0_confidence"],
        )
        await conn.copy_records_to_table(
            "speech_events",
            records=[(sid, 5_000, "filler", None, None, "=HYPERLINK(\"x\")"), (sid, 7_000, "pause", 3000, 3.0, None)],
            columns=["session_id", "t_ms", "kind", "duration_ms", "value", "label"],
        )
    try:
        yield sid
    finally:
        await repo.delete_session(pool, sid)


async def test_large_session_streams_in_bounded_memory(pool: asyncpg.Pool, large_session: UUID) -> None:
    chunks = 0
    lines = 0
    biggest_chunk = 0
    tracemalloc.start()
    try:
        async for chunk in stream_signals_csv(pool, large_session, chunk_rows=2000):
            chunks += 1
            lines += chunk.count(b"\n")
            biggest_chunk = max(biggest_chunk, len(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = ROWS + ROWS // 5 + 2
    assert lines == total + 1  # and the header
    assert chunks >= total // 2000
    # All 120k rows as records would take well over 50 MB; a chunk of 2000 takes a few.
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert biggest_chunk < 512 * 1024


async def test_csv_is_time_ordered_with_one_column_set(pool: asyncpg.Pool, large_session: UUID) -> None:
    body = b"".join([c async for c in stream_signals_csv(pool, large_session)]).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert tuple(rows[0]) == SIGNAL_CSV_COLUMNS
    times = [int(r[1]) for r in rows[1:]]
    assert times == sorted(times)
    face = next(r for r in rows[1:] if r[0] == "face")
    assert face[2] == "true" and face[4] == "1.5" and face[7] == "0.8"  # exact text, no float noise
    speech = [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[0] == "speech"]
    assert {s["event"] for s in speech} == {"filler", "pause"}
    assert next(s for s in speech if s["event"] == "filler")["label"].startswith("'=")  # formula defused
