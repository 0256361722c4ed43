"""Who may read a session: its owner, or a coach whom an active coach share lets see it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg
from fastapi import HTTPException

from db import coach_shares
from db import sessions as repo

SESSION_NOT_FOUND = "session not found"


@dataclass(frozen=True, slots=True)
class SessionAccess:
    """A session and why the caller may read it: as its owner (coach None) or as a coach."""

    session: repo.SessionRecord
    coach: coach_shares.CoachAccess | None

    @property
    def org_id(self) -> UUID | None:
        """The organisation the caller coaches through, if any."""
        return self.coach.org_id if self.coach is not None else None


async def readable_session(pool: asyncpg.Pool, session_id: UUID, user_id: UUID) -> SessionAccess:
    """The session if the user owns it or coaches it now; 404 otherwise."""
    session = await repo.get_session(pool, session_id)
    if session is None:
        raise HTTPException(status_code=404, detail=SESSION_NOT_FOUND)
    if session.user_id == user_id:
        return SessionAccess(session, None)
    access = await coach_shares.coach_access(pool, session_id, user_id)
    if access is None:
        raise HTTPException(status_code=404, detail=SESSION_NOT_FOUND)
    return SessionAccess(session, access)


async def coached_session(pool: asyncpg.Pool, session_id: UUID, user_id: UUID) -> SessionAccess:
    """The session if the user coaches it now (not as its owner); 404 otherwise."""
    found = await readable_session(pool, session_id, user_id)
    if found.coach is None:
        raise HTTPException(status_code=404, detail=SESSION_NOT_FOUND)
    return found
