"""The room signalling WebSocket and the live interview behind it, driven by a real WebRTC peer.

The whole app (API, embedded room server, interviewer with the offline voice models) is served
by uvicorn on loopback; the participant is an aiortc client publishing espeak-ng speech.
"""

from __future__ import annotations

import asyncio
import time
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from agent.worker import VoiceModels
from api.consent import CONSENT_VERSION
from api.tokens import TokenIssuer
from bench.live_server import serve
from bench.rtc_client import Microphone, RoomClient, Speech, VoiceListener, espeak
from greenroom.server import build_app
from greenroom.settings import Settings
from tests.users import TEST_PASSWORD, new_email

TOKEN_SECRET = "signalling-test-secret-0123456789abcdef"
NEW_SESSION = {
    "role_track": "software_engineer",
    "round_type": "behavioral",
    "difficulty": "medium",
    "duration_min": 30,
    "consent_version": CONSENT_VERSION,
}
# A behavioral answer with an example and a result, so the interviewer moves on.
ANSWER = (
    "At my last job I rewrote a slow database query, and as a result "
    "our checkout page loaded twice as fast."
)
ANSWER_KEYWORDS = ("job", "database", "query", "checkout", "page", "fast")
GREETING_TIMEOUT_S = 40.0
REPLY_TIMEOUT_S = 40.0


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
async def voice_models() -> VoiceModels:
    """The speech models, loaded once for every test that runs an interview."""
    return await asyncio.to_thread(VoiceModels.load, Settings(_env_file=None))


@pytest.fixture(scope="session")
def answer_speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """The candidate's spoken answer, synthesized with espeak-ng."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed to synthesize the candidate's speech: apt-get install espeak-ng")
    return espeak(ANSWER, tmp_path_factory.mktemp("speech"), speed=175)


@dataclass
class Candidate:
    """A joined candidate: their socket, their microphone and what they hear."""

    client: RoomClient
    microphone: Microphone
    voice: VoiceListener


@dataclass
class Greenroom:
    """The app served on loopback, an HTTP client for its API, and the room clients opened."""

    app: FastAPI
    base_url: str
    http: httpx.AsyncClient
    clients: list[RoomClient] = field(default_factory=list)

    async def new_session(self, **choices: Any) -> dict[str, Any]:
        """Schedules a session; returns the API's answer (session and the candidate's room)."""
        response = await self.http.post("/v1/sessions", json={**NEW_SESSION, **choices})
        assert response.status_code == 201, response.text
        return response.json()

    async def connect(self, session_id: str) -> RoomClient:
        ws_url = self.base_url.replace("http://", "ws://", 1)
        client = await RoomClient.connect(f"{ws_url}/v1/rooms/{session_id}/signal")
        self.clients.append(client)
        return client

    async def join_as_candidate(self, session_id: str, token: str) -> tuple[Candidate, dict[str, Any]]:
        """Joins, publishes a microphone and waits for media; returns the joined event too."""
        client = await self.connect(session_id)
        joined = await client.join(token)
        microphone = Microphone()
        voice = await client.publish(microphone)
        return Candidate(client, microphone, voice), joined

    async def close_clients(self) -> None:
        for client in self.clients:
            await client.close()


StartGreenroom = Callable[..., Awaitable[Greenroom]]


@pytest.fixture
async def start_greenroom(settings: Settings, voice_models: VoiceModels) -> AsyncIterator[StartGreenroom]:
    """Starts the whole app on 127.0.0.1 (settings overridable); everything stops after the test."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Greenroom:
            room_settings = settings.model_copy(
                update={
                    "ice_bind_addresses": ["127.0.0.1"],
                    "token_api_secret": SecretStr(TOKEN_SECRET),
                    # Every test here signs up and schedules from 127.0.0.1 under one token secret,
                    # so the per-client limits would add up across tests.
                    "throttle_enabled": False,
                    **overrides,
                }
            )
            app = build_app(room_settings, models=voice_models)
            base_url = await stack.enter_async_context(serve(app))
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=15))
            signed_up = await http.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})
            assert signed_up.status_code == 201, signed_up.text
            greenroom = Greenroom(app, base_url, http)
            stack.push_async_callback(greenroom.close_clients)
            return greenroom

        yield start


@pytest.fixture
async def greenroom(start_greenroom: StartGreenroom) -> Greenroom:
    return await start_greenroom()


def _issuer(ttl_s: int = 600, secret: str = TOKEN_SECRET) -> TokenIssuer:
    return TokenIssuer("greenroom", secret, ttl_s)


