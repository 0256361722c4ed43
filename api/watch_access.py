"""Live watching lasts only as long as access does.

A coach's room socket and a live signals feed are checked against the share link (or, for a
coach who joined from their dashboard, the candidate's coach shares), the session and its owner's
account when they join, and again on every change: the API handlers that revoke a share or
delete a session or an account end them at once, and a re-check every half second catches what
they cannot see (a share reaching its expiry, a change made by another process).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from api.tokens import RoomClaims
from db import shares
from db.sessions import OPEN_STATUSES

logger = logging.getLogger(__name__)

SHARE_REVOKED = "share_revoked"
SHARE_EXPIRED = "share_expired"
SESSION_DELETED = "session_deleted"
SESSION_ENDED = "session_ended"
ACCOUNT_DELETED = "account_deleted"
# The WebSocket close code of a connection whose access ended (as HTTP's 410 Gone).
ACCESS_ENDED_CLOSE = 4410
RECHECK_S = 0.5

End = Callable[[str], Awaitable[None]]  # tells the connection why, and closes it


def access_ended(reason: str) -> dict[str, Any]:
    """The event a watcher is sent when its access ends."""
    return {"type": "access_ended", "reason": reason}


class AccessEnded(Exception):
    """Watching is not, or no longer, allowed; `reason` is one of the codes above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False, slots=True)
class Watcher:
    """One live connection that lasts only while its access does."""

    session_id: UUID
    owner_id: UUID
    share_id: UUID | None  # None: the owner's own connection, or a coach's through a coach share
    end: End
    coach_id: UUID | None = None  # a coach watching through a coach share (their account)
    name: str = ""  # as the candidate is shown it
    in_room: bool = False  # the room socket (not the live feed)


def refusal(state: shares.WatchState, share_id: UUID | None, coach_id: UUID | None = None) -> str | None:
    """Why a watcher may not (or no longer) watch the session, or None."""
    if state.owner_id is None:
        return SESSION_DELETED if state.account_exists else ACCOUNT_DELETED
    if state.status not in OPEN_STATUSES:
        return SESSION_ENDED
    if coach_id is not None and share_id is None:
        return None if coach_id in state.coaches else SHARE_REVOKED
    if share_id is None:
        return None
    share = state.shares.get(share_id)
    if share is None or share.revoked_at is not None:
        return SHARE_REVOKED
    if share.expires_at <= state.now:
        return SHARE_EXPIRED
    return None


class WatchAccess:
    """The live watchers of every session here, checked on join and whenever access may change."""

    def __init__(self, pool: asyncpg.Pool, *, recheck_s: float = RECHECK_S) -> None:
        self._pool = pool
        self._recheck_s = recheck_s
        self._watchers: dict[UUID, set[Watcher]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._recheck_forever(), name="watch-access")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})

    async def watch(self, claims: RoomClaims, end: End, *, in_room: bool = False) -> Watcher:
        """Registers a connection made with these claims, if they may watch now; raises
        AccessEnded if not. A coach's claims must name a live share link, or a coach whom a
        coach share lets watch."""
        session_id = _uuid(claims.room)
        share_id = _uuid(claims.share_id) if claims.share_id else None
        coach_id = _uuid(claims.coach_id) if claims.coach_id and share_id is None else None
        if session_id is None:
            raise AccessEnded(SESSION_DELETED)
        if claims.role == "coach" and share_id is None and coach_id is None:
            raise AccessEnded(SHARE_REVOKED)
        state = await shares.watch_state(
            self._pool, session_id, [share_id] if share_id else [], coach_ids=[coach_id] if coach_id else []
        )
        if (reason := refusal(state, share_id, coach_id)) is not None:
            raise AccessEnded(reason)
        assert state.owner_id is not None  # refusal() said the session is there
        name = claims.name if claims.role == "coach" else ""
        watcher = Watcher(session_id, state.owner_id, share_id, end, coach_id, name, in_room)
        self._watchers.setdefault(session_id, set()).add(watcher)
        return watcher

    def coaches_in_room(self, session_id: str) -> list[str]:
        """The names of the coaches watching the session's room from here, sorted."""
        sid = _uuid(session_id)
        if sid is None:
            return []
        return sorted(w.name for w in self._of(sid) if w.in_room and (w.share_id or w.coach_id))

    def forget(self, watcher: Watcher) -> None:
        """The connection has gone by itself."""
        watchers = self._watchers.get(watcher.session_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[watcher.session_id]

    async def share_revoked(self, session_id: UUID) -> None:
        """The session's share links were revoked: every coach watching through one goes."""
        await self._end((w, SHARE_REVOKED) for w in self._of(session_id) if w.share_id is not None)

    async def coach_access_changed(self, *, owner_id: UUID | None = None, coach_id: UUID | None = None) -> None:
        """A coach share of this candidate was revoked, or this coach lost an organisation role:
        the sessions they watch are re-checked now, and whoever may no longer watch goes."""
        sessions = {
            w.session_id
            for watchers in self._watchers.values()
            for w in watchers
            if w.coach_id is not None and (w.owner_id == owner_id or w.coach_id == coach_id)
        }
        for session_id in sessions:
            await self.recheck(session_id)

    async def session_deleted(self, session_id: UUID) -> None:
        await self._end((w, SESSION_DELETED) for w in self._of(session_id))

    async def account_deleted(self, user_id: UUID) -> None:
        everyone = [w for watchers in self._watchers.values() for w in watchers]
        await self._end((w, ACCOUNT_DELETED) for w in everyone if w.owner_id == user_id)

    async def recheck(self, session_id: UUID) -> None:
        """One query for all of a session's watchers; ends those whose access has gone."""
        watchers = self._of(session_id)
        if not watchers:
            return
        share_ids = {w.share_id for w in watchers if w.share_id is not None}
        coach_ids = {w.coach_id for w in watchers if w.coach_id is not None}
        state = await shares.watch_state(
            self._pool, session_id, list(share_ids), owner_id=watchers[0].owner_id, coach_ids=list(coach_ids)
        )
        await self._end(
            (w, reason) for w in watchers if (reason := refusal(state, w.share_id, w.coach_id)) is not None
        )

    def _of(self, session_id: UUID) -> list[Watcher]:
        return list(self._watchers.get(session_id, ()))

    async def _end(self, ending: Iterable[tuple[Watcher, str]]) -> None:
        # Only watchers still here: a recheck reads the watchers before its query, and one that
        # a revocation ended meanwhile must not be told twice.
        ending = [(w, reason) for w, reason in ending if w in self._watchers.get(w.session_id, ())]
        for watcher, _ in ending:
            self.forget(watcher)
        results = await asyncio.gather(*(w.end(reason) for w, reason in ending), return_exceptions=True)
        for (watcher, _), result in zip(ending, results, strict=True):
            if isinstance(result, Exception):  # the connection was closing anyway
                logger.info("watcher already gone", extra={"session_id": str(watcher.session_id)})

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(self._recheck_s)
            for session_id in list(self._watchers):
                try:
                    await self.recheck(session_id)
                except Exception as exc:  # the database is away (so nobody can revoke either): next time
                    logger.warning(
                        "watch access not rechecked",
                        extra={"session_id": str(session_id), "error": type(exc).__name__},
                    )


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
