"""The API on the LiveKit transport, against a real LiveKit server: rooms, grants, dispatch,
revocation, webhooks, and a LiveKit that cannot be reached."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from fastapi import FastAPI
from google.protobuf import json_format
from livekit import api, rtc
from livekit.rtc.participant import PublishTrackError
from pydantic import SecretStr
from starlette.types import Message, Receive, Scope, Send

from api.app import create_app
from api.livekit_webhook import (
    BODY_NOT_SIGNED,
    OUT_OF_WINDOW,
    REPLAYED,
    SIGNATURE_INVALID,
    UNSIGNED,
    WEBHOOK_PATH,
)
from api.tokens import ROLE_ATTRIBUTE, room_token_issuer
from bench.livekit_server import LiveKitServer
from greenroom.settings import Settings, SettingsError
from tests.livekit.conftest import WebhookedLiveKit
from tests.users import PLAIN_SESSION, TEST_PASSWORD, new_email

SAMPLE_RATE = 48000
FRAME_SAMPLES = 480


def _livekit_mode(settings: Settings, server: LiveKitServer, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "transport": "livekit",
            "livekit_url": server.ws_url,
            "livekit_api_key": server.api_key,
            "livekit_api_secret": SecretStr(server.api_secret),
            **changes,
        }
    )


@asynccontextmanager
async def _lkapi(server: LiveKitServer) -> AsyncIterator[api.LiveKitAPI]:
    async with api.LiveKitAPI(server.http_url, server.api_key, server.api_secret) as lkapi:
        yield lkapi


@asynccontextmanager
async def _in_process(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan, driven in process; the client is signed in to a new account."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://greenroom.test") as client:
            await _sign_up(client)
            yield client


@asynccontextmanager
async def _served(app: Any, port: int) -> AsyncIterator[str]:
    """Serves app (lifespan included) over HTTP on 127.0.0.1:port until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _interviewer_dispatches(lkapi: api.LiveKitAPI, room: str) -> list[api.AgentDispatch]:
    return [d for d in await lkapi.agent_dispatch.list_dispatch(room) if d.agent_name == "greenroom-interviewer"]


