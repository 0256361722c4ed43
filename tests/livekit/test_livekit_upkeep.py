"""What the API keeps up on the LiveKit transport between webhooks, against a real LiveKit server:
coaches sent away when their share link expires while they watch, and sessions ended by LiveKit's
webhooks scored at once (api/livekit_upkeep.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from uuid import UUID

import httpx
import jwt
from livekit import api, rtc

from api.app import create_app
from api.tokens import SHARE_ATTRIBUTE
from db import sessions as db_sessions
from greenroom.settings import Settings
from tests.livekit.conftest import WebhookedLiveKit
from tests.livekit.test_livekit_api import _coach_join, _eventually, _livekit_mode, _lkapi, _schedule, _served, _sign_up

EXPIRES_IN_S = 2.0


def _share_of(token: str) -> UUID:
    """The share link a coach's room token names."""
    return UUID(jwt.decode(token, options={"verify_signature": False})["attributes"][SHARE_ATTRIBUTE])


async def test_a_coach_is_removed_soon_after_the_share_link_expires_while_watching(
    livekit_webhook_server: WebhookedLiveKit, settings: Settings
) -> None:
    lk = livekit_webhook_server
    app = create_app(_livekit_mode(settings, lk.server))
    candidate, coach, staying_coach = rtc.Room(), rtc.Room(), rtc.Room()
    async with _served(app, lk.api_port) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        await _sign_up(client)
        session_id, join = await _schedule(client)
        watch = await _coach_join(client, session_id)
        staying = await _coach_join(client, session_id)  # a second link, still good
        gone: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        coach.on("disconnected", lambda _reason: gone.done() or gone.set_result(time.monotonic()))
        try:
            await candidate.connect(join["url"], join["token"])
            await coach.connect(watch["url"], watch["token"])
            await staying_coach.connect(staying["url"], staying["token"])
            # The API's shortest link lives a minute; this one expires two seconds after all are
            # in (however long connecting took).
            await app.state.pool.execute(
                "UPDATE report_shares SET expires_at = now() + make_interval(secs => $2) WHERE id = $1",
                _share_of(watch["token"]),
                EXPIRES_IN_S,
            )
            expires_at = time.monotonic() + EXPIRES_IN_S
            await asyncio.sleep(max(0.0, expires_at - time.monotonic() - 0.5))
            assert not gone.done(), "the coach was removed before the link expired"
            left_at = await asyncio.wait_for(gone, EXPIRES_IN_S + 5)
            assert left_at - expires_at < 2.5, f"removed {left_at - expires_at:.1f} s after the expiry"
            await asyncio.sleep(1.5)  # a recheck or two later, the other coach and the candidate stay
            assert staying_coach.connection_state == rtc.ConnectionState.CONN_CONNECTED
            assert candidate.connection_state == rtc.ConnectionState.CONN_CONNECTED
        finally:
            for room in (staying_coach, coach, candidate):
                await room.disconnect()


async def _answered(pool, session_id: UUID) -> None:
    """One question and its answer, as an interviewer would have stored them."""
    now = datetime.now(UTC)
    question_id = await db_sessions.add_question(
        pool, session_id, 1, "Tell me about a project you are proud of.", "bank", None, "alex", now
    )
    await db_sessions.add_response(
        pool,
        session_id,
        question_id,
        "I led a small team that rebuilt our deploy pipeline, and as a result releases took an hour, not a day.",
        now,
        now,
    )


async def _scored(pool, session_id: UUID) -> bool:
    scorecards = await pool.fetchval("SELECT count(*) FROM session_scorecards WHERE session_id = $1", session_id)
    answers = await pool.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session_id)
    return (scorecards, answers) == (1, 1)


async def test_sessions_ended_by_webhooks_are_scored_without_anyone_opening_the_report(
    livekit_webhook_server: WebhookedLiveKit, settings: Settings
) -> None:
    lk = livekit_webhook_server
    app = create_app(_livekit_mode(settings, lk.server, reconnect_grace_s=1.0))
    left, closed = rtc.Room(), rtc.Room()
    async with (
        _served(app, lk.api_port) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
        _lkapi(lk.server) as lkapi,
    ):
        pool = app.state.pool
        await _sign_up(client)
        left_id, left_join = await _schedule(client)
        closed_id, closed_join = await _schedule(client)
        try:
            await left.connect(left_join["url"], left_join["token"])
            await closed.connect(closed_join["url"], closed_join["token"])

            async def both_live() -> bool:
                statuses = [(await client.get(f"/v1/sessions/{s}")).json()["status"] for s in (left_id, closed_id)]
                return statuses == ["live", "live"]

            await _eventually(both_live)
            for session_id in (left_id, closed_id):
                await _answered(pool, UUID(session_id))
            await left.disconnect()  # never comes back: abandoned after the grace period
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=closed_id))  # abandoned at once

            for session_id, reason in ((left_id, "candidate_disconnected"), (closed_id, "room_finished")):

                async def scored(sid: UUID = UUID(session_id)) -> bool:
                    return await _scored(pool, sid)

                await _eventually(scored, timeout_s=15)
                row = await pool.fetchrow("SELECT status, end_reason FROM sessions WHERE id = $1", UUID(session_id))
                assert (row["status"], row["end_reason"]) == ("abandoned", reason)
        finally:
            await closed.disconnect()
            await left.disconnect()
