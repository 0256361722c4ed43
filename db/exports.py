"""Exported report files (report_exports): a PDF kept with its bytes, a CSV as a row only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from db.pool import Db, transaction


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One exported file (a PDF's bytes are loaded only for download)."""

    id: UUID
    session_id: UUID
    format: str
    size_bytes: int | None
    created_at: datetime
    expires_at: datetime


async def create_export(
    db: Db, session_id: UUID, fmt: str, content: bytes | None, expires_at: datetime
) -> ExportRow:
    """Records an export (and drops expired ones while at it)."""
    async with transaction(db) as conn:
        await conn.execute("DELETE FROM report_exports WHERE expires_at < now()")
        row = await conn.fetchrow(
            """
            INSERT INTO report_exports (session_id, format, content, size_bytes, expires_at)
            VALUES ($1, $2, $3, $4, $5)
            RETURNING id, session_id, format, size_bytes, created_at, expires_at
            """,
            session_id,
            fmt,
            content,
            None if content is None else len(content),
            expires_at,
        )
    return ExportRow(**dict(row))


async def get_export(db: Db, export_id: UUID, user_id: UUID) -> tuple[ExportRow, bytes | None] | None:
    """An export of one of the user's sessions, with a PDF's content; None when there is none."""
    row = await db.fetchrow(
        """
        SELECT e.id, e.session_id, e.format, e.size_bytes, e.created_at, e.expires_at, e.content
        FROM report_exports e JOIN sessions s ON s.id = e.session_id
        WHERE e.id = $1 AND s.user_id = $2
        """,
        export_id,
        user_id,
    )
    if row is None:
        return None
    data = dict(row)
    content = data.pop("content")
    return ExportRow(**data), content