async def _sign_up(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/auth/signup", json={"email": new_email(), "password": TEST_PASSWORD})
    assert response.status_code == 201, response.text


async def _schedule(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    response = await client.post("/v1/sessions", json=PLAIN_SESSION)
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"], response.json()["room"]


async def _coach_join(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    """A share link made by the owner, and the coach's room join through it (the link is the credential)."""
    share = await client.post(f"/v1/sessions/{session_id}/share")
    assert share.status_code == 201, share.text
    watch = await client.post(f"/v1/shared/{share.json()['token']}/watch")
    assert watch.status_code == 200, watch.text
    return watch.json()


async def _eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


def _microphone() -> tuple[rtc.AudioSource, rtc.LocalAudioTrack]:
    source = rtc.AudioSource(SAMPLE_RATE, 1)
    return source, rtc.LocalAudioTrack.create_audio_track("microphone", source)


def _mic_options() -> rtc.TrackPublishOptions:
    return rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)


# -- settings and tokens -----------------------------------------------------------------------


def test_the_livekit_transport_without_a_server_is_a_clear_startup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GREENROOM_TRANSPORT", "livekit")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "a-secret-that-must-not-be-quoted")
    with pytest.raises(SettingsError) as refused:
        Settings(_env_file=None)
    assert str(refused.value) == "GREENROOM_TRANSPORT=livekit needs LIVEKIT_URL, LIVEKIT_API_KEY to be set"
    monkeypatch.delenv("GREENROOM_TRANSPORT")
    assert Settings(_env_file=None).transport == "embedded"


def test_livekit_tokens_are_signed_with_livekit_keys_and_carry_each_roles_grants(
    livekit_settings: Settings, livekit_server: LiveKitServer
) -> None:
    tokens = room_token_issuer(livekit_settings.model_copy(update={"transport": "livekit"}))
    assert (tokens.transport, tokens.server_url) == ("livekit", livekit_server.ws_url)

    def video(role: str) -> dict[str, Any]:
        token = tokens.issue("room-1", f"{role}-1", role)  # type: ignore[arg-type]
        claims = jwt.decode(token, livekit_server.api_secret, algorithms=["HS256"], issuer=livekit_server.api_key)
        assert claims["attributes"][ROLE_ATTRIBUTE] == role
        return claims["video"]

    candidate = video("candidate")
    assert candidate["canPublish"] and candidate["canSubscribe"] and candidate["canPublishData"]
    assert not candidate.get("hidden") and not candidate.get("roomAdmin")
    for watcher in ("coach", "consumer"):
        grants = video(watcher)
        assert grants["hidden"] is True and grants["canSubscribe"] is True
        assert grants["canPublish"] is False and grants["canPublishData"] is False
        assert grants["canPublishSources"] == []
    assert video("agent")["roomAdmin"] is True
    for service, identity in (("agent", "interviewer"), ("consumer", "signal-consumer")):
        claims = tokens.verify(tokens.issue_service("room-1", service), "room-1")  # type: ignore[arg-type]
        assert (claims.identity, claims.role) == (identity, service)
    assert tokens.verify(tokens.issue_service("room-1", "consumer"), "room-1").hidden


# -- rooms, grants, dispatch ---------------------------------------------------------------------


async def test_scheduling_makes_the_room_and_dispatches_the_interviewer_once(
    livekit_settings: Settings, livekit_server: LiveKitServer
) -> None:
    settings = _livekit_mode(livekit_settings, livekit_server)
    async with _in_process(settings) as client, _lkapi(livekit_server) as lkapi:
        session_id, join = await _schedule(client)
        assert (join["transport"], join["url"]) == ("livekit", livekit_server.ws_url)
        assert join["signal_url"] == f"/v1/rooms/{session_id}/signal"  # the embedded fields stay

        rooms = (await lkapi.room.list_rooms(api.ListRoomsRequest(names=[session_id]))).rooms
        assert len(rooms) == 1
        assert rooms[0].empty_timeout == 300
        assert rooms[0].max_participants == 2 + settings.livekit_coach_limit
        # The room brought the interviewer's dispatch (CreateRoomRequest.agents), explicit by its
        # name, and so no automatic one (agent name "") that any unnamed worker would take.
        dispatches = await _interviewer_dispatches(lkapi, session_id)
        assert len(dispatches) == 1
        assert len(await lkapi.agent_dispatch.list_dispatch(session_id)) == 1
        assert json.loads(dispatches[0].metadata) == {"session_id": session_id}

        # Fresh tokens, one after another and at once, make no second room or dispatch.
        for response in [
            await client.post(f"/v1/sessions/{session_id}/token", json={}),
            *await asyncio.gather(*(client.post(f"/v1/sessions/{session_id}/token", json={}) for _ in range(3))),
        ]:
            assert response.status_code == 200, response.text
            assert response.json()["transport"] == "livekit"
        assert len((await lkapi.room.list_rooms(api.ListRoomsRequest(names=[session_id]))).rooms) == 1
        assert len(await _interviewer_dispatches(lkapi, session_id)) == 1


async def test_deleting_the_session_or_the_account_closes_its_room(
    livekit_settings: Settings, livekit_server: LiveKitServer
) -> None:
    settings = _livekit_mode(livekit_settings, livekit_server)
    async with _in_process(settings) as client, _lkapi(livekit_server) as lkapi:
        deleted_id, _ = await _schedule(client)
        kept_by_account_id, _ = await _schedule(client)

        async def rooms_of(*names: str) -> set[str]:
            return {r.name for r in (await lkapi.room.list_rooms(api.ListRoomsRequest(names=list(names)))).rooms}

        assert await rooms_of(deleted_id, kept_by_account_id) == {deleted_id, kept_by_account_id}
        assert (await client.delete(f"/v1/sessions/{deleted_id}")).status_code == 204
        assert await rooms_of(deleted_id, kept_by_account_id) == {kept_by_account_id}
        assert (await client.delete("/v1/users/me")).status_code == 204
        assert await rooms_of(kept_by_account_id) == set()


async def test_the_candidate_publishes_and_a_coach_watches_hidden_and_cannot_publish(
    livekit_settings: Settings, livekit_server: LiveKitServer
) -> None:
    settings = _livekit_mode(livekit_settings, livekit_server)
    candidate, coach, consumer = rtc.Room(), rtc.Room(), rtc.Room()
    async with _in_process(settings) as client, _lkapi(livekit_server) as lkapi:
        session_id, join = await _schedule(client)
        try:
            await candidate.connect(join["url"], join["token"])
            _, microphone = _microphone()
            published = await candidate.local_participant.publish_track(microphone, _mic_options())
            assert published.sid.startswith("TR_")

            watch = await _coach_join(client, session_id)
            assert (watch["role"], watch["transport"], watch["url"]) == ("coach", "livekit", livekit_server.ws_url)
            await coach.connect(watch["url"], watch["token"])
            await consumer.connect(join["url"], room_token_issuer(settings).issue_service(session_id, "consumer"))

            async def watchers_see_the_candidate() -> bool:
                return all(join["identity"] in room.remote_participants for room in (coach, consumer))

            await _eventually(watchers_see_the_candidate)
            listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=session_id))
            on_server = {p.identity: p for p in listed.participants}
            assert on_server[join["identity"]].tracks[0].sid == published.sid
            assert on_server[watch["identity"]].permission.hidden is True
            await asyncio.sleep(0.5)  # time enough for the candidate to hear of a visible participant
            assert watch["identity"] not in candidate.remote_participants
            assert "signal-consumer" not in candidate.remote_participants

            _, coach_microphone = _microphone()
            # The server answers NOT_ALLOWED (and logs it); this SDK then gives up after its 10 s.
            with pytest.raises(PublishTrackError):
                await asyncio.wait_for(coach.local_participant.publish_track(coach_microphone, _mic_options()), 15)
            refusals = [
                line
                for line in livekit_server.log.read_text().splitlines()
                if "no permission to publish track" in line and f'"participant": "{watch["identity"]}"' in line
            ]
            assert refusals, "the server did not refuse the coach's track"
            listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=session_id))
            assert not {p.identity: p for p in listed.participants}[watch["identity"]].tracks
        finally:
            await consumer.disconnect()
            await coach.disconnect()
            await candidate.disconnect()


