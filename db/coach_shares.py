"""A candidate's shares with a coach or an organisation, and what they let a coach see.

A share covers one session, or all of its owner's sessions (session_id NULL), present and future.
A coach has access to a session while an unrevoked share covers it and names them (coach_id), or
names an organisation they own or administer that the candidate still belongs to (org_id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from db.accounts import normalise_email
from db.audit import SHOWN_NAME
from db.pool import Db, transaction

Via = Literal["coach", "org"]


def grants(share: str, session: str, coach: str) -> str:
    """SQL: the share (alias) is live, covers the session (alias) and lets the coach (an
    expression for a user id) watch it."""
    return f"""(
        {share}.revoked_at IS NULL
        AND {share}.owner_id = {session}.user_id
        AND ({share}.session_id IS NULL OR {share}.session_id = {session}.id)
        AND ({share}.coach_id = {coach} OR (
            {share}.org_id IS NOT NULL
            AND EXISTS (SELECT 1 FROM org_members cm WHERE cm.org_id = {share}.org_id
                        AND cm.user_id = {coach} AND cm.role IN ('owner', 'admin'))
            AND EXISTS (SELECT 1 FROM org_members om WHERE om.org_id = {share}.org_id
                        AND om.user_id = {share}.owner_id)))
    )"""


@dataclass(frozen=True, slots=True)
class CoachShareRow:
    """A share as its owner sees it."""

    id: UUID
    owner_id: UUID
    session_id: UUID | None
    coach_id: UUID | None
    coach_name: str | None
    org_id: UUID | None
    org_name: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class CoachAccess:
    """Why a coach may see a session: the share that lets them, and through whom."""

    session_id: UUID
    owner_id: UUID
    share_id: UUID
    via: Via
    org_id: UUID | None


@dataclass(frozen=True, slots=True)
class CoachedSession:
    """A session shared with a coach, for their dashboard."""

    session_id: UUID
    candidate_id: UUID
    candidate_name: str
    role_track: str
    round_type: str
    difficulty: str
    duration_min: int
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    via: Via
    org_id: UUID | None


_SHARE_SELECT = f"""
    SELECT cs.id, cs.owner_id, cs.session_id, cs.coach_id, {SHOWN_NAME.format(u="cu")} AS coach_name,
           cs.org_id, o.name AS org_name, cs.created_at, cs.revoked_at
    FROM coach_shares cs
    LEFT JOIN users cu ON cu.id = cs.coach_id
    LEFT JOIN organisations o ON o.id = cs.org_id
"""


async def create_share(
    db: Db, owner_id: UUID, session_id: UUID | None, *, coach_id: UUID | None, org_id: UUID | None
) -> CoachShareRow:
    """Records a share of one session (or all, session_id None) with a coach or an organisation."""
    async with transaction(db) as conn:
        share_id = await conn.fetchval(
            """
            INSERT INTO coach_shares (owner_id, session_id, coach_id, org_id) VALUES ($1, $2, $3, $4)
            RETURNING id
            """,
            owner_id,
            session_id,
            coach_id,
            org_id,
        )
        row = await conn.fetchrow(_SHARE_SELECT + "WHERE cs.id = $1", share_id)
    return CoachShareRow(**dict(row))


async def active_shares(db: Db, owner_id: UUID) -> list[CoachShareRow]:
    """A candidate's unrevoked shares, newest first."""
    rows = await db.fetch(
        _SHARE_SELECT + "WHERE cs.owner_id = $1 AND cs.revoked_at IS NULL ORDER BY cs.created_at DESC, cs.id",
        owner_id,
    )
    return [CoachShareRow(**dict(r)) for r in rows]


async def revoke_share(db: Db, share_id: UUID, owner_id: UUID) -> CoachShareRow | None:
    """Revokes one of the owner's shares (already revoked: unchanged); None when it is not theirs.
    One statement: revoking is on the way to ending live watches, so it is kept short."""
    row = await db.fetchrow(
        f"""
        WITH revoked AS (
            UPDATE coach_shares SET revoked_at = coalesce(revoked_at, now())
            WHERE id = $1 AND owner_id = $2 RETURNING *
        )
        {_SHARE_SELECT.replace("FROM coach_shares cs", "FROM revoked cs")}
        """,
        share_id,
        owner_id,
    )
    return None if row is None else CoachShareRow(**dict(row))