async def eventually(
    fetch: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool], *, timeout: float = 10.0
) -> Any:
    """Polls until `accept(fetch())`; returns the accepted value, or fails with the last one."""
    value = None
    try:
        async with asyncio.timeout(timeout):
            while not accept(value := await fetch()):
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"not reached within {timeout:.0f} s; last value: {value!r}")
    return value


async def _status(pool: asyncpg.Pool, session_id: str) -> str | None:
    return await pool.fetchval("SELECT status FROM sessions WHERE id = $1", uuid.UUID(session_id))


async def _question_seqs(pool: asyncpg.Pool, session_id: str) -> list[int]:
    rows = await pool.fetch(
        "SELECT seq FROM questions WHERE session_id = $1 ORDER BY seq", uuid.UUID(session_id)
    )
    return [r["seq"] for r in rows]


async def _responses(pool: asyncpg.Pool, session_id: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT transcript FROM responses WHERE session_id = $1 ORDER BY started_at",
        uuid.UUID(session_id),
    )
    return [r["transcript"] for r in rows]


async def stored_answers(greenroom: Greenroom, session_id: str, *, timeout: float = 20.0) -> list[str]:
    """The session's stored response transcripts, once there is at least one."""
    return await eventually(
        lambda: _responses(greenroom.app.state.pool, session_id), lambda rows: len(rows) >= 1, timeout=timeout
    )


async def joined_after_the_greeting(greenroom: Greenroom) -> tuple[str, Candidate, dict[str, Any]]:
    """A new session's candidate, joined, once the opening question has been heard out (1 s of
    quiet): the session id, the candidate, and the question event."""
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    first = await _hear_first_question(candidate)
    await candidate.voice.quiet_for(1.0, timeout=GREETING_TIMEOUT_S)
    return session_id, candidate, first


async def _hear_first_question(candidate: Candidate) -> dict[str, Any]:
    """The opening question event, once the interviewer has been heard saying it."""
    question = await candidate.client.next_event("question", timeout=GREETING_TIMEOUT_S)
    await candidate.voice.first_voice_after(0.0, timeout=GREETING_TIMEOUT_S)
    return question


async def _answer(candidate: Candidate, speech: Speech) -> None:
    """Waits for the interviewer to finish speaking, then says the answer."""
    await candidate.voice.quiet_for(1.0, timeout=GREETING_TIMEOUT_S)
    await asyncio.wait_for(candidate.microphone.say(speech), timeout=speech.duration_s + 10)


# -- refused joins ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda room: "not-a-token", "malformed token"),
        (lambda room: _issuer(secret="some-other-secret-0123456789abcdef").issue(room, "candidate-x", "candidate"), "token signature invalid"),
        (lambda room: _issuer(ttl_s=-120).issue(room, "candidate-x", "candidate"), "token expired"),
    ],
    ids=["garbage", "wrong-secret", "expired"],
)
async def test_join_with_a_bad_token_is_refused_and_closed(
    greenroom: Greenroom, make_token: Callable[[str], str], reason: str
) -> None:
    session_id = (await greenroom.new_session())["session"]["id"]
    client = await greenroom.connect(session_id)

    await client.send({"type": "join", "token": make_token(session_id)})

    error = await client.next_event("error")
    assert (error["code"], error["message"]) == ("invalid_token", reason)
    assert await client.wait_closed() == (4401, reason)
    assert [e["type"] for e in client.events] == ["error"]


async def test_token_for_another_session_does_not_open_it(greenroom: Greenroom) -> None:
    mine = await greenroom.new_session()
    other_id = (await greenroom.new_session())["session"]["id"]
    client = await greenroom.connect(other_id)

    await client.send({"type": "join", "token": mine["room"]["token"]})

    error = await client.next_event("error")
    assert (error["code"], error["message"]) == ("invalid_token", "token is for another room")
    assert (await client.wait_closed())[0] == 4401


@pytest.mark.parametrize("session_id", [str(uuid.uuid4()), "not-a-session"])
async def test_join_to_an_unknown_session_is_refused(greenroom: Greenroom, session_id: str) -> None:
    client = await greenroom.connect(session_id)

    await client.send({"type": "join", "token": _issuer().issue(session_id, "candidate-x", "candidate")})

    error = await client.next_event("error")
    assert (error["code"], error["message"]) == ("refused", "session not found")
    assert await client.wait_closed() == (4403, "session not found")
    assert greenroom.app.state.rooms.room(session_id) is None


# -- bad messages: an error event, and the socket goes on working -----------------

OVERSIZED = json.dumps({"type": "ping", "padding": "x" * (64 * 1024)})


