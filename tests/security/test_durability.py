"""Durability a probe broke: an answer dropped during a database outage, and a `kill -9` that lost
the signal counters and speech events and left its sessions live for good.

The outage test runs the whole app in this process against a PostgreSQL of its own, stopped for
15 s while the candidate answers. The crash test runs `greenroom serve` as a process, kills it
with SIGKILL mid-interview, and starts it again on the same database and data directory. The
last test times the sweep that ends a live session whose process is gone.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from agent.question_bank import QuestionBank
from agent.worker import VoiceModels
from bench.live_server import ServerProcess, serve, serve_process
from bench.rtc_client import Camera, Microphone, RoomClient, Speech
from db import sessions as repo
from db.embedded import EmbeddedPostgres
from greenroom.interviews import Interviews
from greenroom.server import build_app
from greenroom.settings import Settings
from media.room_server import Room
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    ANSWER_KEYWORDS,
    GREETING_TIMEOUT_S,
    NEW_SESSION,
    REPLY_TIMEOUT_S,
    Candidate,
    _answer,
    _hear_first_question,
    answer_speech,
    eventually,
    voice_models,
)
from tests.users import PLAIN_SESSION, TEST_PASSWORD, make_user, new_email

OUTAGE_S = 15.0
# The crashed server notes its sessions and saves their counters this often.
RESTART_GRACE_S = 6.0
HEARTBEAT_S = 1.0
# At the kill, the saved counters are this recent at worst: a heartbeat, its queries, and the
# lag of a busy server's event loop (nearly 3 s seen on a loaded 2-core machine).
SAVED_WITHIN_S = HEARTBEAT_S + 2.5
# Prosody windows per second of candidate audio (100 ms windows).
WINDOWS_PER_S = 10


async def _sign_up_and_schedule(http: httpx.AsyncClient, sessions: int = 1) -> list[dict[str, Any]]:
    response = await http.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})
    assert response.status_code == 201, response.text
    scheduled = []
    for _ in range(sessions):
        response = await http.post("/v1/sessions", json=NEW_SESSION)
        assert response.status_code == 201, response.text
        scheduled.append(response.json())
    return scheduled


async def _join(base_url: str, body: dict[str, Any], camera: Camera | None = None) -> Candidate:
    """Joins a session's room as its candidate, with a microphone; waits for the media."""
    ws_url = base_url.replace("http://", "ws://", 1) + body["room"]["signal_url"]
    client = await RoomClient.connect(ws_url)
    await client.join(body["room"]["token"])
    microphone = Microphone()
    voice = await client.publish(microphone, camera=camera)
    return Candidate(client, microphone, voice)


async def _transcript_rows(url: str, session_id: str) -> dict[str, list[asyncpg.Record]]:
    conn = await asyncpg.connect(url)
    try:
        sid = uuid.UUID(session_id)
        return {
            "questions": await conn.fetch(
                "SELECT id, seq, asked_at FROM questions WHERE session_id = $1 ORDER BY seq", sid
            ),
            "responses": await conn.fetch(
                "SELECT question_id, transcript, started_at FROM responses WHERE session_id = $1", sid
            ),
        }
    finally:
        await conn.close()


# -- a 15 s outage while the candidate answers ---------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, to stop and start without touching the other tests'."""
    # A short path: the server's Unix socket lives in it (socket paths are capped at 107 bytes).
    with tempfile.TemporaryDirectory(prefix="gr-outage-") as data_dir:
        embedded = EmbeddedPostgres(Path(data_dir))
        embedded.start()
        try:
            yield embedded
        finally:
            embedded.stop()