async def test_revoking_the_share_removes_a_watching_coach_within_a_second(
    livekit_settings: Settings, livekit_server: LiveKitServer
) -> None:
    settings = _livekit_mode(livekit_settings, livekit_server)
    candidate, coach, other_coach = rtc.Room(), rtc.Room(), rtc.Room()
    async with _in_process(settings) as client, _lkapi(livekit_server) as lkapi:
        session_id, join = await _schedule(client)
        other_session_id, _ = await _schedule(client)
        try:
            await candidate.connect(join["url"], join["token"])
            watch = await _coach_join(client, session_id)
            await coach.connect(watch["url"], watch["token"])
            other_watch = await _coach_join(client, other_session_id)  # another session's coach stays
            await other_coach.connect(other_watch["url"], other_watch["token"])
            gone: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            coach.on("disconnected", lambda _reason: gone.done() or gone.set_result(time.monotonic()))

            revoked_at = time.monotonic()
            response = await client.delete(f"/v1/sessions/{session_id}/share")
            assert response.status_code == 204, response.text
            # Waited for generously, so that a late removal fails with how late it was.
            left_after_s = await asyncio.wait_for(gone, 10) - revoked_at
            assert left_after_s < 1.0, f"the coach left {left_after_s:.2f} s after the share was revoked"

            listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=session_id))
            assert {p.identity for p in listed.participants} == {join["identity"]}  # the candidate stays
            assert other_coach.connection_state == rtc.ConnectionState.CONN_CONNECTED
        finally:
            for room in (other_coach, coach, candidate):
                await room.disconnect()


