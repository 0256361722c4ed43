"""The interviewer comes back to a LiveKit room whose worker died, with nobody dispatching it by hand.

LiveKit neither dispatches an agent again when its worker dies nor forgets the dead job, so the
API does it: the first dispatch goes with the room (CreateRoomRequest.agents, made once by LiveKit
whichever API process asks), and when the interviewer leaves an open session's room the webhook
brings one back as soon as a worker can take it (api/livekit_upkeep.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from livekit import api, rtc
from pydantic import SecretStr

from api.livekit_rooms import LiveKitRooms
from bench.livekit_client import LiveKitCandidate
from bench.rtc_client import Speech
from greenroom.server import build_app
from greenroom.settings import Settings
from tests.livekit.conftest import WebhookedLiveKit, agent_token
from tests.livekit.test_livekit_agent import (  # noqa: F401  (fixtures, used by name)
    GREETING_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    StartWorker,
    agent_name,
    answer,
    answer_speech,
    answered_seqs,
    eventually,
    question_seqs,
    start_worker,
    transcripts,
)
from tests.livekit.test_livekit_api import _served, _sign_up
from tests.users import PLAIN_SESSION

# The API's grace period in the worker test: long enough that its sweep leaves the session alone
# while the replacement worker loads its models (it would anyway: the candidate is in the room).
API_GRACE_S = 60.0
# A killed worker is noticed by LiveKit only when its connection times out; then the API
# dispatches again and the new worker's job starts. Alone, this whole test takes 71-85 s (five
# runs); once, in a fresh clone's full run, the interview took over 60 s to come back. The test
# is that it comes back with nothing lost, not how fast.
RESUME_TIMEOUT_S = 120.0


@pytest.fixture
def livekit_settings(livekit_webhook_server: WebhookedLiveKit, settings: Settings) -> Settings:
    """The workers' settings: the LiveKit server whose webhooks reach the API these tests serve."""
    server = livekit_webhook_server.server
    return settings.model_copy(update={
        "livekit_url": server.ws_url,
        "livekit_api_key": server.api_key,
        "livekit_api_secret": SecretStr(server.api_secret),
    })


@pytest.fixture
async def lkapi(livekit_webhook_server: WebhookedLiveKit) -> AsyncIterator[api.LiveKitAPI]:
    server = livekit_webhook_server.server
    async with api.LiveKitAPI(server.http_url, server.api_key, server.api_secret) as client:
        yield client


async def _ours(lkapi: api.LiveKitAPI, room: str, name: str) -> list[api.AgentDispatch]:
    return [d for d in await lkapi.agent_dispatch.list_dispatch(room) if d.agent_name == name]


async def test_the_room_brings_its_dispatch_and_a_room_without_an_interviewer_gets_another(
    livekit_webhook_server: WebhookedLiveKit, lkapi: api.LiveKitAPI
) -> None:
    server = livekit_webhook_server.server
    name = f"greenroom-test-{secrets.token_hex(4)}"  # no worker has it: no job is ever taken
    rooms = LiveKitRooms(
        lkapi, agent_name=name, empty_timeout_s=60, max_participants=5, launch_window_s=0.5, job_join_window_s=1.0
    )
    session_id = str(uuid.uuid4())
    await rooms.ensure_room(session_id)
    # Made with the room, once, however many processes ask at once.
    await asyncio.gather(*(rooms.ensure_room(session_id) for _ in range(4)))
    (first,) = await _ours(lkapi, session_id, name)
    assert json.loads(first.metadata) == {"session_id": session_id}
    assert [d.agent_name for d in await lkapi.agent_dispatch.list_dispatch(session_id)] == [name]  # no automatic one

    await asyncio.sleep(0.6)  # no worker took it within the launch window
    assert await rooms.ensure_interviewer(session_id) == "dispatched"
    (second,) = await _ours(lkapi, session_id, name)  # the untaken one was withdrawn
    assert second.id != first.id
    assert await rooms.ensure_interviewer(session_id) == "coming"

    interviewer = rtc.Room()
    await interviewer.connect(server.ws_url, agent_token(server.api_key, server.api_secret, session_id))
    try:
        await asyncio.sleep(0.6)
        assert await rooms.ensure_interviewer(session_id) == "present"
        assert [d.id for d in await _ours(lkapi, session_id, name)] == [second.id]
    finally:
        await interviewer.disconnect()
    await lkapi.room.delete_room(api.DeleteRoomRequest(room=session_id))
    assert await rooms.ensure_interviewer(session_id) == "no_room"


async def test_an_interviewer_whose_worker_dies_is_brought_back_by_the_api_and_nothing_stored_is_lost(
    start_worker: StartWorker,
    livekit_settings: Settings,
    livekit_webhook_server: WebhookedLiveKit,
    agent_name: str,
    answer_speech: Speech,
) -> None:
    lk = livekit_webhook_server
    api_settings = livekit_settings.model_copy(
        update={"transport": "livekit", "livekit_agent_name": agent_name, "reconnect_grace_s": API_GRACE_S}
    )
    first_worker = await start_worker()
    app = build_app(api_settings)
    async with _served(app, lk.api_port) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        pool = app.state.pool
        await _sign_up(client)
        scheduled = await client.post("/v1/sessions", json=PLAIN_SESSION)  # the room, with its dispatch
        assert scheduled.status_code == 201, scheduled.text
        session_id = uuid.UUID(scheduled.json()["session"]["id"])
        join = scheduled.json()["room"]
        candidate = await LiveKitCandidate.join(join["url"], join["token"])
        try:
            await candidate.next_event("question", timeout=GREETING_TIMEOUT_S)
            await answer(candidate, answer_speech)
            second = await candidate.next_event("question", timeout=REPLY_TIMEOUT_S)
            asked = await eventually(lambda: question_seqs(pool, session_id), lambda s: len(s) == 2)
            assert await eventually(lambda: answered_seqs(pool, session_id), lambda s: s == [asked[0]])
            said_before = await transcripts(pool, session_id)

            first_worker.stop(signal.SIGKILL)  # mid-interview, nothing closed, nobody told
            events_before = len(candidate.events)
            second_worker = await start_worker()  # nobody dispatches it: the API's webhook does

            resumed = await candidate.next_event("question", timeout=RESUME_TIMEOUT_S)
            assert (resumed["seq"], resumed["text"]) == (second["seq"], second["text"])
            said = [
                e["text"]
                for e in candidate.events[events_before:]
                if e.get("type") == "caption" and e["speaker"] == "interviewer" and e["final"]
            ]
            assert said and said[0].startswith("Welcome back"), said
            # Nothing stored before the worker died was lost or stored twice.
            assert await question_seqs(pool, session_id) == asked
            assert await answered_seqs(pool, session_id) == [asked[0]]
            assert await transcripts(pool, session_id) == said_before

            await answer(candidate, answer_speech)
            following = await candidate.next_event("question", timeout=REPLY_TIMEOUT_S)
            assert following["seq"] == asked[-1] + 1
            assert await eventually(lambda: answered_seqs(pool, session_id), lambda s: s == asked)
            assert await pool.fetchval("SELECT status FROM sessions WHERE id = $1", session_id) == "live"
            assert "interview resumed" in second_worker.log_text()
        finally:
            await candidate.aclose()
    assert "Traceback" not in second_worker.log_text(), second_worker.log_text()[-4000:]