async def test_an_answer_given_during_a_15_s_outage_is_stored_once_in_order(
    own_postgres: EmbeddedPostgres,
    voice_models: VoiceModels,
    answer_speech: Speech,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = Settings(
        database_url=own_postgres.url,
        data_dir=tmp_path / "data",
        ice_bind_addresses=["127.0.0.1"],
        token_api_secret=SecretStr("durability-test-secret-0123456789abcdef"),
        _env_file=None,
    )
    app = build_app(settings, models=voice_models)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=15) as http:
        (body,) = await _sign_up_and_schedule(http)
        session_id = body["session"]["id"]
        candidate = await _join(base_url, body)
        try:
            first = await _hear_first_question(candidate)
            await candidate.voice.quiet_for(1.0, timeout=GREETING_TIMEOUT_S)
            said = candidate.microphone.say(answer_speech)
            await asyncio.sleep(0.5)  # the answer has begun: the database goes away
            down_at = time.monotonic()
            await asyncio.to_thread(own_postgres.stop)

            await asyncio.wait_for(said, answer_speech.duration_s + 10)
            # The interview goes on without the database: the next question is asked. The
            # database stays away for OUTAGE_S, and longer if the reply is slower than that
            # (a loaded machine), so the reply is always made during the outage.
            second = await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)
            await asyncio.sleep(max(0.0, down_at + OUTAGE_S - time.monotonic()))
            await asyncio.to_thread(own_postgres.start)
            back_at = time.monotonic()
            outage_s = back_at - down_at

            rows = await eventually(
                lambda: _transcript_rows(own_postgres.url, session_id),
                lambda r: len(r["questions"]) == 2 and len(r["responses"]) == 1,
                timeout=15,
            )
            stored_after_s = time.monotonic() - back_at
        finally:
            await candidate.client.close()

    # Stored exactly once, in the order it happened, the answer under the question it answers.
    q1, q2 = rows["questions"]
    (response,) = rows["responses"]
    assert (q1["seq"], q2["seq"]) == (first["seq"], second["seq"]) == (1, 2)
    assert response["question_id"] == q1["id"]
    assert q1["asked_at"] < response["started_at"] < q2["asked_at"]
    heard = response["transcript"].lower()
    assert sum(k in heard for k in ANSWER_KEYWORDS) >= len(ANSWER_KEYWORDS) - 2, heard
    # Written during the outage (the answer, the next question, the reply's latency), spooled,
    # and replayed once the database was back.
    writer = app.state.interviews.writer
    assert writer.spooled >= 2 and writer.replayed == writer.spooled and writer.dropped == 0
    assert stored_after_s < 5.0
    print(f"outage {outage_s:.0f} s: {writer.spooled} writes spooled, stored {stored_after_s:.1f} s after the database came back")
    dropped = [r.getMessage() for r in caplog.records if "interview write dropped" in r.getMessage()]
    assert not dropped, dropped


# -- kill -9 --------------------------------------------------------------------------------------


async def _db_fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def _start_server(stack: ExitStack, url: str, data_dir: Path, **settings: str) -> ServerProcess:
    started = time.monotonic()
    server = await asyncio.to_thread(stack.enter_context, serve_process(url, data_dir, **settings))
    print(f"greenroom serve up in {time.monotonic() - started:.1f} s")
    return server