@pytest.mark.parametrize(
    ("message", "code", "after_join"),
    [
        ("{not json", "malformed", False),
        ("[1, 2, 3]", "malformed", False),
        ('{"sdp": "v=0"}', "malformed", False),
        (b"\x00\x01binary", "malformed", False),
        (OVERSIZED, "message_too_large", False),
        ('{"type": "dance"}', "unknown_type", True),
        ('{"type": "offer", "sdp": "v=0\\r\\n"}', "not_joined", False),
        ('{"type": "offer", "sdp": 42}', "bad_sdp", True),
        ('{"type": "offer", "sdp": "v=0\\r\\nthis is not sdp\\r\\n"}', "bad_sdp", True),
        ('{"type": "offer", "sdp": "v=0\\r\\nm=audio banana\\r\\n"}', "bad_sdp", True),
        ('{"type": "join", "token": "again"}', "already_joined", True),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "no-type",
        "binary",
        "oversized",
        "unknown-type",
        "offer-before-join",
        "sdp-not-a-string",
        "sdp-without-media",
        "sdp-garbled-media",
        "second-join",
    ],
)
async def test_bad_message_gets_an_error_and_the_socket_keeps_working(
    greenroom: Greenroom, message: str | bytes, code: str, after_join: bool
) -> None:
    assert len(OVERSIZED) > greenroom.app.state.settings.max_signal_message_bytes
    body = await greenroom.new_session()
    client = await greenroom.connect(body["session"]["id"])
    if after_join:
        await client.join(body["room"]["token"])

    await client.send(message)

    error = await client.next_event("error")
    assert error["code"] == code
    assert error["message"]
    if not after_join:
        await client.join(body["room"]["token"])
    await client.publish(None)  # a valid offer (receive only) on the same socket: answered, connected
    assert client.pc is not None and client.pc.connectionState == "connected"
    assert [e["type"] for e in client.events].count("error") == 1


# -- the live interview -----------------------------------------------------------


async def test_candidate_hears_the_interviewer_and_the_session_goes_live(
    greenroom: Greenroom, pool: asyncpg.Pool
) -> None:
    body = await greenroom.new_session()
    session_id = body["session"]["id"]

    candidate, joined = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    question = await _hear_first_question(candidate)

    assert joined["resumed"] is False
    assert joined["role"] == "candidate"
    assert (question["seq"], question["source"], question["number"]) == (1, "bank", 1)
    assert question["text"] and question["from_cv"] is False
    # At least half a second of speech arrives (how soon depends on the machine's load).
    voice = candidate.voice
    await eventually(lambda: asyncio.sleep(0, voice.voiced_frames), lambda n: n >= 25)
    assert await _status(pool, session_id) == "live"
    row = await eventually(
        lambda: pool.fetchrow(
            "SELECT seq, text, source FROM questions WHERE session_id = $1", uuid.UUID(session_id)
        ),
        lambda r: r is not None,
    )
    assert dict(row) == {"seq": 1, "text": question["text"], "source": "bank"}


async def test_a_cv_opens_with_a_question_about_it_labelled_as_such(greenroom: Greenroom) -> None:
    body = await greenroom.new_session(
        cv_text="Backend engineer. Ran the Kubernetes migration for our payments platform.",
        jd_text="We run everything on Kubernetes and want someone who has migrated services.",
    )
    candidate, _ = await greenroom.join_as_candidate(body["session"]["id"], body["room"]["token"])

    question = await _hear_first_question(candidate)

    assert (question["seq"], question["source"], question["from_cv"]) == (1, "follow_up", True)
    assert "Kubernetes" in question["text"]


async def test_a_coach_who_joins_late_is_told_the_current_question(greenroom: Greenroom) -> None:
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    question = await _hear_first_question(candidate)
    share = await greenroom.http.post(f"/v1/sessions/{session_id}/share")
    assert share.status_code == 201, share.text
    watch = await greenroom.http.post(f"/v1/shared/{share.json()['token']}/watch")
    assert watch.status_code == 200, watch.text

    coach = await greenroom.connect(session_id)
    await coach.join(watch.json()["token"])

    # Sent with the join, not at the next question (which may be minutes away).
    current = await coach.next_event("question", timeout=2.0)
    assert (current["seq"], current["text"]) == (question["seq"], question["text"])
    assert (await coach.next_event("agent_state", timeout=2.0))["state"]