async def test_an_unreachable_livekit_gets_503_with_retry_after(livekit_settings: Settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = livekit_settings.model_copy(
        update={"transport": "livekit", "livekit_url": f"ws://127.0.0.1:{closed_port}"}
    )
    async with _in_process(settings) as client:
        response = await client.post("/v1/sessions", json=PLAIN_SESSION)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "2"
        assert response.json()["detail"] == "room server (LiveKit) unavailable, retry shortly"
        assert response.json()["request_id"] == response.headers["X-Request-ID"]
        assert (await client.get("/v1/sessions")).json() == []  # nothing left half-made


# -- webhooks ---------------------------------------------------------------------------------


class WebhookRecorder:
    """ASGI wrapper that keeps every webhook call the app receives (headers and body)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.calls: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != WEBHOOK_PATH:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
                    self.calls.append((headers, b"".join(chunks)))
            return message

        await self.app(scope, recording, send)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.calls]


async def _status(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/sessions/{session_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_real_webhooks_mark_the_session_live_then_abandoned_after_the_grace(
    livekit_webhook_server: WebhookedLiveKit, settings: Settings
) -> None:
    lk = livekit_webhook_server
    recorder = WebhookRecorder(create_app(_livekit_mode(settings, lk.server, reconnect_grace_s=1.0)))
    candidate = rtc.Room()
    async with _served(recorder, lk.api_port) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        await _sign_up(client)
        session_id, join = await _schedule(client)
        assert (await _status(client, session_id))["status"] == "scheduled"
        await candidate.connect(join["url"], join["token"])

        async def live() -> bool:
            return (await _status(client, session_id))["status"] == "live"

        await _eventually(live)
        await candidate.disconnect()

        async def abandoned() -> bool:
            return (await _status(client, session_id))["status"] == "abandoned"

        await _eventually(abandoned)
        session = await _status(client, session_id)
        assert session["end_reason"] == "candidate_disconnected" and session["started_at"]
        async with _lkapi(lk.server) as lkapi:  # its room was closed

            async def room_gone() -> bool:
                return not (await lkapi.room.list_rooms(api.ListRoomsRequest(names=[session_id]))).rooms

            await _eventually(room_gone)

        # A real event of LiveKit's, sent again, is a replay; altered by one byte, it is not signed.
        kinds = [event["event"] for event in recorder.events()]
        assert {"room_started", "participant_joined", "participant_left"} <= set(kinds)
        headers, body = recorder.calls[kinds.index("participant_joined")]
        assert headers["content-type"] == "application/webhook+json"
        signed = {"Authorization": headers["authorization"], "Content-Type": "application/webhook+json"}
        replayed = await client.post(WEBHOOK_PATH, content=body, headers=signed)
        assert (replayed.status_code, replayed.json()["detail"]) == (400, REPLAYED)
        tampered = await client.post(WEBHOOK_PATH, content=body.replace(b"participant_joined", b"participant_joinee"), headers=signed)
        assert (tampered.status_code, tampered.json()["detail"]) == (401, BODY_NOT_SIGNED)
        assert (await _status(client, session_id))["status"] == "abandoned"


async def test_real_webhooks_end_a_live_session_whose_room_closes_and_keep_a_completed_one(
    livekit_webhook_server: WebhookedLiveKit, settings: Settings
) -> None:
    lk = livekit_webhook_server
    app = create_app(_livekit_mode(settings, lk.server, reconnect_grace_s=60.0))
    candidate, finished_candidate = rtc.Room(), rtc.Room()
    async with (
        _served(app, lk.api_port) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
        _lkapi(lk.server) as lkapi,
    ):
        await _sign_up(client)
        closed_id, closed_join = await _schedule(client)
        ended_id, ended_join = await _schedule(client)
        try:
            await candidate.connect(closed_join["url"], closed_join["token"])
            await finished_candidate.connect(ended_join["url"], ended_join["token"])

            async def both_live() -> bool:
                return all([(await _status(client, s))["status"] == "live" for s in (closed_id, ended_id)])

            await _eventually(both_live)
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=closed_id))
            ended = await client.post(f"/v1/sessions/{ended_id}/end")
            assert ended.status_code == 200 and ended.json()["status"] == "completed"

            async def closed_abandoned() -> bool:
                return (await _status(client, closed_id))["status"] == "abandoned"

            await _eventually(closed_abandoned)
            assert (await _status(client, closed_id))["end_reason"] == "room_finished"

            async def ended_room_gone() -> bool:  # POST /end closed its room; room_finished changed nothing
                return not (await lkapi.room.list_rooms(api.ListRoomsRequest(names=[ended_id]))).rooms

            await _eventually(ended_room_gone)
            await asyncio.sleep(0.5)
            final = await _status(client, ended_id)
            assert (final["status"], final["end_reason"]) == ("completed", "ended_by_candidate")
        finally:
            await candidate.disconnect()
            await finished_candidate.disconnect()


async def test_a_coach_token_minted_before_a_revocation_is_removed_when_it_joins(
    livekit_webhook_server: WebhookedLiveKit, settings: Settings
) -> None:
    lk = livekit_webhook_server
    app = create_app(_livekit_mode(settings, lk.server))
    coach = rtc.Room()
    async with _served(app, lk.api_port) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        await _sign_up(client)
        session_id, _ = await _schedule(client)
        watch = await _coach_join(client, session_id)
        assert (await client.delete(f"/v1/sessions/{session_id}/share")).status_code == 204
        gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        coach.on("disconnected", lambda _reason: gone.done() or gone.set_result(None))
        try:
            await coach.connect(watch["url"], watch["token"])  # LiveKit checks only the token
            await asyncio.wait_for(gone, 20)  # after LiveKit's webhook reaches the API
        finally:
            await coach.disconnect()


def _signed_call(
    body: bytes, *, key: str, secret: str, sha256_of: bytes | None = None, ttl_s: int = 300
) -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(body if sha256_of is None else sha256_of).digest()).decode()
    token = (
        api.AccessToken(key, secret)
        .with_sha256(digest)
        .with_ttl(timedelta(seconds=ttl_s))
        .to_jwt()
    )
    return {"Authorization": token, "Content-Type": "application/webhook+json"}


def _event_body(room: str, *, event: str = "room_started", created_at: float | None = None) -> bytes:
    message = api.WebhookEvent(
        event=event,
        id=f"EV_{uuid.uuid4().hex[:12]}",
        created_at=int(time.time() if created_at is None else created_at),
        room=api.Room(name=room, sid="RM_test"),
    )
    return json_format.MessageToJson(message).encode()


async def test_forged_unsigned_tampered_stale_and_replayed_webhooks_are_refused(
    livekit_settings: Settings, livekit_server: LiveKitServer
) -> None:
    settings = _livekit_mode(livekit_settings, livekit_server)
    key, secret = livekit_server.api_key, livekit_server.api_secret
    async with _in_process(settings) as client:
        session_id, _ = await _schedule(client)

        async def call(body: bytes, headers: dict[str, str]) -> tuple[int, str]:
            response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
            return response.status_code, response.json()["detail"] if response.content else ""

        body = _event_body(session_id)
        unsigned = {"Content-Type": "application/webhook+json"}
        assert await call(body, unsigned) == (401, UNSIGNED)
        assert await call(body, _signed_call(body, key=key, secret="not-the-secret-" * 3)) == (401, SIGNATURE_INVALID)
        assert await call(body, _signed_call(body, key="someone-else", secret=secret)) == (401, SIGNATURE_INVALID)
        assert await call(body, _signed_call(body, key=key, secret=secret, sha256_of=b"{}")) == (401, BODY_NOT_SIGNED)
        no_hash = {"Authorization": api.AccessToken(key, secret).to_jwt(), **unsigned}
        assert await call(body, no_hash) == (401, BODY_NOT_SIGNED)
        stale = _event_body(session_id, created_at=time.time() - 600)
        assert await call(stale, _signed_call(stale, key=key, secret=secret)) == (400, OUT_OF_WINDOW)
        # Refused calls noted nothing: the genuine one is applied once, then is a replay.
        assert await call(body, _signed_call(body, key=key, secret=secret)) == (204, "")
        assert await call(body, _signed_call(body, key=key, secret=secret)) == (400, REPLAYED)


async def test_webhooks_are_off_with_the_embedded_room(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.post(WEBHOOK_PATH, content=b"{}")
    assert response.status_code == 404
    assert "GREENROOM_TRANSPORT" in response.json()["detail"]
