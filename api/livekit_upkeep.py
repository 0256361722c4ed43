"""What the API keeps up for sessions on LiveKit between webhooks (GREENROOM_TRANSPORT=livekit).

- The interviewer. LiveKit does not dispatch an agent again when its worker dies, and the dead
  job stays listed as running. When the interviewer leaves the room of a session still open
  (participant_left), it is dispatched again, every recall_every_s until an interviewer is in
  the room (a worker may still be starting), the session ends, the room goes, or
  recall_give_up_s passes. A candidate who rejoins asks for a token, which does the same
  (LiveKitRooms.ensure_room). A duplicate dispatch is harmless: a job holds its session.
- Coaches. LiveKit checks a coach's token only when it joins, and refreshes the tokens of the
  participants it holds, so a coach would stay past the share link's expiry. The coaches this
  process has heard of (their webhooks, and the rooms listed when it starts) are checked every
  coach_recheck_s by the rule the embedded room applies (api/watch_access.refusal): one query
  per room with coaches, and a call to LiveKit only for a coach to remove.
- Orphans. A live session that nothing has kept alive (the interviewer's worker heartbeats
  it) for the grace period and a heartbeat, and whose candidate LiveKit does not list in its
  room, is ended as abandoned (server_lost) and its room closed, as the embedded server ends
  the sessions of a server that died. A candidate still in the room keeps the session while
  the interviewer is brought back.
- Ends. A session ended here (by a webhook or the sweep) has its end acted on at once
  (on_ended: scoring), in a task of its own, as the embedded server does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from livekit import api

from api.livekit_rooms import (
    CoachGrant,
    LiveKitRooms,
    LiveKitUnavailable,
    coach_grant,
    parse_uuid,
    refused_coaches,
    role_of,
)
from db import sessions as db_sessions
from greenroom.settings import Settings

logger = logging.getLogger(__name__)

# Why a live session nothing kept alive was ended (the embedded server says the same).
END_REASON_SERVER_LOST = "server_lost"
COACH_RECHECK_S = 1.0
RECALL_EVERY_S = 2.0
RECALL_GIVE_UP_S = 600.0
# What a failed round of upkeep may raise and be tried again next time.
PASSING_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, LiveKitUnavailable)

OnEnded = Callable[[UUID], Awaitable[None]]


class LiveKitUpkeep:
    """The interviewer brought back, coaches sent away, orphans ended (module docstring)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        rooms: LiveKitRooms,
        *,
        on_ended: OnEnded | None,
        sweep_every_s: float,
        stale_after_s: float,
        coach_recheck_s: float = COACH_RECHECK_S,
        recall_every_s: float = RECALL_EVERY_S,
        recall_give_up_s: float = RECALL_GIVE_UP_S,
    ) -> None:
        """`on_ended(session_id)` runs once a session has ended here; None: nothing does."""
        self._pool = pool
        self._rooms = rooms
        self._on_ended = on_ended
        self._sweep_every_s = sweep_every_s
        self._stale_after_s = stale_after_s
        self._coach_recheck_s = coach_recheck_s
        self._recall_every_s = recall_every_s
        self._recall_give_up_s = recall_give_up_s
        # The coaches known to be in each session's room: identity -> the share they came by.
        self._coaches: dict[UUID, dict[str, CoachGrant]] = {}
        self._recalls: dict[UUID, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[None]] = set()  # recalls, on_ended runs, the first look
        self._started_at = datetime.now(UTC)  # reset by start()

    @classmethod
    def from_settings(
        cls, settings: Settings, pool: asyncpg.Pool, rooms: LiveKitRooms, *, on_ended: OnEnded | None
    ) -> LiveKitUpkeep:
        return cls(
            pool,
            rooms,
            on_ended=on_ended,
            sweep_every_s=settings.session_heartbeat_s,
            stale_after_s=settings.reconnect_grace_s + settings.session_heartbeat_s,
        )

    def start(self) -> None:
        """Starts the periodic sweep and coach re-check, and looks for coaches already watching."""
        self._started_at = datetime.now(UTC)
        self._loops = [
            asyncio.create_task(self._every(self._sweep_every_s, self.sweep), name="livekit-orphan-sweep"),
            asyncio.create_task(self._every(self._coach_recheck_s, self.recheck_coaches), name="livekit-coach-recheck"),
        ]
        self._own(asyncio.create_task(self._find_coaches(), name="livekit-find-coaches"))

    async def aclose(self) -> None:
        for task in [*self._loops, *self._tasks]:
            await cancel_and_wait(task)
        self._loops = []
        self._recalls.clear()

    async def _every(self, period_s: float, step: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await step()
            except PASSING_ERRORS as exc:
                logger.warning("LiveKit upkeep skipped this time", extra={"step": step.__name__, "error": type(exc).__name__})
            except Exception:  # a bug must not stop the upkeep of every session
                logger.exception("LiveKit upkeep failed", extra={"step": step.__name__})

    def _own(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- the interviewer -------------------------------------------------------------------

    def interviewer_left(self, session_id: UUID) -> None:
        """The interviewer left the session's room: one is brought back while the session is open."""
        running = self._recalls.get(session_id)
        if running is not None and not running.done():
            return
        self._recalls[session_id] = self._own(
            asyncio.create_task(self._recall(session_id), name="livekit-interviewer-recall")
        )

    async def _recall(self, session_id: UUID) -> None:
        log = {"session_id": str(session_id)}
        give_up_at = time.monotonic() + self._recall_give_up_s
        try:
            while time.monotonic() < give_up_at:
                try:
                    session = await db_sessions.get_session(self._pool, session_id)
                    if session is None or session.status not in db_sessions.OPEN_STATUSES:
                        return
                    state = await self._rooms.ensure_interviewer(str(session_id))
                    if state in ("present", "no_room"):
                        return
                    if state == "dispatched":
                        logger.info("interviewer dispatched again: it left an open session's room", extra=log)
                except PASSING_ERRORS as exc:
                    logger.warning("interviewer not recalled this time", extra={**log, "error": type(exc).__name__})
                await asyncio.sleep(self._recall_every_s)
            logger.warning("no interviewer came back to the room; recall given up", extra=log)
        finally:
            if self._recalls.get(session_id) is asyncio.current_task():
                del self._recalls[session_id]

    # -- coaches ---------------------------------------------------------------------------

    def coach_joined(self, session_id: UUID, participant: api.ParticipantInfo) -> None:
        """A coach is in the session's room: it is re-checked from now on."""
        self._coaches.setdefault(session_id, {})[participant.identity] = coach_grant(participant)

    def coach_left(self, session_id: UUID, identity: str) -> None:
        coaches = self._coaches.get(session_id)
        if coaches is not None:
            coaches.pop(identity, None)
            if not coaches:
                del self._coaches[session_id]

    def room_finished(self, session_id: UUID) -> None:
        """The session's room is gone, with everyone in it."""
        self._coaches.pop(session_id, None)

    def watched(self) -> dict[UUID, set[str]]:
        """The coaches known to be watching, by session."""
        return {session_id: set(coaches) for session_id, coaches in self._coaches.items()}

    async def recheck_coaches(self) -> list[str]:
        """Removes every known coach who may no longer watch (share link revoked or expired, the
        session ended or deleted, the account deleted); returns their identities."""
        removed: list[str] = []
        for session_id in list(self._coaches):
            coaches = dict(self._coaches.get(session_id, {}))
            if not coaches:
                continue
            refused = await refused_coaches(self._pool, session_id, coaches)
            for identity in refused:
                try:
                    await self._rooms.remove_participant(str(session_id), identity)
                except LiveKitUnavailable:  # tried again next time
                    continue
                self.coach_left(session_id, identity)
                removed.append(identity)
            if refused:
                logger.info("coaches whose access ended removed from the room", extra={"session_id": str(session_id), "count": len(refused)})
        return removed

    async def _find_coaches(self) -> None:
        """Notes the coaches already in rooms when this process starts (their joins were heard before)."""
        try:
            for name in await self._rooms.room_names():
                session_id = parse_uuid(name)
                if session_id is None:
                    continue
                for participant in await self._rooms.participants(name):
                    if role_of(participant) == "coach":
                        self.coach_joined(session_id, participant)
        except LiveKitUnavailable:
            logger.warning("coaches already watching not looked for: LiveKit unavailable")

    # -- orphans and ends ------------------------------------------------------------------

    async def sweep(self) -> list[UUID]:
        """Ends as abandoned the live sessions nothing has kept alive whose candidate is not in
        their room (see the module docstring); returns their ids. While LiveKit cannot say who is
        in a room (LiveKitUnavailable), nothing is ended."""
        stale = await db_sessions.orphaned_sessions(
            self._pool, stale_after_s=self._stale_after_s, since=self._started_at
        )
        if not stale:
            return []
        gone = [s for s in stale if not await self._rooms.candidate_present(str(s))]
        abandoned = await db_sessions.abandon_orphaned(
            self._pool,
            among=gone,
            stale_after_s=self._stale_after_s,
            end_reason=END_REASON_SERVER_LOST,
            since=self._started_at,
        )
        for session_id in abandoned:
            logger.info("session abandoned: nothing kept it alive and its candidate is gone", extra={"session_id": str(session_id)})
            self.ended(session_id)
            try:
                await self._rooms.close_room(str(session_id), "abandoned")
            except LiveKitUnavailable:
                logger.warning("room not closed: LiveKit unavailable", extra={"session_id": str(session_id)})
        return abandoned

    def ended(self, session_id: UUID) -> None:
        """Runs the work after a session's end (on_ended) in a task of its own."""
        if self._on_ended is not None:
            self._own(asyncio.create_task(self._after_end(self._on_ended, session_id), name="livekit-session-ended"))

    @staticmethod
    async def _after_end(on_ended: OnEnded, session_id: UUID) -> None:
        try:
            await on_ended(session_id)
        except Exception:
            logger.exception("work after a session's end failed", extra={"session_id": str(session_id)})


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancels a task and waits until it has finished."""
    task.cancel()
    await asyncio.wait({task})