async def test_rejoin_within_the_grace_period_resumes_the_same_interview(
    greenroom: Greenroom, pool: asyncpg.Pool, answer_speech: Speech
) -> None:
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    first, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    opening = await _hear_first_question(first)

    await first.client.close()
    assert await _status(pool, session_id) == "live"
    fresh = await greenroom.http.post(f"/v1/sessions/{session_id}/token", json={"role": "candidate"})
    assert fresh.status_code == 200, fresh.text
    again, joined = await greenroom.join_as_candidate(session_id, fresh.json()["token"])

    assert joined["resumed"] is True
    current = await again.client.next_event("question", timeout=2.0)  # told on joining
    assert (current["seq"], current["text"]) == (opening["seq"], opening["text"])
    await _answer(again, answer_speech)
    question = await again.client.next_event("question", timeout=REPLY_TIMEOUT_S)
    assert question["seq"] == opening["seq"] + 1  # the same script goes on: no new greeting
    assert question["text"] != opening["text"]
    assert await eventually(lambda: _question_seqs(pool, session_id), lambda s: s == [1, 2])
    said = " ".join(await eventually(lambda: _responses(pool, session_id), bool)).lower()
    assert any(word in said for word in ANSWER_KEYWORDS), said
    assert await _status(pool, session_id) == "live"


async def test_candidate_gone_past_the_grace_period_abandons_and_keeps_what_was_said(
    start_greenroom: StartGreenroom, pool: asyncpg.Pool, answer_speech: Speech
) -> None:
    greenroom = await start_greenroom(reconnect_grace_s=1.5)
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    await _hear_first_question(candidate)
    await _answer(candidate, answer_speech)
    await eventually(lambda: _responses(pool, session_id), bool, timeout=REPLY_TIMEOUT_S)

    await candidate.client.close()
    assert await _status(pool, session_id) == "live"  # still within the grace period

    row = await eventually(
        lambda: pool.fetchrow(
            "SELECT status, end_reason, ended_at FROM sessions WHERE id = $1", uuid.UUID(session_id)
        ),
        lambda r: r["status"] != "live",
        timeout=10,
    )
    assert (row["status"], row["end_reason"]) == ("abandoned", "candidate_disconnected")
    assert row["ended_at"] is not None
    said = " ".join(await _responses(pool, session_id)).lower()
    assert any(word in said for word in ANSWER_KEYWORDS), said
    assert 1 in await _question_seqs(pool, session_id)
    assert greenroom.app.state.rooms.room(session_id) is None
    assert session_id not in greenroom.app.state.interviews.runners
    rejoin = await greenroom.connect(session_id)
    await rejoin.send({"type": "join", "token": body["room"]["token"]})
    assert (await rejoin.next_event("error"))["message"] == "session has ended"


async def test_ending_a_live_session_closes_its_room(greenroom: Greenroom, pool: asyncpg.Pool) -> None:
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    await _hear_first_question(candidate)

    response = await greenroom.http.post(f"/v1/sessions/{session_id}/end")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    closed = await candidate.client.next_event("room_closed")
    assert closed["reason"] == "ended_by_candidate"
    assert await _status(pool, session_id) == "completed"
    assert greenroom.app.state.rooms.room(session_id) is None
    assert session_id not in greenroom.app.state.interviews.runners


async def test_deleting_a_live_session_closes_its_room_and_removes_its_rows(
    greenroom: Greenroom, pool: asyncpg.Pool
) -> None:
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    await _hear_first_question(candidate)
    await eventually(lambda: _question_seqs(pool, session_id), lambda s: s == [1])

    response = await greenroom.http.delete(f"/v1/sessions/{session_id}")

    assert response.status_code == 204
    closed = await candidate.client.next_event("room_closed")
    assert closed["reason"] == "session_deleted"
    sid = uuid.UUID(session_id)
    for table in ("questions", "responses", "turn_latency"):
        count = await pool.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", sid)
        assert count == 0, table
    assert await _status(pool, session_id) is None
    assert (await greenroom.http.get(f"/v1/sessions/{session_id}")).status_code == 404


async def test_candidate_barging_in_stops_the_interviewers_voice(
    greenroom: Greenroom, answer_speech: Speech
) -> None:
    body = await greenroom.new_session()
    candidate, _ = await greenroom.join_as_candidate(body["session"]["id"], body["room"]["token"])
    voice_started = await candidate.voice.first_voice_after(0.0, timeout=GREETING_TIMEOUT_S)
    # Past the echo-canceller warm-up, during which the interviewer cannot be interrupted;
    # the greeting and first question take several seconds more.
    await asyncio.sleep(1.5)

    speaking_from = time.monotonic()
    said = candidate.microphone.say(answer_speech)
    await candidate.voice.quiet_for(0.5, timeout=5.0)
    stopped_after = time.monotonic() - 0.5 - speaking_from

    assert not said.done(), "the interviewer only stopped after the candidate had finished"
    assert stopped_after < 1.5, f"the interviewer went on for {stopped_after:.2f} s over the candidate"
    assert speaking_from - voice_started < 3.5  # it was interrupted mid-greeting, not at its end
    await asyncio.wait_for(said, timeout=answer_speech.duration_s + 10)
