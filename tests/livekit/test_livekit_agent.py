"""The interviewer as a livekit-agents worker (`greenroom agent`), on a real LiveKit server.

The worker runs as a subprocess, as a deployment runs it; the test makes the session's room and
dispatches the worker to it with livekit-api, then joins as the candidate with livekit.rtc
(espeak-ng speech on the microphone, a synthetic face on the camera).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from livekit import api, rtc

from api.tokens import ROLE_ATTRIBUTE, TokenIssuer
from bench.face_media import camera_frames
from bench.livekit_client import LiveKitCandidate
from bench.livekit_server import LiveKitServer
from bench.rtc_client import Speech, espeak
from greenroom.settings import Settings

REPO = Path(__file__).resolve().parents[2]
# A behavioral answer with an example and a result, so the interviewer moves on.
ANSWER = (
    "At my last job I rewrote a slow database query, and as a result "
    "our checkout page loaded twice as fast."
)
ANSWER_KEYWORDS = ("database", "query", "checkout", "fast")
WORKER_READY_TIMEOUT_S = 120.0  # the models load first
GREETING_TIMEOUT_S = 60.0
PRACTICE_QUESTION_ID = "beh-team-project-proud"
REPLY_TIMEOUT_S = 45.0


@dataclass
class Worker:
    """A `greenroom agent` process and its log."""

    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def registered(self, timeout: float = WORKER_READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while "registered worker" not in self.log_text():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.log_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not register within {timeout:.0f} s:\n{self.log_text()[-4000:]}")
            await asyncio.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


StartWorker = Callable[[], Awaitable[Worker]]


@pytest.fixture
def agent_name() -> str:
    """A dispatch name of this test's own: no other worker takes its jobs."""
    return f"greenroom-test-{secrets.token_hex(4)}"


@pytest.fixture
def start_worker(
    livekit_settings: Settings, agent_name: str, tmp_path: Path
) -> Iterator[StartWorker]:
    """Starts `greenroom agent dev` processes pointed at the test's LiveKit server and database;
    they are stopped after the test."""
    secret = livekit_settings.livekit_api_secret
    assert secret is not None and livekit_settings.database_url
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GREENROOM_", "LIVEKIT_"))},
        "DATABASE_URL": livekit_settings.database_url,
        "GREENROOM_DATA_DIR": str(tmp_path / "worker-data"),
        "GREENROOM_LIVEKIT_AGENT_NAME": agent_name,
        "LIVEKIT_URL": livekit_settings.livekit_url or "",
        "LIVEKIT_API_KEY": livekit_settings.livekit_api_key or "",
        "LIVEKIT_API_SECRET": secret.get_secret_value(),
        "ORT_DISABLE_TELEMETRY": "1",
    }
    workers: list[Worker] = []

    async def start() -> Worker:
        log = tmp_path / f"worker-{len(workers) + 1}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "greenroom.cli", "agent", "dev", "--log-level", "INFO"],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log)
        workers.append(worker)
        await worker.registered()
        return worker

    yield start
    for worker in workers:
        worker.stop()
        # Shown by pytest only when the test failed: what the worker heard and decided.
        print(f"--- {worker.log.name} (last 120 lines) ---")
        print("\n".join(worker.log_text().splitlines()[-120:]))


@pytest.fixture(scope="session")
def answer_speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed to synthesize the candidate's speech: apt-get install espeak-ng")
    return espeak(ANSWER, tmp_path_factory.mktemp("speech"), speed=175)


@pytest.fixture
async def lkapi(livekit_server: LiveKitServer) -> AsyncIterator[api.LiveKitAPI]:
    async with api.LiveKitAPI(livekit_server.http_url, livekit_server.api_key, livekit_server.api_secret) as client:
        yield client


async def new_session(pool: asyncpg.Pool, *, practice_question_id: str | None = None) -> uuid.UUID:
    """A scheduled 10-minute behavioral session of a new user, delivery signals on (one bank
    question only, given practice_question_id)."""
    user_id = await pool.fetchval(
        "INSERT INTO users (email, display_name) VALUES ($1, 'LiveKit test') RETURNING id",
        f"livekit-{secrets.token_hex(6)}@greenroom.invalid",
    )
    return await pool.fetchval(
        """
        INSERT INTO sessions (user_id, role_track, round_type, difficulty, duration_min,
                              persona, capture_signals, practice_question_id)
        VALUES ($1, 'software_engineer', 'behavioral', 'medium', 10, 'alex', true, $2)
        RETURNING id
        """,
        user_id,
        practice_question_id,
    )


