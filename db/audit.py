"""The audit log: sign-ins, shares, revokes, coach joins, exports, deletions, organisation changes.

A row's detail holds ids and choices only, never transcripts, answers or note text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from db.pool import Db

ACTIONS = frozenset(
    {
        "sign_in",
        "share_created",
        "share_revoked",
        "coach_joined",
        "export_created",
        "session_deleted",
        "account_deleted",
        "org_joined",
        "member_removed",
        "invite_created",
        "note_added",
        "note_hidden",
        "note_deleted",
    }
)
# An account's name as others see it: its display name, else the part of its email before "@".
SHOWN_NAME = "coalesce(nullif({u}.display_name, ''), split_part({u}.email, '@', 1))"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the log as it is shown."""

    at: datetime
    action: str
    actor_name: str | None
    session_id: UUID | None
    org_id: UUID | None
    detail: dict[str, Any]


async def record(
    db: Db,
    *,
    action: str,
    actor_id: UUID | None,
    subject_user_id: UUID | None = None,
    org_id: UUID | None = None,
    session_id: UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Appends one row to the log."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action: {action!r}")
    await db.execute(
        """
        INSERT INTO audit_log (action, actor_id, subject_user_id, org_id, session_id, detail)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        action,
        actor_id,
        subject_user_id,
        org_id,
        session_id,
        detail or {},
    )


_SELECT = f"""
    SELECT a.at, a.action, {SHOWN_NAME.format(u="u")} AS actor_name, a.session_id, a.org_id, a.detail
    FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
"""


async def for_user(db: Db, user_id: UUID, *, limit: int, offset: int) -> list[AuditEntry]:
    """The rows about a user or made by them, newest first."""
    rows = await db.fetch(
        _SELECT
        + """
        WHERE a.subject_user_id = $1 OR a.actor_id = $1
        ORDER BY a.at DESC, a.id DESC LIMIT $2 OFFSET $3
        """,
        user_id,
        limit,
        offset,
    )
    return [AuditEntry(**dict(r)) for r in rows]


async def for_org(db: Db, org_id: UUID, *, limit: int, offset: int) -> list[AuditEntry]:
    """An organisation's rows, newest first."""
    rows = await db.fetch(
        _SELECT + "WHERE a.org_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT $2 OFFSET $3",
        org_id,
        limit,
        offset,
    )
    return [AuditEntry(**dict(r)) for r in rows]
