"""The embedded rooms' hooks: the candidate's delivery-capture choice honoured."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import numpy as np
import pytest

from agent.question_bank import QuestionBank
from agent.worker import VoiceModels
from bench.rtc_client import CAMERA_FPS, Camera
from db.delivery_store import DeliveryStore
from greenroom.interviews import Interviews
from greenroom.settings import Settings
from media.live_feed import LiveFeeds
from media.room_server import Room

SIGNAL_TABLES = ("face_samples", "prosody_windows", "speech_events", "signal_stats")


async def new_session(pool: asyncpg.Pool, *, capture_signals: bool) -> uuid.UUID:
    """A scheduled session of a new user, with the candidate's capture choice."""
    user_id = await pool.fetchval(
        "INSERT INTO users (email, display_name) VALUES ($1, 'Capture test') RETURNING id",
        f"capture-{secrets.token_hex(6)}@greenroom.invalid",
    )
    return await pool.fetchval(
        """
        INSERT INTO sessions (user_id, role_track, round_type, difficulty, duration_min,
                              persona, capture_signals)
        VALUES ($1, 'software_engineer', 'behavioral', 'medium', 10, 'alex', $2)
        RETURNING id
        """,
        user_id,
        capture_signals,
    )


async def until(what: str, count: Callable[[], int], at_least: int, timeout_s: float = 30.0) -> None:
    """Waits until count() reaches at_least (how soon depends on the machine's load)."""
    try:
        async with asyncio.timeout(timeout_s):
            while count() < at_least:
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"{what}: {count()} within {timeout_s:.0f} s, wanted at least {at_least}")


async def signal_rows(pool: asyncpg.Pool, session_id: uuid.UUID) -> dict[str, int]:
    return {
        table: await pool.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", session_id)
        for table in SIGNAL_TABLES
    }


@pytest.fixture
async def interviews(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Interviews]:
    """Interviews with a real signal store and feeds; no voice models (video only here)."""
    store = DeliveryStore.from_settings(settings, settings.database_url)
    await store.start()
    # Only the audio track starts an interviewer, so the video path needs no speech models.
    models = VoiceModels(vad=None, whisper=None, piper=None)  # type: ignore[arg-type]
    interviews = Interviews(settings, pool, models, QuestionBank.load(), store=store, feeds=LiveFeeds())
    try:
        yield interviews
    finally:
        await interviews.aclose()
        await store.aclose()


async def test_declined_capture_analyses_no_frame_and_stores_no_signal(
    interviews: Interviews, pool: asyncpg.Pool
) -> None:
    session_id = await new_session(pool, capture_signals=False)
    room = Room(str(session_id))
    camera = Camera([np.full((240, 320, 3), 128, dtype=np.uint8)])

    await interviews.candidate_track(room, camera)
    # The camera runs for two seconds' worth of frames: they are drained, not analysed.
    await until("camera frames sent", lambda: camera.frames_sent, 2 * CAMERA_FPS)

    assert interviews.signals == {}  # no consumer was made for the session
    await interviews.room_closed(room, "completed")
    camera.stop()
    assert await signal_rows(pool, session_id) == dict.fromkeys(SIGNAL_TABLES, 0)


async def test_accepted_capture_analyses_frames_and_stores_signals(
    interviews: Interviews, pool: asyncpg.Pool
) -> None:
    session_id = await new_session(pool, capture_signals=True)
    room = Room(str(session_id))
    camera = Camera([np.full((240, 320, 3), 128, dtype=np.uint8)])

    await interviews.candidate_track(room, camera)
    assert set(interviews.signals) == {str(session_id)}
    signals = interviews.signals[str(session_id)]
    await until("frames analysed", lambda: signals.stats().frames_analysed, 1)

    await interviews.room_closed(room, "completed")
    camera.stop()
    rows = await signal_rows(pool, session_id)
    assert rows["face_samples"] > 0
    assert rows["signal_stats"] == 1
    frames_analysed = await pool.fetchval(
        "SELECT frames_analysed FROM signal_stats WHERE session_id = $1", session_id
    )
    assert frames_analysed > 0
