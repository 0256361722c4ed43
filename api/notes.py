"""Coach notes over HTTP: a coach (or the candidate) marks a moment of a session with a note, live
or while reviewing; the candidate sees them all and may hide or delete them, coaches see the
ones not hidden."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from api.access import readable_session
from api.deps import CurrentUser, PoolDep
from api.fields import RequestBody, Text, invalid
from db import audit, coach_notes, coach_shares

router = APIRouter(prefix="/v1/sessions/{session_id}/notes", tags=["notes"])

MAX_NOTE_CHARS = 2000
MAX_T_MS = 24 * 3600 * 1000
NOTE_NOT_FOUND = "note not found"
OWNER_ONLY = "only the candidate can hide notes"


class ErrorPublic(BaseModel):
    """An error answer."""

    detail: str


class NoteCreate(RequestBody):
    """A note on a moment: ms from the session's start."""

    t_ms: int = Field(ge=0, le=MAX_T_MS)
    body: Text = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class NoteUpdate(RequestBody):
    """Hide a note from coaches, the timeline and the PDF (or show it again)."""

    hidden: bool


class NotePublic(BaseModel):
    """A note on a moment of the session."""

    id: UUID
    t_ms: int
    body: str
    author_name: str
    created_at: datetime
    hidden: bool

    @classmethod
    def of(cls, row: coach_notes.NoteRow) -> NotePublic:
        return cls(
            id=row.id,
            t_ms=row.t_ms,
            body=row.body,
            author_name=row.author_name,
            created_at=row.created_at,
            hidden=row.hidden_at is not None,
        )


NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such session (or note) for this user."}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=NotePublic,
    responses={**NOT_FOUND, **invalid("Invalid body, or a blank note.")},
    summary="Note a moment (a coach with access, or the candidate)",
)
async def add_note(session_id: UUID, body: NoteCreate, pool: PoolDep, user_id: CurrentUser) -> NotePublic:
    found = await readable_session(pool, session_id, user_id)
    text = body.body.strip()
    if not text:
        raise HTTPException(status_code=422, detail="the note is empty")
    name = await coach_shares.shown_name(pool, user_id) or "Coach"
    row = await coach_notes.add_note(pool, session_id, user_id, name[:200], body.t_ms, text)
    await audit.record(
        pool,
        action="note_added",
        actor_id=user_id,
        subject_user_id=found.session.user_id,
        org_id=found.org_id,
        session_id=session_id,
        detail={"note_id": str(row.id), "t_ms": row.t_ms},
    )
    return NotePublic.of(row)


@router.get(
    "",
    response_model=list[NotePublic],
    responses=NOT_FOUND,
    summary="The session's notes in time order (coaches: those not hidden)",
)
async def list_notes(session_id: UUID, pool: PoolDep, user_id: CurrentUser) -> list[NotePublic]:
    found = await readable_session(pool, session_id, user_id)
    rows = await coach_notes.notes(pool, session_id, include_hidden=found.coach is None)
    return [NotePublic.of(r) for r in rows]


@router.patch(
    "/{note_id}",
    response_model=NotePublic,
    responses={**NOT_FOUND, 403: {"model": ErrorPublic, "description": "Only the candidate can hide notes."}},
    summary="Hide or show a note (the candidate)",
)
async def update_note(
    session_id: UUID, note_id: UUID, body: NoteUpdate, pool: PoolDep, user_id: CurrentUser
) -> NotePublic:
    found = await readable_session(pool, session_id, user_id)
    if found.coach is not None:
        if await coach_notes.get_note(pool, session_id, note_id) is None:
            raise HTTPException(status_code=404, detail=NOTE_NOT_FOUND)
        raise HTTPException(status_code=403, detail=OWNER_ONLY)
    row = await coach_notes.set_hidden(pool, session_id, note_id, body.hidden)
    if row is None:
        raise HTTPException(status_code=404, detail=NOTE_NOT_FOUND)
    if body.hidden:
        await audit.record(
            pool, action="note_hidden", actor_id=user_id, subject_user_id=user_id, session_id=session_id,
            detail={"note_id": str(note_id)},
        )  # fmt: skip
    return NotePublic.of(row)


@router.delete(
    "/{note_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        **NOT_FOUND,
        403: {"model": ErrorPublic, "description": "Only the candidate or the note's author can delete it."},
    },
    summary="Delete a note (the candidate, or its author)",
)
async def delete_note(session_id: UUID, note_id: UUID, pool: PoolDep, user_id: CurrentUser) -> Response:
    found = await readable_session(pool, session_id, user_id)
    note = await coach_notes.get_note(pool, session_id, note_id)
    if note is None or (found.coach is not None and note.hidden_at is not None and note.author_id != user_id):
        raise HTTPException(status_code=404, detail=NOTE_NOT_FOUND)
    if found.coach is not None and note.author_id != user_id:
        raise HTTPException(status_code=403, detail="only the candidate or the note's author can delete it")
    await coach_notes.delete_note(pool, session_id, note_id)
    await audit.record(
        pool,
        action="note_deleted",
        actor_id=user_id,
        subject_user_id=found.session.user_id,
        org_id=found.org_id,
        session_id=session_id,
        detail={"note_id": str(note_id)},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