async def test_a_killed_server_loses_seconds_at_most_and_leaves_no_session_live_for_good(
    make_database: Any, answer_speech: Speech, tmp_path: Path
) -> None:
    url = await make_database()  # empty: the server migrates it, as on a first start
    data_dir = tmp_path / "data"
    settings = {
        "session_heartbeat_s": str(HEARTBEAT_S),
        # Longer than a restart takes, so the candidate can come back (the default is 20 s).
        "reconnect_grace_s": "60",
        "turn_audio_model": "false",  # a faster start; turn-taking is not what is tested here
    }
    with ExitStack() as stack:
        crashed = await _start_server(stack, url, data_dir, **settings)
        async with httpx.AsyncClient(base_url=crashed.url, timeout=15) as http:
            answered, idle = await _sign_up_and_schedule(http, sessions=2)
        sid = answered["session"]["id"]
        candidate = await _join(crashed.url, answered)
        await _hear_first_question(candidate)
        await _answer(candidate, answer_speech)
        second = await candidate.client.next_event("question", timeout=REPLY_TIMEOUT_S)
        # A second candidate joins, and stays until the crash.
        other = await _join(crashed.url, idle)
        await other.client.next_event("question", timeout=GREETING_TIMEOUT_S)
        await asyncio.sleep(2 * HEARTBEAT_S)

        killed_at = datetime.now(UTC)  # the moment of the kill, not of noticing it
        crashed.process.kill()  # SIGKILL: nothing runs on the way out
        await asyncio.to_thread(crashed.process.wait)
        crashed_log = crashed.log.read_text()  # the restarted server writes the same file
        await candidate.client.close()
        await other.client.close()

        # What the dead process had saved: its counters as of a second or two before the kill,
        # and the first answer's speech events.
        (stats,) = await _db_fetch(url, "SELECT * FROM signal_stats WHERE session_id = $1", uuid.UUID(sid))
        prosody_rows = (await _db_fetch(url, "SELECT count(*) FROM prosody_windows WHERE session_id = $1", uuid.UUID(sid)))[0][0]
        kinds = {r["kind"] for r in await _db_fetch(url, "SELECT kind FROM speech_events WHERE session_id = $1", uuid.UUID(sid))}
        print(
            f"at the kill: counters saved {(killed_at - stats['updated_at']).total_seconds():.1f} s before, "
            f"audio_windows {stats['audio_windows']} vs {prosody_rows} prosody rows; speech events {sorted(kinds)}"
        )
        assert killed_at - stats["updated_at"] < timedelta(seconds=SAVED_WITHIN_S)
        assert stats["audio_windows"] > 0 and stats["rows_written"] > 0
        assert abs(stats["audio_windows"] - prosody_rows) <= WINDOWS_PER_S * SAVED_WITHIN_S
        assert "response_latency" in kinds  # the first answer's
        statuses = await _db_fetch(
            url, "SELECT id, status FROM sessions WHERE id = ANY($1::uuid[])", [uuid.UUID(sid), uuid.UUID(idle["session"]["id"])]
        )
        assert {r["status"] for r in statuses} == {"live"}

        # The idle candidate never comes back: as if the crash were an hour ago, past any grace.
        await _db_fetch(
            url, "UPDATE sessions SET heartbeat_at = heartbeat_at - interval '1 hour' WHERE id = $1", uuid.UUID(idle["session"]["id"])
        )
        # The grace counts from the restart (while no server ran, nobody could come back):
        # a short one here, so the idle session is abandoned within the test.
        restarted = await _start_server(stack, url, data_dir, **{**settings, "reconnect_grace_s": str(RESTART_GRACE_S)})
        # The first candidate rejoins within the grace period, as the page does on its own.
        again = await _join(restarted.url, answered)
        try:
            resumed = await again.client.next_event("question", timeout=GREETING_TIMEOUT_S)
            assert resumed["seq"] == second["seq"]  # the unanswered question, put again
            (abandoned,) = await eventually(
                lambda: _db_fetch(
                    url, "SELECT status, end_reason, ended_at, heartbeat_at FROM sessions WHERE id = $1", uuid.UUID(idle["session"]["id"])
                ),
                lambda rows: rows[0]["status"] != "live",
                timeout=RESTART_GRACE_S + 4 * HEARTBEAT_S + 10,
            )
            assert (abandoned["status"], abandoned["end_reason"]) == ("abandoned", "server_lost")
            assert abandoned["ended_at"] == abandoned["heartbeat_at"] < killed_at - timedelta(minutes=59)
            # The restarted process's counters add to those the dead one saved.
            await eventually(
                lambda: _db_fetch(url, "SELECT audio_windows FROM signal_stats WHERE session_id = $1", uuid.UUID(sid)),
                lambda rows: rows[0]["audio_windows"] > stats["audio_windows"],
            )
            (status,) = await _db_fetch(url, "SELECT status FROM sessions WHERE id = $1", uuid.UUID(sid))
            assert status["status"] == "live"
        finally:
            await again.client.close()
    assert "interview write dropped" not in crashed_log


async def test_a_live_session_no_process_holds_is_abandoned_once_the_grace_has_passed(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    # A grace long enough that "still live at 0.6 s" holds however slowly this machine runs.
    settings = settings.model_copy(update={"reconnect_grace_s": 3.0, "session_heartbeat_s": 0.2})
    user_id = await make_user(pool)
    orphan, held = [(await repo.create_session(pool, user_id=user_id, persona="alex", **PLAIN_SESSION)).id for _ in range(2)]
    for session_id in (orphan, held):  # live since a moment ago, in a process that then died
        await repo.mark_live(pool, session_id, datetime.now(UTC))
    models = VoiceModels(vad=None, whisper=None, piper=None)  # type: ignore[arg-type]
    interviews = Interviews(settings, pool, models, QuestionBank.load())
    interviews.rooms.rooms[str(held)] = Room(str(held))  # this process holds the other one's room
    await interviews.start()
    try:
        await asyncio.sleep(0.6)
        assert (await repo.get_session(pool, orphan)).status == "live"  # within the grace
        await eventually(lambda: repo.get_session(pool, orphan), lambda s: s.status == "abandoned", timeout=15)
        ended = await repo.get_session(pool, orphan)
        assert ended.end_reason == "server_lost"
        assert (await repo.get_session(pool, held)).status == "live"
    finally:
        await interviews.aclose()
