"""Share links to a session's report (report_shares), and what watching a session live
depends on: the session, its owner's account, the share links and the coaches asked about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from db.coach_shares import grants
from db.pool import Db, transaction


@dataclass(frozen=True, slots=True)
class ShareRow:
    """A share link's row."""

    id: UUID
    session_id: UUID
    expires_at: datetime
    revoked_at: datetime | None


async def create_share(db: Db, session_id: UUID, expires_at: datetime) -> ShareRow:
    """Records a new share link for a session."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            """
            INSERT INTO report_shares (session_id, expires_at) VALUES ($1, $2)
            RETURNING id, session_id, expires_at, revoked_at
            """,
            session_id,
            expires_at,
        )
    return ShareRow(**dict(row))


async def get_share(db: Db, share_id: UUID) -> ShareRow | None:
    """A share link's row, or None (never made, or its session was deleted)."""
    row = await db.fetchrow(
        "SELECT id, session_id, expires_at, revoked_at FROM report_shares WHERE id = $1", share_id
    )
    return None if row is None else ShareRow(**dict(row))


async def revoke_shares(db: Db, session_id: UUID) -> int:
    """Revokes a session's live share links; returns how many."""
    async with transaction(db) as conn:
        result = await conn.execute(
            """
            UPDATE report_shares SET revoked_at = now()
            WHERE session_id = $1 AND revoked_at IS NULL AND expires_at > now()
            """,
            session_id,
        )
    return int(result.split()[-1])


@dataclass(frozen=True, slots=True)
class WatchState:
    """What watching a session live depends on, read in one query at one instant."""

    now: datetime
    owner_id: UUID | None  # None: the session is gone
    status: str | None
    account_exists: bool  # always True when the owner was not asked about
    shares: dict[UUID, ShareRow]  # the asked-about share links the session still has
    coaches: frozenset[UUID] = frozenset()  # the asked-about coaches a live coach share lets watch


async def watch_state(
    db: Db,
    session_id: UUID,
    share_ids: Sequence[UUID],
    *,
    owner_id: UUID | None = None,
    coach_ids: Sequence[UUID] = (),
) -> WatchState:
    """The session, its owner's account, the given share links and which of the given coaches
    (accounts watching through a coach share) may still watch, in one cheap query."""
    rows = await db.fetch(
        f"""
        SELECT now() AS now, s.user_id AS owner_id, s.status,
               ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $2)) AS account_exists,
               ARRAY(SELECT c.id FROM unnest($4::uuid[]) AS c(id)
                     WHERE EXISTS (SELECT 1 FROM coach_shares cs WHERE {grants("cs", "s", "c.id")})) AS coaches,
               r.id, r.session_id, r.expires_at, r.revoked_at
        FROM (SELECT 1) AS one
        LEFT JOIN sessions AS s ON s.id = $1
        LEFT JOIN report_shares AS r ON r.session_id = s.id AND r.id = ANY($3::uuid[])
        """,
        session_id,
        owner_id,
        list(share_ids),
        list(coach_ids),
    )
    first = rows[0]
    return WatchState(
        now=first["now"],
        owner_id=first["owner_id"],
        status=first["status"],
        account_exists=first["account_exists"],
        shares={
            r["id"]: ShareRow(r["id"], r["session_id"], r["expires_at"], r["revoked_at"])
            for r in rows
            if r["id"] is not None
        },
        coaches=frozenset(first["coaches"] or ()),
    )
