"""Watching a live interview from a share link: `POST /v1/shared/{token}/watch`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from db import sessions as repo
from scoring.offline import OfflineEvaluator
from tests.users import PLAIN_SESSION


@pytest.fixture
async def client(app: FastAPI, app_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The owner's client, with the offline evaluator (sharing scores answers first)."""
    app.state.evaluator = OfflineEvaluator()
    yield app_client


async def _shared_session(client: httpx.AsyncClient) -> tuple[UUID, str]:
    session_id = (await client.post("/v1/sessions", json=PLAIN_SESSION)).json()["session"]["id"]
    share = await client.post(f"/v1/sessions/{session_id}/share")
    assert share.status_code == 201, share.text
    return UUID(session_id), share.json()["token"]


async def test_a_share_link_lets_a_coach_watch_a_live_session(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    session_id, token = await _shared_session(client)
    scheduled = await anonymous_client.post(f"/v1/shared/{token}/watch")
    assert scheduled.status_code == 200, scheduled.text

    await repo.mark_live(pool, session_id, datetime.now(UTC))
    response = await anonymous_client.post(f"/v1/shared/{token}/watch")
    assert response.status_code == 200, response.text
    join = response.json()
    assert join["role"] == "coach" and join["identity"].startswith("coach-") and len(join["identity"]) == 14
    assert join["session_id"] == str(session_id)
    assert join["signal_url"] == f"/v1/rooms/{session_id}/signal"
    claims = app.state.tokens.verify(join["token"], str(session_id))
    assert (claims.role, claims.identity) == ("coach", join["identity"])
    # The token names its share link (revoking it ends the watch) and lives briefly.
    link_id = app.state.share_signer.verify(token)[0]
    assert claims.share_id == str(link_id)
    assert join["expires_in_s"] == app.state.tokens.coach_ttl_s <= 120
    again = (await anonymous_client.post(f"/v1/shared/{token}/watch")).json()
    assert again["identity"] != join["identity"]


async def test_an_ended_session_cannot_be_watched(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    session_id, token = await _shared_session(client)
    assert (await client.post(f"/v1/sessions/{session_id}/end")).status_code == 200
    response = await anonymous_client.post(f"/v1/shared/{token}/watch")
    assert response.status_code == 409
    assert response.json() == {"detail": f"the interview has ended; the report is at /v1/shared/{token}"}
    assert (await anonymous_client.get(f"/v1/shared/{token}")).status_code == 200


async def test_bad_links_are_refused_as_the_shared_report_refuses_them(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient, app: FastAPI
) -> None:
    session_id, token = await _shared_session(client)
    expired = app.state.share_signer.sign(uuid4(), datetime.now(UTC) - timedelta(minutes=1))
    unknown = app.state.share_signer.sign(uuid4(), datetime.now(UTC) + timedelta(minutes=5))
    for bad, code in [("not-a-token", 404), (token[:-2] + "xx", 404), (expired, 410), (unknown, 410)]:
        watched = await anonymous_client.post(f"/v1/shared/{bad}/watch")
        shown = await anonymous_client.get(f"/v1/shared/{bad}")
        assert watched.status_code == shown.status_code == code, bad
        assert watched.json() == shown.json()

    assert (await client.delete(f"/v1/sessions/{session_id}/share")).status_code == 204
    revoked = await anonymous_client.post(f"/v1/shared/{token}/watch")
    assert revoked.status_code == 410 and revoked.json() == {"detail": "share link revoked"}