async def coach_access(db: Db, session_id: UUID, coach_id: UUID) -> CoachAccess | None:
    """The share that lets this user coach the session now (a personal one before an
    organisation's); None when none does."""
    row = await db.fetchrow(
        f"""
        SELECT s.id AS session_id, s.user_id AS owner_id, cs.id AS share_id,
               CASE WHEN cs.coach_id IS NOT NULL THEN 'coach' ELSE 'org' END AS via, cs.org_id
        FROM sessions s JOIN coach_shares cs ON cs.owner_id = s.user_id
        WHERE s.id = $1 AND {grants("cs", "s", "$2::uuid")}
        ORDER BY (cs.coach_id IS NULL), cs.created_at, cs.id
        LIMIT 1
        """,
        session_id,
        coach_id,
    )
    return None if row is None else CoachAccess(**dict(row))


async def coached_sessions(db: Db, coach_id: UUID, *, limit: int, offset: int) -> list[CoachedSession]:
    """The sessions shared with a coach now, newest first, each once (a personal share first)."""
    rows = await db.fetch(
        f"""
        SELECT DISTINCT ON (coalesce(s.started_at, s.created_at), s.id)
               s.id AS session_id, s.user_id AS candidate_id, {SHOWN_NAME.format(u="u")} AS candidate_name,
               s.role_track, s.round_type, s.difficulty, s.duration_min, s.status, s.created_at,
               s.started_at, s.ended_at,
               CASE WHEN cs.coach_id IS NOT NULL THEN 'coach' ELSE 'org' END AS via, cs.org_id
        FROM coach_shares cs
        JOIN sessions s ON s.user_id = cs.owner_id AND (cs.session_id IS NULL OR cs.session_id = s.id)
        JOIN users u ON u.id = s.user_id
        WHERE {grants("cs", "s", "$1::uuid")}
        ORDER BY coalesce(s.started_at, s.created_at) DESC, s.id DESC, (cs.coach_id IS NULL), cs.created_at
        LIMIT $2 OFFSET $3
        """,
        coach_id,
        limit,
        offset,
    )
    return [CoachedSession(**dict(r)) for r in rows]


async def coaches_with_access(db: Db, session_id: UUID, coach_ids: Sequence[UUID]) -> set[UUID]:
    """Which of these users may coach the session now."""
    if not coach_ids:
        return set()
    rows = await db.fetch(
        f"""
        SELECT c.id FROM sessions s CROSS JOIN unnest($2::uuid[]) AS c(id)
        WHERE s.id = $1 AND EXISTS (SELECT 1 FROM coach_shares cs WHERE {grants("cs", "s", "c.id")})
        """,
        session_id,
        list(coach_ids),
    )
    return {r["id"] for r in rows}


async def export_session(db: Db, export_id: UUID) -> tuple[UUID, UUID] | None:
    """The session an export is of and that session's owner; None when there is no such export."""
    row = await db.fetchrow(
        """
        SELECT e.session_id, s.user_id FROM report_exports e JOIN sessions s ON s.id = e.session_id
        WHERE e.id = $1
        """,
        export_id,
    )
    return None if row is None else (row["session_id"], row["user_id"])


async def shown_name(db: Db, user_id: UUID) -> str | None:
    """An account's name as others see it; None when there is no such account."""
    return await db.fetchval(f"SELECT {SHOWN_NAME.format(u='u')} FROM users u WHERE u.id = $1", user_id)


async def open_sessions_of(db: Db, *, owner_id: UUID | None = None, org_id: UUID | None = None) -> list[UUID]:
    """The scheduled and live sessions of a candidate, or of every candidate who has (or had)
    a share with an organisation: those whose watching coaches may need to be re-checked."""
    rows = await db.fetch(
        """
        SELECT s.id FROM sessions s
        WHERE s.status IN ('scheduled', 'live')
          AND (s.user_id = $1 OR s.user_id IN (SELECT owner_id FROM coach_shares WHERE org_id = $2))
        """,
        owner_id,
        org_id,
    )
    return [r["id"] for r in rows]


async def user_by_email(db: Db, email: str) -> UUID | None:
    """The id of the account with this (normalised) email; None when there is none."""
    return await db.fetchval("SELECT id FROM users WHERE email = $1", normalise_email(email))
