"""Coach notes: a note on a moment of a session (ms from its start), which its candidate may hide
or delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from db.pool import Db, transaction

_COLUMNS = "id, session_id, author_id, author_name, t_ms, body, hidden_at, created_at"


@dataclass(frozen=True, slots=True)
class NoteRow:
    """One coach note."""

    id: UUID
    session_id: UUID
    author_id: UUID | None
    author_name: str
    t_ms: int
    body: str
    hidden_at: datetime | None
    created_at: datetime


async def add_note(db: Db, session_id: UUID, author_id: UUID, author_name: str, t_ms: int, body: str) -> NoteRow:
    """Records a note on the session at t_ms."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            f"""
            INSERT INTO coach_notes (session_id, author_id, author_name, t_ms, body)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}
            """,
            session_id,
            author_id,
            author_name,
            t_ms,
            body,
        )
    return NoteRow(**dict(row))


async def notes(db: Db, session_id: UUID, *, include_hidden: bool) -> list[NoteRow]:
    """A session's notes in time order (the hidden ones only when asked for)."""
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM coach_notes
        WHERE session_id = $1 AND ($2 OR hidden_at IS NULL)
        ORDER BY t_ms, created_at, id
        """,
        session_id,
        include_hidden,
    )
    return [NoteRow(**dict(r)) for r in rows]


async def get_note(db: Db, session_id: UUID, note_id: UUID) -> NoteRow | None:
    """One note of the session; None when it has no such note."""
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM coach_notes WHERE id = $1 AND session_id = $2", note_id, session_id
    )
    return None if row is None else NoteRow(**dict(row))


async def set_hidden(db: Db, session_id: UUID, note_id: UUID, hidden: bool) -> NoteRow | None:
    """Hides or shows a note; None when the session has no such note."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            f"""
            UPDATE coach_notes SET hidden_at = CASE WHEN $3 THEN coalesce(hidden_at, now()) END
            WHERE id = $1 AND session_id = $2 RETURNING {_COLUMNS}
            """,
            note_id,
            session_id,
            hidden,
        )
    return None if row is None else NoteRow(**dict(row))


async def delete_note(db: Db, session_id: UUID, note_id: UUID) -> bool:
    """Deletes a note; False when the session has no such note."""
    async with transaction(db) as conn:
        found = await conn.fetchval(
            "DELETE FROM coach_notes WHERE id = $1 AND session_id = $2 RETURNING id", note_id, session_id
        )
    return found is not None
