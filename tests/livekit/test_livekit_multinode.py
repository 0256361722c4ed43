"""One interview across two LiveKit nodes sharing one Redis (README "Two LiveKit nodes and N agents").

Two livekit-server processes on their own loopback ports (not livekit.yaml's: its test holds
those), one key pair, one Redis. The interviewer's worker registers with node A; the candidate
joins through node A and a hidden coach through node B. They are in the same room: the coach
receives the candidate's microphone and the interviewer's voice, and the interview runs to its end.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import Iterator

import numpy as np
import pytest
from livekit import api, rtc
from pydantic import SecretStr

from api.livekit_rooms import LiveKitRooms
from api.tokens import ROLE_ATTRIBUTE, TokenIssuer
from bench.livekit_server import LiveKitServer, LiveKitStartError, run_livekit
from bench.rtc_client import Speech
from greenroom.settings import Settings
from tests.livekit.conftest import RedisServer
from tests.livekit.test_livekit_agent import (  # noqa: F401  (fixtures, used by name)
    GREETING_TIMEOUT_S,
    PRACTICE_QUESTION_ID,
    REPLY_TIMEOUT_S,
    StartWorker,
    agent_name,
    answer,
    answer_speech,
    answered_seqs,
    join_as_candidate,
    new_session,
    start_worker,
)

VOICED_RMS = 300.0
TRACK_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def two_nodes(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveKitServer, LiveKitServer]]:
    """Nodes A and B: one key pair, one Redis, each on free ports of its own."""
    key, secret = f"test-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    common = {"api_key": key, "api_secret": secret, "redis_address": redis_server.address,
              "redis_password": redis_server.password}
    try:
        with (
            run_livekit(tmp_path_factory.mktemp("node-a"), **common) as node_a,
            run_livekit(tmp_path_factory.mktemp("node-b"), **common) as node_b,
        ):
            yield node_a, node_b
    except LiveKitStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def livekit_settings(two_nodes: tuple[LiveKitServer, LiveKitServer], settings: Settings) -> Settings:
    """Node A: where the worker registers, the room is made and the candidate joins."""
    node_a, _ = two_nodes
    return settings.model_copy(update={
        "livekit_url": node_a.ws_url,
        "livekit_api_key": node_a.api_key,
        "livekit_api_secret": SecretStr(node_a.api_secret),
    })


def _session_started(node: LiveKitServer, identity_prefix: str, session_id: object) -> bool:
    """Whether the node's log shows an RTC session of that participant in the session's room."""
    return any(
        "starting RTC session" in line and str(session_id) in line and f'"participant": "{identity_prefix}' in line
        for line in node.log.read_text().splitlines()
    )


class Watching:
    """A coach's hidden connection: which tracks of whom it receives, and whether they carry sound."""

    def __init__(self) -> None:
        self.room = rtc.Room()
        self.tracks: dict[str, rtc.Track] = {}  # by the sender's room role
        self.voiced: dict[str, int] = {}
        self._changed = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []
        self.room.on("track_subscribed", self._on_track)

    def _on_track(self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant) -> None:
        if track.kind != rtc.TrackKind.KIND_AUDIO:
            return
        role = who.attributes.get(ROLE_ATTRIBUTE) or (
            "agent" if who.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT else who.identity
        )
        self.tracks[role] = track
        self._readers.append(asyncio.create_task(self._read(role, track)))
        self._changed.set()

    async def _read(self, role: str, track: rtc.Track) -> None:
        stream = rtc.AudioStream(track, sample_rate=48000, num_channels=1)
        try:
            async for event in stream:
                pcm = np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float32)
                if pcm.size and float(np.sqrt(np.mean(pcm * pcm))) > VOICED_RMS:
                    self.voiced[role] = self.voiced.get(role, 0) + 1
                    self._changed.set()
        finally:
            await stream.aclose()

    async def until(self, check, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                await self._changed.wait()

    async def aclose(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        await self.room.disconnect()


async def test_two_nodes_on_one_redis_hold_one_interview_from_start_to_end(
    two_nodes: tuple[LiveKitServer, LiveKitServer],
    start_worker: StartWorker,
    livekit_settings: Settings,
    agent_name: str,
    pool,
    answer_speech: Speech,
) -> None:
    node_a, node_b = two_nodes
    assert node_a.ws_url != node_b.ws_url
    worker = await start_worker()  # registered with node A
    session_id = await new_session(pool, practice_question_id=PRACTICE_QUESTION_ID)
    rooms = LiveKitRooms.from_settings(livekit_settings.model_copy(update={"livekit_agent_name": agent_name}))
    try:
        await rooms.ensure_room(str(session_id))  # through node A, dispatch included
    finally:
        await rooms.aclose()
    candidate = await join_as_candidate(livekit_settings, session_id, camera=False)  # node A
    issuer = TokenIssuer(node_b.api_key, node_b.api_secret, 600, transport="livekit", server_url=node_b.ws_url)
    coach = Watching()
    try:
        await coach.room.connect(node_b.ws_url, issuer.issue(str(session_id), "coach-b", "coach", "Coach"))
        first = await candidate.next_event("question", timeout=GREETING_TIMEOUT_S)
        assert first["seq"] == 1
        # Through node B the coach hears the interviewer (it joined through node A) ...
        await coach.until(lambda: coach.voiced.get("agent", 0) >= 50, TRACK_TIMEOUT_S)
        # ... and the candidate, once they speak.
        await answer(candidate, answer_speech)
        await coach.until(lambda: coach.voiced.get("candidate", 0) >= 50, TRACK_TIMEOUT_S)
        assert set(coach.tracks) >= {"agent", "candidate"}
        # One room, held by one node: the coach's session, signalled through node B, runs where
        # the candidate's does.
        holders = {
            name: {who for who in ("candidate-", "coach-b") if _session_started(node, who, session_id)}
            for name, node in (("A", node_a), ("B", node_b))
        }
        assert sorted(holders.values(), key=len) == [set(), {"candidate-", "coach-b"}], holders
        # The coach is hidden: the candidate sees the interviewer only, whichever node holds the room.
        kinds = [p.kind for p in candidate.room.remote_participants.values()]
        assert kinds == [rtc.ParticipantKind.PARTICIPANT_KIND_AGENT]

        event = await candidate.next_event(("question", "room_closed"), timeout=REPLY_TIMEOUT_S)
        if event["type"] == "question":  # perhaps one follow-up
            await answer(candidate, answer_speech)
            event = await candidate.next_event("room_closed", timeout=REPLY_TIMEOUT_S)
        assert event["reason"] == "completed"
        row = await pool.fetchrow("SELECT status, end_reason FROM sessions WHERE id = $1", session_id)
        assert (row["status"], row["end_reason"]) == ("completed", "interview_finished")
        assert await answered_seqs(pool, session_id)
        await candidate.room.disconnect()  # as the page leaves on room_closed
        async with api.LiveKitAPI(node_b.http_url, node_b.api_key, node_b.api_secret) as through_b:
            for _ in range(50):  # the room is gone on every node
                if not (await through_b.room.list_rooms(api.ListRoomsRequest(names=[str(session_id)]))).rooms:
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the completed interview's room was not closed")
    finally:
        await coach.aclose()
        await candidate.aclose()
    worker.stop(signal.SIGTERM)
    assert "Traceback" not in worker.log_text(), worker.log_text()[-4000:]
