"""Organisations, their members (owner, admin, member) and invitations by link that expire.

An invitation's link carries a random token; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from db.audit import SHOWN_NAME
from db.pool import Db, transaction

OrgRole = Literal["owner", "admin", "member"]
MANAGERS: tuple[str, ...] = ("owner", "admin")
INVITE_TOKEN_BYTES = 32
_RANK = {"member": 0, "admin": 1, "owner": 2}


@dataclass(frozen=True, slots=True)
class Membership:
    """An organisation as one of its members sees it."""

    org_id: UUID
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One member of an organisation."""

    user_id: UUID
    display_name: str
    email: str
    role: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class InviteRow:
    """An invitation (without its token)."""

    id: UUID
    org_id: UUID
    org_name: str
    role: str
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InviteGone(Exception):
    """The invitation exists but has expired, been revoked or been used."""


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


async def create_org(db: Db, name: str, owner_id: UUID) -> Membership:
    """Makes an organisation with its creator as owner."""
    async with transaction(db) as conn:
        org_id = await conn.fetchval("INSERT INTO organisations (name) VALUES ($1) RETURNING id", name)
        await conn.execute(
            "INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'owner')", org_id, owner_id
        )
    return Membership(org_id, name, "owner")


async def orgs_of(db: Db, user_id: UUID) -> list[Membership]:
    """The organisations a user belongs to, by name."""
    rows = await db.fetch(
        """
        SELECT o.id AS org_id, o.name, m.role
        FROM org_members m JOIN organisations o ON o.id = m.org_id
        WHERE m.user_id = $1 ORDER BY o.name, o.id
        """,
        user_id,
    )
    return [Membership(**dict(r)) for r in rows]


async def membership(db: Db, org_id: UUID, user_id: UUID) -> Membership | None:
    """The organisation and the user's role in it; None when they are not a member."""
    row = await db.fetchrow(
        """
        SELECT o.id AS org_id, o.name, m.role
        FROM org_members m JOIN organisations o ON o.id = m.org_id
        WHERE m.org_id = $1 AND m.user_id = $2
        """,
        org_id,
        user_id,
    )
    return None if row is None else Membership(**dict(row))


async def members(db: Db, org_id: UUID) -> list[MemberRow]:
    """An organisation's members: owner, admins, then members, each by name."""
    rows = await db.fetch(
        f"""
        SELECT m.user_id, {SHOWN_NAME.format(u="u")} AS display_name, u.email, m.role, m.joined_at
        FROM org_members m JOIN users u ON u.id = m.user_id
        WHERE m.org_id = $1
        ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, display_name, m.user_id
        """,
        org_id,
    )
    return [MemberRow(**dict(r)) for r in rows]


async def remove_member(db: Db, org_id: UUID, user_id: UUID) -> bool:
    """Removes a member who is not the owner, and ends the shares they made with the
    organisation; False when there was no such (non-owner) member."""
    async with transaction(db) as conn:
        removed = await conn.fetchval(
            "DELETE FROM org_members WHERE org_id = $1 AND user_id = $2 AND role <> 'owner' RETURNING user_id",
            org_id,
            user_id,
        )
        if removed is not None:
            await conn.execute(
                """
                UPDATE coach_shares SET revoked_at = now()
                WHERE org_id = $1 AND owner_id = $2 AND revoked_at IS NULL
                """,
                org_id,
                user_id,
            )
    return removed is not None


