"""A live interview picked up by a restarted server: what was asked is neither repeated nor rewritten.

Two apps share one database; the first one's rooms are shut down as a server shutdown would,
and the same candidate rejoins the second with their room token, as the page does on its own.
"""

from __future__ import annotations

import logging
import uuid

import asyncpg
import pytest

from bench.rtc_client import Speech
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    GREETING_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    StartGreenroom,
    _answer,
    _hear_first_question,
    _question_seqs,
    answer_speech,
    eventually,
    start_greenroom,
    voice_models,
)


async def _answered_seqs(pool: asyncpg.Pool, session_id: str) -> list[int]:
    rows = await pool.fetch(
        """
        SELECT q.seq FROM responses r JOIN questions q ON q.id = r.question_id
        WHERE r.session_id = $1 ORDER BY q.seq
        """,
        uuid.UUID(session_id),
    )
    return [r["seq"] for r in rows]


async def _signal_stats(pool: asyncpg.Pool, session_id: str) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM signal_stats WHERE session_id = $1", uuid.UUID(session_id))
    assert row is not None, "no signal counters stored"
    return row


async def test_restarted_server_resumes_the_interview_where_it_stopped(
    start_greenroom: StartGreenroom,
    pool: asyncpg.Pool,
    answer_speech: Speech,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agent.worker")
    before = await start_greenroom()
    body = await before.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await before.join_as_candidate(session_id, body["room"]["token"])
    first = await _hear_first_question(candidate)
    await _answer(candidate, answer_speech)
    second = await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)
    assert await eventually(lambda: _question_seqs(pool, session_id), lambda s: s == [1, 2])
    assert await eventually(lambda: _answered_seqs(pool, session_id), lambda s: s == [1])

    await before.app.state.rooms.aclose()  # the server process goes away mid-interview
    stats_before = await _signal_stats(pool, session_id)
    last_t_ms_before = await pool.fetchval(
        "SELECT max(t_ms) FROM prosody_windows WHERE session_id = $1", uuid.UUID(session_id)
    )
    after = await start_greenroom()
    again, _ = await after.join_as_candidate(session_id, body["room"]["token"])
    resumed = await again.client.next_event("question", timeout=GREETING_TIMEOUT_S)

    # The unanswered question is put again under its stored seq; the greeting is not repeated.
    assert resumed["seq"] == second["seq"] > first["seq"]
    assert resumed["text"] == second["text"]
    caption = await again.client.next_event("caption", timeout=GREETING_TIMEOUT_S)
    while caption["speaker"] != "interviewer" or not caption["final"]:
        caption = await again.client.next_event("caption", timeout=GREETING_TIMEOUT_S)
    assert caption["text"].startswith("Welcome back")
    await _answer(again, answer_speech)
    following = await again.client.next_event("question", timeout=REPLY_TIMEOUT_S)
    assert following["seq"] == resumed["seq"] + 1
    assert await eventually(lambda: _question_seqs(pool, session_id), lambda s: s == [1, 2, 3])
    assert await eventually(lambda: _answered_seqs(pool, session_id), lambda s: s == [1, 2])
    await after.app.state.rooms.aclose()
    # Both processes' counters are kept, and the resumed rows follow the stored ones on the
    # session's clock instead of starting again at t_ms 0 among them.
    stats_after = await _signal_stats(pool, session_id)
    assert stats_after["audio_windows"] > stats_before["audio_windows"] > 0
    resumed_rows = await pool.fetchval(
        "SELECT count(*) FROM prosody_windows WHERE session_id = $1 AND t_ms > $2",
        uuid.UUID(session_id),
        last_t_ms_before,
    )
    assert resumed_rows == stats_after["audio_windows"] - stats_before["audio_windows"]
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]
    assert any(r.getMessage() == "interview resumed" for r in caplog.records)
