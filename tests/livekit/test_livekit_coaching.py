"""Coaches who join from their dashboard on the LiveKit transport, against a real LiveKit server:
hidden, receive-only, under their names; revoking the candidate's share removes that coach within
a second and leaves the others; a token minted before the revoke is sent away when it joins."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from livekit import api, rtc

from api.app import create_app
from api.tokens import COACH_ATTRIBUTE, ROLE_ATTRIBUTE
from bench.livekit_server import LiveKitServer
from greenroom.settings import Settings
from tests.api.people import Person, sign_up
from tests.livekit.conftest import WebhookedLiveKit
from tests.livekit.test_livekit_api import _livekit_mode, _lkapi, _schedule, _served

WITHIN_S = 1.0


async def _watch(coach: Person, session_id: str) -> dict[str, Any]:
    response = await coach.http.post(f"/v1/sessions/{session_id}/watch")
    assert response.status_code == 200, response.text
    return response.json()


def _gone_future(room: rtc.Room) -> asyncio.Future[float]:
    gone: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    room.on("disconnected", lambda _reason: gone.done() or gone.set_result(time.monotonic()))
    return gone


async def test_revoking_a_coach_share_removes_that_dashboard_coach_within_a_second(
    livekit_settings: Settings, livekit_server: LiveKitServer
) -> None:
    settings = _livekit_mode(livekit_settings, livekit_server)
    candidate, kim_room, ade_room = rtc.Room(), rtc.Room(), rtc.Room()
    app = create_app(settings)
    async with app.router.lifespan_context(app), _lkapi(livekit_server) as lkapi:
        cara, kim, ade, olga = [await sign_up(app, name) for name in ("Cara", "Coach Kim", "Ade", "Olga")]
        client = cara.http
        try:
            org_id = (await olga.http.post("/v1/orgs", json={"name": "Advising"})).json()["id"]
            for who, role in ((ade.http, "admin"), (client, "member")):
                token = (await olga.http.post(f"/v1/orgs/{org_id}/invites", json={"role": role})).json()["token"]
                assert (await who.post(f"/v1/invites/{token}/accept")).status_code == 200
            session_id, join = await _schedule(client)
            kim_share = await client.post("/v1/coach-shares", json={"session_id": session_id, "coach_email": kim.email})
            assert (await client.post("/v1/coach-shares", json={"org_id": org_id})).status_code == 201

            await candidate.connect(join["url"], join["token"])
            kim_join, ade_join = await _watch(kim, session_id), await _watch(ade, session_id)
            assert kim_join["transport"] == "livekit" and kim_join["url"] == join["url"]
            await kim_room.connect(kim_join["url"], kim_join["token"])
            await ade_room.connect(ade_join["url"], ade_join["token"])
            kim_gone, ade_gone = _gone_future(kim_room), _gone_future(ade_room)

            # Hidden, receive-only, named: LiveKit lists them with their grants and names.
            listed = {p.identity: p for p in (await lkapi.room.list_participants(api.ListParticipantsRequest(room=session_id))).participants}
            for joined, name, coach in ((kim_join, "Coach Kim", kim), (ade_join, "Ade", ade)):
                info = listed[joined["identity"]]
                assert info.name == name and info.attributes[ROLE_ATTRIBUTE] == "coach"
                assert info.attributes[COACH_ATTRIBUTE] == str(coach.id)
                assert info.permission.hidden and not info.permission.can_publish and not info.permission.can_publish_data
            assert kim_join["identity"] not in {p.identity for p in candidate.remote_participants.values()}

            revoked_at = time.monotonic()
            response = await client.delete(f"/v1/coach-shares/{kim_share.json()['id']}")
            assert response.status_code == 204, response.text
            left_after_s = await asyncio.wait_for(kim_gone, 10) - revoked_at
            print(f"LiveKit: coach share revoked -> coach removed {left_after_s * 1000:.0f} ms")
            assert left_after_s < WITHIN_S, f"the coach left {left_after_s:.2f} s after the share was revoked"
            listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=session_id))
            assert {p.identity for p in listed.participants} == {join["identity"], ade_join["identity"]}
            assert not ade_gone.done() and ade_room.connection_state == rtc.ConnectionState.CONN_CONNECTED
            assert (await kim.http.post(f"/v1/sessions/{session_id}/watch")).status_code == 404
        finally:
            for room in (ade_room, kim_room, candidate):
                await room.disconnect()
            for person in (cara, kim, ade, olga):
                await person.aclose()


async def test_a_dashboard_coach_token_minted_before_the_revoke_is_removed_when_it_joins(
    livekit_webhook_server: WebhookedLiveKit, settings: Settings
) -> None:
    """LiveKit checks only the token: its participant_joined webhook reaches the API, which
    re-checks the coach against the candidate's coach shares and sends them away."""
    lk = livekit_webhook_server
    app = create_app(_livekit_mode(settings, lk.server))
    coach_room = rtc.Room()
    async with _served(app, lk.api_port) as base_url:
        candidate, kim = await sign_up(None, "Cara", base_url=base_url), await sign_up(None, "Coach Kim", base_url=base_url)
        try:
            session_id = await candidate.new_session()
            share = await candidate.share(coach=kim)
            kim_join = await _watch(kim, session_id)
            assert (await candidate.http.delete(f"/v1/coach-shares/{share['id']}")).status_code == 204
            gone = _gone_future(coach_room)
            await coach_room.connect(kim_join["url"], kim_join["token"])
            await asyncio.wait_for(gone, 20)
        finally:
            await coach_room.disconnect()
            for person in (candidate, kim):
                await person.aclose()
