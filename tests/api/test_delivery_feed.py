"""The live signals WebSocket: refuses bad tokens clearly, then streams what the session publishes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api import delivery_feed
from api.app import create_app
from api.watch_access import WatchAccess
from db import sessions as repo
from greenroom.settings import Settings
from media.live_feed import LiveFeeds
from tests.users import make_user


@asynccontextmanager
async def live_feeds(app: FastAPI) -> AsyncIterator[None]:
    app.state.feeds = LiveFeeds()
    app.state.watch_access = access = WatchAccess(app.state.pool)
    access.start()
    try:
        yield
    finally:
        await access.aclose()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, extra_lifespans=[live_feeds], extra_routers=[delivery_feed.router])
    with TestClient(app) as client:
        yield client


def _path(session_id: str) -> str:
    return f"/v1/sessions/{session_id}/signals/live"


def _new_session(client: TestClient) -> str:
    """A scheduled session of a new user, made through the app's own pool."""

    async def create() -> str:
        pool = client.app.state.pool
        record = await repo.create_session(
            pool,
            user_id=await make_user(pool),
            role_track="general",
            round_type="behavioral",
            difficulty="easy",
            duration_min=10,
            persona="alex",
        )
        return str(record.id)

    return client.portal.call(create)


def test_a_token_for_another_session_is_refused(client: TestClient) -> None:
    session_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    token = client.app.state.tokens.issue(other, "coach-1", "coach")
    with client.websocket_connect(_path(session_id)) as ws:
        ws.send_json({"type": "auth", "token": token})
        reply = ws.receive_json()
        assert reply == {"type": "error", "code": "invalid_token", "message": "token is for another room"}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_a_first_message_that_is_not_auth_is_refused(client: TestClient) -> None:
    with client.websocket_connect(_path(str(uuid.uuid4()))) as ws:
        ws.send_text("not json at all")
        reply = ws.receive_json()
        assert reply["code"] == "invalid_token" and "auth" in reply["message"]


def test_subscribers_get_the_sessions_events_and_only_those(client: TestClient) -> None:
    session_id = _new_session(client)
    token = client.app.state.tokens.issue(session_id, "candidate-1", "candidate")
    feeds: LiveFeeds = client.app.state.feeds
    with client.websocket_connect(_path(session_id)) as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json() == {"type": "subscribed", "session_id": session_id}
        client.portal.call(feeds.publish, str(uuid.uuid4()), {"type": "summary", "other": True})
        client.portal.call(feeds.publish, session_id, {"type": "nudge", "kind": "face_missing"})
        assert ws.receive_json() == {"type": "nudge", "kind": "face_missing"}
        client.portal.call(feeds.publish, session_id, {"type": "ended", "reason": "completed"})
        assert ws.receive_json()["type"] == "ended"


def test_a_session_that_is_gone_has_no_feed(client: TestClient) -> None:
    session_id = str(uuid.uuid4())  # a genuine token for a session that no longer exists
    token = client.app.state.tokens.issue(session_id, "candidate-1", "candidate")
    with client.websocket_connect(_path(session_id)) as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json() == {"type": "access_ended", "reason": "session_deleted"}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4410


def test_a_large_message_after_auth_ends_the_feed(client: TestClient) -> None:
    session_id = _new_session(client)
    token = client.app.state.tokens.issue(session_id, "candidate-1", "candidate")
    with client.websocket_connect(_path(session_id)) as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "subscribed"
        ws.send_text("x" * (delivery_feed.MAX_MESSAGE_BYTES + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1009
