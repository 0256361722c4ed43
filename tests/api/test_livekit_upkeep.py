"""The LiveKit upkeep's rules on a real database, with LiveKit scripted: which live sessions the
sweep ends, which coaches the re-check removes, when the interviewer's recall stops."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest
from livekit import api

from api.livekit_rooms import InterviewerState, LiveKitRooms, LiveKitUnavailable
from api.livekit_upkeep import LiveKitUpkeep
from api.tokens import ROLE_ATTRIBUTE, SHARE_ATTRIBUTE
from db import sessions as db_sessions
from db import shares

STALE_AFTER_S = 0.3


class ScriptedRooms(LiveKitRooms):
    """LiveKit as the upkeep sees it: who is in which room, and what each call did."""

    def __init__(self) -> None:
        super().__init__(None, agent_name="greenroom-interviewer", empty_timeout_s=60, max_participants=5)  # type: ignore[arg-type]
        self.candidates: set[str] = set()
        self.unavailable = False
        self.removed: list[tuple[str, str]] = []
        self.closed: list[str] = []
        self.interviewer_states: list[InterviewerState] = []
        self.interviewer_asked = 0

    async def candidate_present(self, session_id: str) -> bool:
        if self.unavailable:
            raise LiveKitUnavailable("list_participants")
        return session_id in self.candidates

    async def remove_participant(self, session_id: str, identity: str) -> None:
        self.removed.append((session_id, identity))

    async def close_room(self, session_id: str, reason: str, *, wait: bool = True) -> None:
        self.closed.append(session_id)

    async def ensure_interviewer(self, session_id: str) -> InterviewerState:
        self.interviewer_asked += 1
        return self.interviewer_states.pop(0) if self.interviewer_states else "present"

    async def room_names(self) -> list[str]:
        return []


@pytest.fixture
async def upkeep(pool: asyncpg.Pool) -> AsyncIterator[tuple[LiveKitUpkeep, ScriptedRooms, list[UUID]]]:
    rooms = ScriptedRooms()
    ended: list[UUID] = []

    async def on_ended(session_id: UUID) -> None:
        ended.append(session_id)

    keeper = LiveKitUpkeep(
        pool, rooms, on_ended=on_ended, sweep_every_s=3600, stale_after_s=STALE_AFTER_S,
        coach_recheck_s=3600, recall_every_s=0.01,
    )
    keeper.start()  # the periodic loops wait an hour: the test calls each step itself
    try:
        yield keeper, rooms, ended
    finally:
        await keeper.aclose()


async def _session(pool: asyncpg.Pool, status: str = "live") -> UUID:
    user_id = await pool.fetchval(
        "INSERT INTO users (email, display_name) VALUES ($1, 'Upkeep test') RETURNING id",
        f"upkeep-{secrets.token_hex(6)}@greenroom.invalid",
    )
    return await pool.fetchval(
        """
        INSERT INTO sessions (user_id, role_track, round_type, difficulty, duration_min, persona,
                              status, started_at, heartbeat_at)
        VALUES ($1, 'general', 'behavioral', 'easy', 10, 'alex', $2, now(), now())
        RETURNING id
        """,
        user_id,
        status,
    )


async def _status(pool: asyncpg.Pool, session_id: UUID) -> tuple[str, str | None]:
    row = await pool.fetchrow("SELECT status, end_reason FROM sessions WHERE id = $1", session_id)
    return row["status"], row["end_reason"]


async def test_the_sweep_ends_only_sessions_nothing_kept_alive_whose_candidate_is_gone(
    upkeep: tuple[LiveKitUpkeep, ScriptedRooms, list[UUID]], pool: asyncpg.Pool
) -> None:
    keeper, rooms, ended = upkeep
    kept, lost, waiting = [await _session(pool) for _ in range(3)]
    rooms.candidates.add(str(waiting))  # the interviewer died; the candidate waits for another
    await asyncio.sleep(STALE_AFTER_S + 0.2)
    await db_sessions.heartbeat(pool, [kept])  # its worker is alive

    rooms.unavailable = True  # LiveKit cannot say who is in the rooms: nothing is ended
    with pytest.raises(LiveKitUnavailable):
        await keeper.sweep()
    assert await _status(pool, lost) == ("live", None)

    rooms.unavailable = False
    assert lost in await keeper.sweep()
    assert await _status(pool, lost) == ("abandoned", "server_lost")
    assert await _status(pool, kept) == ("live", None)
    assert await _status(pool, waiting) == ("live", None)
    assert str(lost) in rooms.closed and str(waiting) not in rooms.closed
    await asyncio.sleep(0.05)
    assert lost in ended and kept not in ended and waiting not in ended


async def test_the_recheck_removes_coaches_whose_link_expired_or_was_revoked_and_keeps_the_others(
    upkeep: tuple[LiveKitUpkeep, ScriptedRooms, list[UUID]], pool: asyncpg.Pool
) -> None:
    keeper, rooms, _ = upkeep
    session_id = await _session(pool)
    now = datetime.now(UTC)
    good = await shares.create_share(pool, session_id, now + timedelta(hours=1))
    expired = await shares.create_share(pool, session_id, now - timedelta(seconds=1))

    def coach(identity: str, share_id: UUID | None) -> api.ParticipantInfo:
        attributes = {ROLE_ATTRIBUTE: "coach", **({SHARE_ATTRIBUTE: str(share_id)} if share_id else {})}
        return api.ParticipantInfo(identity=identity, attributes=attributes)

    for participant in (coach("coach-good", good.id), coach("coach-expired", expired.id), coach("coach-none", None)):
        keeper.coach_joined(session_id, participant)
    removed = await keeper.recheck_coaches()
    assert sorted(removed) == ["coach-expired", "coach-none"]
    assert keeper.watched() == {session_id: {"coach-good"}}
    assert await keeper.recheck_coaches() == []  # nothing more to do: no call to LiveKit

    await shares.revoke_shares(pool, session_id)
    assert await keeper.recheck_coaches() == ["coach-good"]
    assert keeper.watched() == {}
    assert sorted(identity for _, identity in rooms.removed) == ["coach-expired", "coach-good", "coach-none"]


async def test_the_recall_runs_until_an_interviewer_is_back_and_not_for_an_ended_session(
    upkeep: tuple[LiveKitUpkeep, ScriptedRooms, list[UUID]], pool: asyncpg.Pool
) -> None:
    keeper, rooms, _ = upkeep
    session_id = await _session(pool)
    rooms.interviewer_states = ["dispatched", "coming", "coming", "dispatched", "present"]
    keeper.interviewer_left(session_id)
    keeper.interviewer_left(session_id)  # the same recall, not a second one
    for _ in range(100):
        if rooms.interviewer_asked >= 5:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert rooms.interviewer_asked == 5  # stopped once one was present

    ended = await _session(pool, status="completed")
    rooms.interviewer_asked = 0
    keeper.interviewer_left(ended)
    await asyncio.sleep(0.1)
    assert rooms.interviewer_asked == 0
