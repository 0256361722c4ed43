"""Ending live watches when a coach share stops covering them, on both transports, at once."""

from __future__ import annotations

import logging
from uuid import UUID

import asyncpg

from api.livekit_rooms import LiveKitRooms, LiveKitUnavailable, remove_coaches_without_access
from api.watch_access import WatchAccess
from db import coach_shares

logger = logging.getLogger(__name__)


async def end_lost_watches(
    pool: asyncpg.Pool,
    access: WatchAccess | None,
    livekit: LiveKitRooms | None,
    *,
    owner_id: UUID | None = None,
    coach_id: UUID | None = None,
    org_id: UUID | None = None,
) -> None:
    """Sends away every coach who may no longer watch after a change to this candidate's shares
    (owner_id), or to this coach's role in this organisation (coach_id, org_id): the embedded
    room's and live feed's watchers are re-checked, and on LiveKit the rooms of the sessions
    concerned. LiveKit being away is logged: its upkeep re-checks every second anyway."""
    if access is not None:
        await access.coach_access_changed(owner_id=owner_id, coach_id=coach_id)
    if livekit is None:
        return
    for session_id in await coach_shares.open_sessions_of(pool, owner_id=owner_id, org_id=org_id):
        try:
            await remove_coaches_without_access(pool, livekit, session_id)
        except LiveKitUnavailable:
            logger.warning("coaches not re-checked: LiveKit unavailable", extra={"session_id": str(session_id)})