async def open_room(lkapi: api.LiveKitAPI, session_id: uuid.UUID, agent_name: str) -> None:
    """Makes the session's room and dispatches the interviewer to it, as the API does."""
    await lkapi.room.create_room(api.CreateRoomRequest(name=str(session_id), empty_timeout=120))
    await dispatch(lkapi, session_id, agent_name)


async def dispatch(lkapi: api.LiveKitAPI, session_id: uuid.UUID, agent_name: str) -> None:
    await lkapi.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(
            agent_name=agent_name, room=str(session_id), metadata=json.dumps({"session_id": str(session_id)})
        )
    )


async def join_as_candidate(settings: Settings, session_id: uuid.UUID, *, camera: bool) -> LiveKitCandidate:
    secret = settings.livekit_api_secret
    assert secret is not None and settings.livekit_url and settings.livekit_api_key
    issuer = TokenIssuer(
        settings.livekit_api_key, secret.get_secret_value(), 600, transport="livekit", server_url=settings.livekit_url
    )
    token = issuer.issue(str(session_id), f"candidate-{secrets.token_hex(3)}", "candidate", "Candidate")
    return await LiveKitCandidate.join(
        settings.livekit_url, token, camera_frames=camera_frames(30) if camera else None
    )


async def join_as_coach(settings: Settings, session_id: uuid.UUID) -> rtc.Room:
    """A coach's receive-only, hidden connection to the room."""
    secret = settings.livekit_api_secret
    assert secret is not None and settings.livekit_url and settings.livekit_api_key
    issuer = TokenIssuer(
        settings.livekit_api_key, secret.get_secret_value(), 600, transport="livekit", server_url=settings.livekit_url
    )
    room = rtc.Room()
    await room.connect(settings.livekit_url, issuer.issue(str(session_id), "coach-1", "coach", "Coach"))
    return room


async def eventually(
    fetch: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool], *, timeout: float = 15.0
) -> Any:
    """Polls until accept(fetch()); returns the accepted value, or fails with the last one."""
    value = None
    try:
        async with asyncio.timeout(timeout):
            while not accept(value := await fetch()):
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"not reached within {timeout:.0f} s; last value: {value!r}")
    return value


async def question_seqs(pool: asyncpg.Pool, session_id: uuid.UUID) -> list[int]:
    rows = await pool.fetch("SELECT seq FROM questions WHERE session_id = $1 ORDER BY seq", session_id)
    return [r["seq"] for r in rows]


async def answered_seqs(pool: asyncpg.Pool, session_id: uuid.UUID) -> list[int]:
    rows = await pool.fetch(
        """
        SELECT q.seq FROM responses r JOIN questions q ON q.id = r.question_id
        WHERE r.session_id = $1 ORDER BY q.seq
        """,
        session_id,
    )
    return [r["seq"] for r in rows]


async def transcripts(pool: asyncpg.Pool, session_id: uuid.UUID) -> list[str]:
    rows = await pool.fetch(
        "SELECT transcript FROM responses WHERE session_id = $1 ORDER BY started_at", session_id
    )
    return [r["transcript"] for r in rows]


async def row_count(pool: asyncpg.Pool, table: str, session_id: uuid.UUID) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", session_id)


async def answer(candidate: LiveKitCandidate, speech: Speech) -> None:
    """Waits for the interviewer to finish speaking, then says the answer. The voice of the event
    just handed out is waited for first: a new interviewer's track (after a restart) may be
    subscribed after its question's event, and the old track's silence is no pause in it."""
    await candidate.voice.first_voice_after(candidate.handed_at - 3.0, timeout=GREETING_TIMEOUT_S)
    await candidate.voice.quiet_for(1.0, timeout=GREETING_TIMEOUT_S)
    await candidate.say(speech)