async def hand_over(conn: asyncpg.Connection, user_id: UUID) -> None:
    """Before an account goes: each organisation it alone owns passes to its longest-standing
    admin (else member), and one with nobody else in it is deleted with all it holds."""
    await conn.execute(
        """
        WITH alone AS (
            SELECT m.org_id FROM org_members m
            WHERE m.user_id = $1 AND m.role = 'owner' AND NOT EXISTS (
                SELECT 1 FROM org_members o WHERE o.org_id = m.org_id AND o.role = 'owner' AND o.user_id <> $1
            )
        ), heir AS (
            SELECT DISTINCT ON (o.org_id) o.org_id, o.user_id
            FROM org_members o JOIN alone a USING (org_id)
            WHERE o.user_id <> $1
            ORDER BY o.org_id, (o.role = 'admin') DESC, o.joined_at
        )
        UPDATE org_members SET role = 'owner'
        FROM heir WHERE org_members.org_id = heir.org_id AND org_members.user_id = heir.user_id
        """,
        user_id,
    )
    await conn.execute(
        """
        DELETE FROM organisations o
        WHERE EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = o.id AND m.user_id = $1)
          AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = o.id AND m.user_id <> $1)
        """,
        user_id,
    )


async def create_invite(
    db: Db, org_id: UUID, role: str, created_by: UUID, expires_at: datetime
) -> tuple[InviteRow, str]:
    """Records an invitation; returns it and the token its link carries (kept nowhere)."""
    token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            """
            WITH made AS (
                INSERT INTO org_invites (org_id, role, token_hash, created_by, expires_at)
                VALUES ($1, $2, $3, $4, $5)
                RETURNING id, org_id, role, expires_at, accepted_at, revoked_at
            )
            SELECT made.*, o.name AS org_name FROM made JOIN organisations o ON o.id = made.org_id
            """,
            org_id,
            role,
            _token_hash(token),
            created_by,
            expires_at,
        )
    return InviteRow(**dict(row)), token


async def invite_by_token(db: Db, token: str) -> InviteRow | None:
    """The invitation a link's token names, whatever its state; None when there is none."""
    row = await db.fetchrow(
        """
        SELECT i.id, i.org_id, o.name AS org_name, i.role, i.expires_at, i.accepted_at, i.revoked_at
        FROM org_invites i JOIN organisations o ON o.id = i.org_id
        WHERE i.token_hash = $1
        """,
        _token_hash(token),
    )
    return None if row is None else InviteRow(**dict(row))


async def accept_invite(db: Db, token: str, user_id: UUID) -> Membership | None:
    """Uses an invitation: the user joins (a member already keeps a higher role). None when the
    token names no invitation; InviteGone when it has expired, was revoked or was used."""
    async with transaction(db) as conn:
        used = await conn.fetchrow(
            """
            UPDATE org_invites SET accepted_by = $2, accepted_at = now()
            WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            RETURNING org_id, role
            """,
            _token_hash(token),
            user_id,
        )
        if used is None:
            exists = await conn.fetchval("SELECT 1 FROM org_invites WHERE token_hash = $1", _token_hash(token))
            if exists is None:
                return None
            raise InviteGone()
        current = await conn.fetchval(
            "SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2 FOR UPDATE", used["org_id"], user_id
        )
        if current is None:
            await conn.execute(
                "INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, $3)",
                used["org_id"],
                user_id,
                used["role"],
            )
        elif _RANK[used["role"]] > _RANK[current]:
            await conn.execute(
                "UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2",
                used["org_id"],
                user_id,
                used["role"],
            )
        return await membership(conn, used["org_id"], user_id)


async def revoke_invite(db: Db, org_id: UUID, invite_id: UUID) -> bool:
    """Revokes an unused invitation of the organisation; False when there is no such invitation."""
    async with transaction(db) as conn:
        found = await conn.fetchval(
            """
            UPDATE org_invites SET revoked_at = coalesce(revoked_at, now())
            WHERE id = $1 AND org_id = $2 RETURNING id
            """,
            invite_id,
            org_id,
        )
    return found is not None


async def pending_invites(db: Db, org_id: UUID) -> list[InviteRow]:
    """An organisation's invitations that can still be used, newest first."""
    rows = await db.fetch(
        """
        SELECT i.id, i.org_id, o.name AS org_name, i.role, i.expires_at, i.accepted_at, i.revoked_at
        FROM org_invites i JOIN organisations o ON o.id = i.org_id
        WHERE i.org_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()
        ORDER BY i.created_at DESC, i.id
        """,
        org_id,
    )
    return [InviteRow(**dict(r)) for r in rows]
