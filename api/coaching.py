"""Coaching over HTTP: a candidate's shares with a coach or an organisation, the sessions shared
with a coach, and a coach watching a live session from their dashboard.

A coach reads a shared session's report, timeline and exports through the same routes as its
owner (api/reports.py, api/access.py); revoking a share ends all of it at once, watching too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, model_validator

from api.access import coached_session
from api.coach_watch import end_lost_watches
from api.deps import CurrentUser, PoolDep, TokensDep, WatchAccessDep
from api.fields import RequestBody, Text, invalid
from api.livekit_rooms import UNAVAILABLE, LiveKitRoomsDep
from api.sessions import RoomJoin, room_join
from db import audit, coach_shares, orgs
from db import sessions as repo
from db.pool import Db

router = APIRouter(tags=["coaching"])

MAX_EMAIL_CHARS = 254
NO_SUCH_COACH = "no account has this email: ask your coach to sign up first"
SHARE_NOT_FOUND = "share not found"


class ErrorPublic(BaseModel):
    """An error answer."""

    detail: str


class CoachShareCreate(RequestBody):
    """What to share (one session, or all of them with session_id null) and with whom: a coach's
    account email, or an organisation you belong to."""

    session_id: UUID | None = None
    coach_email: Text | None = Field(default=None, min_length=3, max_length=MAX_EMAIL_CHARS)
    org_id: UUID | None = None

    @model_validator(mode="after")
    def _one_recipient(self) -> CoachShareCreate:
        if (self.coach_email is None) == (self.org_id is None):
            raise ValueError("give exactly one of coach_email and org_id")
        return self


class PersonRef(BaseModel):
    id: UUID
    display_name: str


class OrgRef(BaseModel):
    id: UUID
    name: str


class CoachSharePublic(BaseModel):
    """A share of one session (or all, session_id null) with a coach or an organisation."""

    id: UUID
    session_id: UUID | None
    coach: PersonRef | None
    org: OrgRef | None
    created_at: datetime

    @classmethod
    def of(cls, row: coach_shares.CoachShareRow) -> CoachSharePublic:
        return cls(
            id=row.id,
            session_id=row.session_id,
            coach=PersonRef(id=row.coach_id, display_name=row.coach_name or "") if row.coach_id else None,
            org=OrgRef(id=row.org_id, name=row.org_name or "") if row.org_id else None,
            created_at=row.created_at,
        )


class CoachedSessionPublic(BaseModel):
    """A session shared with you as a coach."""

    session_id: UUID
    candidate: PersonRef
    role_track: str
    round_type: str
    difficulty: str
    duration_min: int
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    live: bool
    via: Literal["coach", "org"] = Field(description="Shared with you, or with an organisation you run.")
    org_id: UUID | None


async def _record_share(pool: Db, action: str, user_id: UUID, row: coach_shares.CoachShareRow) -> None:
    """An audit line for a share made or revoked: with whom, and of what."""
    await audit.record(
        pool,
        action=action,
        actor_id=user_id,
        subject_user_id=user_id,
        org_id=row.org_id,
        session_id=row.session_id,
        detail=_share_detail(row),
    )


def _share_detail(row: coach_shares.CoachShareRow) -> dict[str, str]:
    """What the audit log keeps of a share."""
    return {
        "share_id": str(row.id),
        "with": "coach" if row.coach_id else "org",
        "scope": "session" if row.session_id else "all",
    }


@router.post(
    "/v1/coach-shares",
    status_code=status.HTTP_201_CREATED,
    response_model=CoachSharePublic,
    responses={
        404: {"model": ErrorPublic, "description": "No such session, coach account, or organisation of yours."},
        **invalid("Not exactly one of coach_email and org_id, or your own email."),
    },
    summary="Share a session, or all your sessions, with a coach or an organisation",
)
async def create_coach_share(body: CoachShareCreate, pool: PoolDep, user_id: CurrentUser) -> CoachSharePublic:
    if body.session_id is not None and await repo.get_session(pool, body.session_id, user_id=user_id) is None:
        raise HTTPException(status_code=404, detail="session not found")
    coach_id = None
    if body.coach_email is not None:
        coach_id = await coach_shares.user_by_email(pool, body.coach_email)
        if coach_id is None:
            raise HTTPException(status_code=404, detail=NO_SUCH_COACH)
        if coach_id == user_id:
            raise HTTPException(status_code=422, detail="you cannot share with yourself")
    if body.org_id is not None and await orgs.membership(pool, body.org_id, user_id) is None:
        raise HTTPException(status_code=404, detail="organisation not found")
    row = await coach_shares.create_share(pool, user_id, body.session_id, coach_id=coach_id, org_id=body.org_id)
    await _record_share(pool, "share_created", user_id, row)
    return CoachSharePublic.of(row)


@router.get(
    "/v1/coach-shares", response_model=list[CoachSharePublic], summary="Your active shares with coaches and organisations"
)
async def list_coach_shares(pool: PoolDep, user_id: CurrentUser) -> list[CoachSharePublic]:
    return [CoachSharePublic.of(r) for r in await coach_shares.active_shares(pool, user_id)]


@router.delete(
    "/v1/coach-shares/{share_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": ErrorPublic, "description": "No such share of yours."}, **UNAVAILABLE},
    summary="Revoke a share: its coaches lose the sessions at once, live watching included",
)
async def revoke_coach_share(
    share_id: UUID, pool: PoolDep, user_id: CurrentUser, access: WatchAccessDep, livekit: LiveKitRoomsDep
) -> Response:
    row = await coach_shares.revoke_share(pool, share_id, user_id)
    if row is None:
        raise HTTPException(status_code=404, detail=SHARE_NOT_FOUND)
    await end_lost_watches(pool, access, livekit, owner_id=user_id)
    await _record_share(pool, "share_revoked", user_id, row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/coaching", response_model=list[CoachedSessionPublic], summary="Sessions shared with you as a coach, newest first"
)
async def list_coached(
    pool: PoolDep,
    user_id: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CoachedSessionPublic]:
    return [
        CoachedSessionPublic(
            session_id=s.session_id,
            candidate=PersonRef(id=s.candidate_id, display_name=s.candidate_name),
            role_track=s.role_track,
            round_type=s.round_type,
            difficulty=s.difficulty,
            duration_min=s.duration_min,
            status=s.status,
            created_at=s.created_at,
            started_at=s.started_at,
            ended_at=s.ended_at,
            live=s.status == "live",
            via=s.via,
            org_id=s.org_id,
        )
        for s in await coach_shares.coached_sessions(pool, user_id, limit=limit, offset=offset)
    ]


@router.post(
    "/v1/sessions/{session_id}/watch",
    response_model=RoomJoin,
    responses={
        404: {"model": ErrorPublic, "description": "No such session shared with you."},
        409: {"model": ErrorPublic, "description": "The interview has ended; its report remains."},
    },
    summary="Watch a shared interview live, receive-only, under your name",
)
async def watch_coached(session_id: UUID, pool: PoolDep, tokens: TokensDep, user_id: CurrentUser) -> RoomJoin:
    found = await coached_session(pool, session_id, user_id)
    if found.session.status not in repo.OPEN_STATUSES:
        raise HTTPException(status_code=409, detail="the interview has ended; its report remains")
    name = await coach_shares.shown_name(pool, user_id) or "Coach"
    await audit.record(
        pool,
        action="coach_joined",
        actor_id=user_id,
        subject_user_id=found.session.user_id,
        org_id=found.org_id,
        session_id=session_id,
        detail={"via": found.coach.via if found.coach else "coach"},
    )
    return room_join(tokens, session_id, found.session.user_id, "coach", coach_id=user_id, coach_name=name)
