"""Revoking or expiring a share, or deleting the session or the account, ends a coach's watch
within a second: the room socket and the live feed are told why and closed, media stops, and
the coach's token no longer opens either. A signalling socket that never joins is closed.

The whole app is served in this process (as tests/media/test_signalling.py serves it); the
coach is an aiortc client that watches receive-only, as the watch page does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import asyncpg
import httpx
import websockets

from api.watch_access import ACCESS_ENDED_CLOSE
from media.signalling import JOIN_TIMEOUT_CLOSE, JOIN_TIMEOUT_S
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    Greenroom,
    StartGreenroom,
    _hear_first_question,
    start_greenroom,
    voice_models,
)
from tests.security.watching import both_ended, coach_join, open_feed, share, watching_coach

# Revocation must reach a coach within this long.
WITHIN_S = 1.0


async def _greenroom(start_greenroom: StartGreenroom) -> Greenroom:
    return await start_greenroom(signals_enabled=False)


async def _refused_again(greenroom: Greenroom, session_id: str, token: str, reason: str) -> None:
    """An old coach token opens neither the room nor the feed."""
    room = await greenroom.connect(session_id)
    await room.send({"type": "join", "token": token})
    assert await room.next_event("access_ended") == {"type": "access_ended", "reason": reason}
    assert await room.wait_closed() == (ACCESS_ENDED_CLOSE, reason)
    feed, first = await open_feed(greenroom, session_id, token)
    assert first == {"type": "access_ended", "reason": reason}
    await asyncio.wait_for(feed.wait_closed(), 5)
    assert feed.close_code == ACCESS_ENDED_CLOSE


async def test_revoking_the_share_ends_a_coach_who_is_watching(start_greenroom: StartGreenroom) -> None:
    greenroom = await _greenroom(start_greenroom)
    body = await greenroom.new_session()
    session_id = body["session"]["id"]
    candidate, _ = await greenroom.join_as_candidate(session_id, body["room"]["token"])
    await _hear_first_question(candidate)
    share_token = await share(greenroom, session_id)
    join = await coach_join(greenroom, share_token)
    coach = await watching_coach(greenroom, session_id, join)
    # The coach hears the interviewer and the candidate (two voices).
    assert coach.tracks >= 2
    await coach.receives("audio", 50)

    revoked_at = time.monotonic()
    assert (await greenroom.http.delete(f"/v1/sessions/{session_id}/share")).status_code == 204
    ended = await both_ended(coach)

    room_s, feed_s = ended["room_at"] - revoked_at, ended["feed_at"] - revoked_at
    print(f"revoke -> room socket closed {room_s * 1000:.0f} ms, live feed closed {feed_s * 1000:.0f} ms")
    assert room_s < WITHIN_S and feed_s < WITHIN_S
    assert ended["room_events"] == [{"type": "access_ended", "reason": "share_revoked"}]
    assert ended["room_close"] == (ACCESS_ENDED_CLOSE, "share_revoked")
    assert ended["feed_events"] == [{"type": "access_ended", "reason": "share_revoked"}]
    assert ended["feed_close"] == ACCESS_ENDED_CLOSE

    # No more media: the server closed the coach's peer; the candidate's interview goes on.
    room = greenroom.app.state.rooms.room(session_id)
    assert join["identity"] not in room.participants
    assert any(p.role == "candidate" for p in room.participants.values())
    await asyncio.sleep(0.5)
    frames = dict(coach.frames)
    await asyncio.sleep(1.0)
    assert coach.frames == frames, "the coach still receives media after the share was revoked"
    assert candidate.client.pc is not None and candidate.client.pc.connectionState == "connected"

    # The token (still within its lifetime) opens nothing; the link gives no new one.
    await _refused_again(greenroom, session_id, join["token"], "share_revoked")
    async with httpx.AsyncClient(base_url=greenroom.base_url) as anonymous:
        assert (await anonymous.post(f"/v1/shared/{share_token}/watch")).status_code == 410


async def test_a_revocation_made_elsewhere_ends_the_watch_within_a_second(
    start_greenroom: StartGreenroom, pool: asyncpg.Pool
) -> None:
    """Another process (or anything not calling this one) revokes: the periodic re-check sees it."""
    greenroom = await _greenroom(start_greenroom)
    session_id = (await greenroom.new_session())["session"]["id"]
    coach = await watching_coach(greenroom, session_id, await coach_join(greenroom, await share(greenroom, session_id)))

    revoked_at = time.monotonic()
    await pool.execute("UPDATE report_shares SET revoked_at = now() WHERE session_id = $1", uuid.UUID(session_id))
    ended = await both_ended(coach)

    print(f"revoked in the database -> room {(ended['room_at'] - revoked_at) * 1000:.0f} ms")
    assert ended["room_at"] - revoked_at < WITHIN_S and ended["feed_at"] - revoked_at < WITHIN_S
    assert ended["room_close"] == (ACCESS_ENDED_CLOSE, "share_revoked")
    assert ended["feed_events"] == [{"type": "access_ended", "reason": "share_revoked"}]


async def test_a_share_reaching_its_expiry_ends_the_watch(
    start_greenroom: StartGreenroom, pool: asyncpg.Pool
) -> None:
    greenroom = await _greenroom(start_greenroom)
    session_id = (await greenroom.new_session())["session"]["id"]
    join = await coach_join(greenroom, await share(greenroom, session_id))
    coach = await watching_coach(greenroom, session_id, join)

    # The link's expiry comes (as if an hour had passed): nothing calls the server about it.
    expired_at = time.monotonic()
    await pool.execute("UPDATE report_shares SET expires_at = now() WHERE session_id = $1", uuid.UUID(session_id))
    ended = await both_ended(coach)

    print(f"share expired -> room {(ended['room_at'] - expired_at) * 1000:.0f} ms")
    assert ended["room_at"] - expired_at < WITHIN_S and ended["feed_at"] - expired_at < WITHIN_S
    assert ended["room_events"] == [{"type": "access_ended", "reason": "share_expired"}]
    assert ended["room_close"] == (ACCESS_ENDED_CLOSE, "share_expired")
    assert ended["feed_events"] == [{"type": "access_ended", "reason": "share_expired"}]
    await _refused_again(greenroom, session_id, join["token"], "share_expired")


async def test_deleting_the_session_ends_the_watch(start_greenroom: StartGreenroom) -> None:
    greenroom = await _greenroom(start_greenroom)
    session_id = (await greenroom.new_session())["session"]["id"]
    join = await coach_join(greenroom, await share(greenroom, session_id))
    coach = await watching_coach(greenroom, session_id, join)

    deleted_at = time.monotonic()
    assert (await greenroom.http.delete(f"/v1/sessions/{session_id}")).status_code == 204
    ended = await both_ended(coach)

    assert ended["room_at"] - deleted_at < WITHIN_S and ended["feed_at"] - deleted_at < WITHIN_S
    assert ended["room_events"] == [{"type": "access_ended", "reason": "session_deleted"}]
    assert ended["room_close"] == (ACCESS_ENDED_CLOSE, "session_deleted")
    assert ended["feed_events"] == [{"type": "access_ended", "reason": "session_deleted"}]
    await _refused_again(greenroom, session_id, join["token"], "session_deleted")


async def test_deleting_the_account_ends_the_watch(start_greenroom: StartGreenroom) -> None:
    greenroom = await _greenroom(start_greenroom)
    session_id = (await greenroom.new_session())["session"]["id"]
    join = await coach_join(greenroom, await share(greenroom, session_id))
    coach = await watching_coach(greenroom, session_id, join)

    deleted_at = time.monotonic()
    assert (await greenroom.http.delete("/v1/users/me")).status_code == 204
    ended = await both_ended(coach)

    assert ended["room_at"] - deleted_at < WITHIN_S and ended["feed_at"] - deleted_at < WITHIN_S
    assert ended["room_events"] == [{"type": "access_ended", "reason": "account_deleted"}]
    assert ended["room_close"] == (ACCESS_ENDED_CLOSE, "account_deleted")
    assert ended["feed_events"] == [{"type": "access_ended", "reason": "account_deleted"}]
    await _refused_again(greenroom, session_id, join["token"], "session_deleted")


async def test_a_coach_token_without_a_share_link_opens_nothing(start_greenroom: StartGreenroom) -> None:
    greenroom = await _greenroom(start_greenroom)
    session_id = (await greenroom.new_session())["session"]["id"]
    token = greenroom.app.state.tokens.issue(session_id, "coach-unshared", "coach")
    await _refused_again(greenroom, session_id, token, "share_revoked")


async def test_a_socket_that_does_not_join_is_closed(start_greenroom: StartGreenroom) -> None:
    greenroom = await _greenroom(start_greenroom)
    session_id = (await greenroom.new_session())["session"]["id"]
    # Not closed before the timeout (counted from before the sockets opened), nor long after it
    # (counted from once both were open, so a slow connect is not charged to the server).
    before_open = time.monotonic()
    silent = await greenroom.connect(session_id)
    chatty = await greenroom.connect(session_id)
    both_open = time.monotonic()

    async def ping() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while not chatty.closed:
                await chatty.send({"type": "ping"})
                await asyncio.sleep(0.5)

    pinging = asyncio.create_task(ping())
    try:
        for client in (silent, chatty):
            code, _ = await client.wait_closed(timeout=JOIN_TIMEOUT_S + 3)
            assert code == JOIN_TIMEOUT_CLOSE
    finally:
        pinging.cancel()
    closed_at = time.monotonic()
    assert closed_at - before_open >= JOIN_TIMEOUT_S - 0.5
    assert closed_at - both_open <= JOIN_TIMEOUT_S + 2
