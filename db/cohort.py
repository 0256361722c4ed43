"""What an organisation's cohort view is built from: the members who share with it now, and the
sessions they share, with their stored scorecards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from db.audit import SHOWN_NAME
from db.pool import Db


@dataclass(frozen=True, slots=True)
class CohortSession:
    """A session a member shares with the organisation (session_id None: a member sharing
    everything who has no session yet)."""

    user_id: UUID
    display_name: str
    session_id: UUID | None
    status: str | None
    created_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    dimensions: dict[str, Any] | None


async def cohort_sessions(db: Db, org_id: UUID) -> list[CohortSession]:
    """For each member with a live share with the organisation, the sessions it covers (all of
    theirs, or the ones shared one by one); a member covering none appears once, without one."""
    rows = await db.fetch(
        f"""
        WITH sharing AS (
            SELECT cs.owner_id,
                   bool_or(cs.session_id IS NULL) AS everything,
                   coalesce(array_agg(cs.session_id) FILTER (WHERE cs.session_id IS NOT NULL), '{{}}') AS chosen
            FROM coach_shares cs
            JOIN org_members m ON m.org_id = cs.org_id AND m.user_id = cs.owner_id
            WHERE cs.org_id = $1 AND cs.revoked_at IS NULL
            GROUP BY cs.owner_id
        )
        SELECT sh.owner_id AS user_id, {SHOWN_NAME.format(u="u")} AS display_name,
               s.id AS session_id, s.status, s.created_at, s.started_at, s.ended_at, c.dimensions
        FROM sharing sh
        JOIN users u ON u.id = sh.owner_id
        LEFT JOIN sessions s ON s.user_id = sh.owner_id AND (sh.everything OR s.id = ANY(sh.chosen))
        LEFT JOIN session_scorecards c ON c.session_id = s.id
        ORDER BY display_name, sh.owner_id, coalesce(s.started_at, s.created_at), s.id
        """,
        org_id,
    )
    return [CohortSession(**dict(r)) for r in rows]