async def test_the_worker_interviews_a_candidate_in_a_livekit_room(
    start_worker: StartWorker,
    livekit_settings: Settings,
    lkapi: api.LiveKitAPI,
    agent_name: str,
    pool: asyncpg.Pool,
    answer_speech: Speech,
) -> None:
    worker = await start_worker()
    session_id = await new_session(pool)
    await open_room(lkapi, session_id, agent_name)
    candidate = await join_as_candidate(livekit_settings, session_id, camera=True)
    try:
        first = await candidate.next_event("question", timeout=GREETING_TIMEOUT_S)
        await candidate.voice.first_voice_after(0.0, timeout=GREETING_TIMEOUT_S)
        assert first["seq"] == 1 and first["text"]
        voice = candidate.voice
        await eventually(lambda: asyncio.sleep(0, voice.voiced_frames), lambda n: n >= 100)  # 1 s of speech
        assert voice.peak_rms > 500, f"the interviewer's voice arrived without energy (peak RMS {voice.peak_rms:.0f})"
        assert await eventually(lambda: question_seqs(pool, session_id), lambda s: s == [1])

        await answer(candidate, answer_speech)
        second = await candidate.next_event("question", timeout=REPLY_TIMEOUT_S)
        assert second["seq"] == 2 and second["text"] != first["text"]
        assert await eventually(lambda: question_seqs(pool, session_id), lambda s: s == [1, 2])
        assert await eventually(lambda: answered_seqs(pool, session_id), lambda s: s == [1])
        (heard,) = await transcripts(pool, session_id)
        assert sum(word in heard.lower() for word in ANSWER_KEYWORDS) >= 3, heard

        # The hidden consumer's rows, through the same DeliveryStore as the embedded room's.
        assert await eventually(lambda: row_count(pool, "prosody_windows", session_id), lambda n: n > 0)
        assert await eventually(lambda: row_count(pool, "face_samples", session_id), lambda n: n > 0)
        present = await pool.fetchval(
            "SELECT count(*) FROM face_samples WHERE session_id = $1 AND face_present", session_id
        )
        assert present > 0, "the candidate's face was never found"
        status = await pool.fetchval("SELECT status FROM sessions WHERE id = $1", session_id)
        assert status == "live"
        # The worker keeps the session alive, as a server holding its room does, with its counters.
        assert await eventually(
            lambda: pool.fetchval(
                "SELECT heartbeat_at - started_at > interval '4 seconds' FROM sessions WHERE id = $1", session_id
            ),
            lambda later: later is True,
        )
        assert await eventually(lambda: row_count(pool, "signal_stats", session_id), lambda n: n == 1)

        # A coach who joins now (hidden: nobody is told) finds the current question in the
        # interviewer's attributes.
        coach = await join_as_coach(livekit_settings, session_id)
        try:
            (interviewer,) = [
                p for p in coach.remote_participants.values() if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            ]
            assert interviewer.attributes.get(ROLE_ATTRIBUTE) == "agent"
            current = json.loads(interviewer.attributes["greenroom.question"])
            assert (current["seq"], current["text"]) == (2, second["text"])
            assert json.loads(interviewer.attributes["greenroom.agent_state"])["type"] == "agent_state"
        finally:
            await coach.disconnect()
        # The consumer is hidden: the candidate sees the interviewer only.
        kinds = [p.kind for p in candidate.room.remote_participants.values()]
        assert kinds == [rtc.ParticipantKind.PARTICIPANT_KIND_AGENT]
        agent_state = [e for e in candidate.events if e.get("type") == "agent_state"]
        assert agent_state, "no agent_state events reached the candidate"
    finally:
        await candidate.aclose()
    assert "Traceback" not in worker.log_text(), worker.log_text()[-4000:]


