"""The candidate's "analyse my delivery" choice, honoured in a live interview over real WebRTC.

A session with capture off still runs the interview and keeps its transcript, but no delivery
signal consumer is started: no frame or sound is measured, nothing is stored, nothing nudges.
"""

from __future__ import annotations

import secrets
import uuid

import asyncpg
import numpy as np
import pytest

from bench.rtc_client import Camera, Microphone, Speech
from tests.media.test_signalling import (  # noqa: F401 - fixtures used by name
    REPLY_TIMEOUT_S,
    Candidate,
    StartGreenroom,
    _answer,
    _hear_first_question,
    _issuer,
    _responses,
    answer_speech,
    eventually,
    start_greenroom,
    voice_models,
)

SIGNAL_TABLES = ("face_samples", "prosody_windows", "speech_events", "signal_stats")


async def new_session(pool: asyncpg.Pool, *, capture_signals: bool) -> str:
    """A scheduled session of a new user, with the candidate's capture choice."""
    user_id = await pool.fetchval(
        "INSERT INTO users (email, display_name) VALUES ($1, 'Capture test') RETURNING id",
        f"capture-{secrets.token_hex(6)}@greenroom.invalid",
    )
    session_id = await pool.fetchval(
        """
        INSERT INTO sessions (user_id, role_track, round_type, difficulty, duration_min,
                              persona, consent_version, consented_at, capture_signals)
        VALUES ($1, 'software_engineer', 'behavioral', 'medium', 10, 'alex', 'test', now(), $2)
        RETURNING id
        """,
        user_id,
        capture_signals,
    )
    return str(session_id)


async def signal_rows(pool: asyncpg.Pool, session_id: str) -> dict[str, int]:
    sid = uuid.UUID(session_id)
    return {
        table: await pool.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", sid)
        for table in SIGNAL_TABLES
    }


@pytest.mark.parametrize("capture_signals", [False, True], ids=["capture-off", "capture-on"])
async def test_capture_choice_decides_whether_delivery_is_measured(
    start_greenroom: StartGreenroom, pool: asyncpg.Pool, answer_speech: Speech, capture_signals: bool
) -> None:
    greenroom = await start_greenroom()
    interviews = greenroom.app.state.interviews
    session_id = await new_session(pool, capture_signals=capture_signals)
    client = await greenroom.connect(session_id)
    await client.join(_issuer().issue(session_id, "candidate-1", "candidate"))
    microphone = Microphone()
    camera = Camera([np.full((240, 320, 3), 128, dtype=np.uint8)])
    candidate = Candidate(client, microphone, await client.publish(microphone, camera=camera))

    question = await _hear_first_question(candidate)
    await _answer(candidate, answer_speech)
    said = await eventually(lambda: _responses(pool, session_id), bool, timeout=REPLY_TIMEOUT_S)

    # The interview itself runs either way, and what the candidate said is kept.
    assert question["source"] == "bank"
    assert " ".join(said).strip()
    runner = interviews.runners[session_id]
    if capture_signals:
        assert runner.signals is not None and interviews.signals[session_id] is runner.signals
    else:
        assert runner.signals is None
        assert session_id not in interviews.signals
    assert camera.frames_sent > 0

    await greenroom.app.state.rooms.close_room(session_id, "completed")

    rows = await signal_rows(pool, session_id)
    if capture_signals:
        assert rows["prosody_windows"] > 0
        assert rows["face_samples"] > 0
        assert rows["signal_stats"] == 1
    else:
        assert rows == dict.fromkeys(SIGNAL_TABLES, 0)
        assert not [e for e in client.events if e.get("type") == "nudge"]