async def test_a_worker_that_dies_mid_interview_is_replaced_and_the_interview_resumes(
    start_worker: StartWorker,
    livekit_settings: Settings,
    lkapi: api.LiveKitAPI,
    agent_name: str,
    pool: asyncpg.Pool,
    answer_speech: Speech,
) -> None:
    first_worker = await start_worker()
    session_id = await new_session(pool)
    await open_room(lkapi, session_id, agent_name)
    candidate = await join_as_candidate(livekit_settings, session_id, camera=False)
    try:
        await candidate.next_event("question", timeout=GREETING_TIMEOUT_S)
        await answer(candidate, answer_speech)
        second = await candidate.next_event("question", timeout=REPLY_TIMEOUT_S)
        assert await eventually(lambda: question_seqs(pool, session_id), lambda s: s == [1, 2])
        assert await eventually(lambda: answered_seqs(pool, session_id), lambda s: s == [1])

        first_worker.stop(signal.SIGKILL)  # the worker dies mid-interview, nothing closed
        events_before = len(candidate.events)
        await candidate.voice.quiet_for(1.0, timeout=REPLY_TIMEOUT_S)
        second_worker = await start_worker()
        await dispatch(lkapi, session_id, agent_name)

        resumed = await candidate.next_event("question", timeout=GREETING_TIMEOUT_S)
        # The unanswered question is put again under its stored seq; the greeting is not repeated.
        assert resumed["seq"] == second["seq"] == 2
        assert resumed["text"] == second["text"]
        said = [
            e["text"]
            for e in candidate.events[events_before:]
            if e.get("type") == "caption" and e["speaker"] == "interviewer" and e["final"]
        ]
        assert said and said[0].startswith("Welcome back"), said

        await answer(candidate, answer_speech)
        following = await candidate.next_event("question", timeout=REPLY_TIMEOUT_S)
        assert following["seq"] == 3
        assert await eventually(lambda: question_seqs(pool, session_id), lambda s: s == [1, 2, 3])
        assert await eventually(lambda: answered_seqs(pool, session_id), lambda s: s == [1, 2])
        assert await pool.fetchval("SELECT status FROM sessions WHERE id = $1", session_id) == "live"
        assert "interview resumed" in second_worker.log_text()
    finally:
        await candidate.aclose()
    assert "Traceback" not in second_worker.log_text(), second_worker.log_text()[-4000:]


async def test_an_interview_the_interviewer_closes_completes_the_session_and_closes_its_room(
    start_worker: StartWorker,
    livekit_settings: Settings,
    lkapi: api.LiveKitAPI,
    agent_name: str,
    pool: asyncpg.Pool,
    answer_speech: Speech,
) -> None:
    worker = await start_worker()
    session_id = await new_session(pool, practice_question_id=PRACTICE_QUESTION_ID)
    await open_room(lkapi, session_id, agent_name)
    candidate = await join_as_candidate(livekit_settings, session_id, camera=False)
    try:
        await candidate.next_event("question", timeout=GREETING_TIMEOUT_S)
        # The one question, perhaps one follow-up, then the closing words and the room closed.
        await answer(candidate, answer_speech)
        event = await candidate.next_event(("question", "room_closed"), timeout=REPLY_TIMEOUT_S)
        if event["type"] == "question":
            await answer(candidate, answer_speech)
            event = await candidate.next_event("room_closed", timeout=REPLY_TIMEOUT_S)
        assert event["reason"] == "completed"
        row = await pool.fetchrow("SELECT status, end_reason FROM sessions WHERE id = $1", session_id)
        assert (row["status"], row["end_reason"]) == ("completed", "interview_finished")
        # The room waits for the candidate to read room_closed and leave, as the page does:
        # deleted at once, the event could be lost on its way.
        listed = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[str(session_id)]))
        assert listed.rooms and candidate.room.isconnected(), "the room was deleted before the candidate left it"
        await candidate.room.disconnect()
        listed = await eventually(
            lambda: lkapi.room.list_rooms(api.ListRoomsRequest(names=[str(session_id)])),
            lambda listed: not listed.rooms,
        )
        assert not listed.rooms
        await eventually(lambda: asyncio.sleep(0, worker.log_text()), lambda log: "interview job closed" in log)
        answered = await answered_seqs(pool, session_id)
        assert answered
        # Scored at the end by the worker, as the embedded server does: nobody opened the report.
        scored = await pool.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session_id)
        assert scored == len(set(answered))
        assert await pool.fetchval("SELECT answers_scored FROM session_scorecards WHERE session_id = $1", session_id) == scored
        assert "session scored" in worker.log_text()
    finally:
        await candidate.aclose()
    assert "Traceback" not in worker.log_text(), worker.log_text()[-4000:]
