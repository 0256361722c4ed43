"""Organisations over HTTP: make one, its members and invitations by link, its cohort view and
its audit log.

Who is not a member is answered 404, as for anything they may not know exists; a member sees
the name and their own role; owners and admins see and manage the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.audit import AuditEntryPublic, MAX_AUDIT_PAGE
from api.coach_watch import end_lost_watches
from api.deps import CurrentUser, PoolDep, WatchAccessDep
from api.fields import RequestBody, Text, invalid
from api.livekit_rooms import LiveKitRoomsDep
from api.progress import practice_streak
from db import audit, cohort, orgs
from reports.cohort import build_cohort

router = APIRouter(tags=["organisations"])

ORG_NOT_FOUND = "organisation not found"
INVITE_NOT_FOUND = "invitation not found"
INVITE_GONE = "this invitation has expired, was revoked or has been used"
MAX_ORG_NAME_CHARS = 200
DEFAULT_INVITE_HOURS = 168
MAX_INVITE_HOURS = 720


class ErrorPublic(BaseModel):
    """An error answer."""

    detail: str


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrgCreate(RequestBody):
    """A new organisation."""

    name: Text = Field(min_length=1, max_length=MAX_ORG_NAME_CHARS)


class OrgPublic(BaseModel):
    """An organisation and the caller's role in it."""

    id: UUID
    name: str
    role: Literal["owner", "admin", "member"]


class MemberPublic(_Out):
    user_id: UUID
    display_name: str
    email: str
    role: Literal["owner", "admin", "member"]
    joined_at: datetime


class PendingInvitePublic(_Out):
    id: UUID
    role: Literal["admin", "member"]
    expires_at: datetime


class OrgDetail(OrgPublic):
    """An organisation; its members and open invitations are listed to owners and admins only."""

    members: list[MemberPublic]
    invites: list[PendingInvitePublic]


class InviteCreate(RequestBody):
    """An invitation by link."""

    role: Literal["member", "admin"] = "member"
    expires_in_hours: int = Field(default=DEFAULT_INVITE_HOURS, ge=1, le=MAX_INVITE_HOURS)


class InviteLinkPublic(BaseModel):
    """An invitation's link (shown once: only its hash is kept)."""

    id: UUID
    token: str
    url: str
    expires_at: datetime


class InvitePublic(BaseModel):
    """What an invitation link offers."""

    org_name: str
    role: Literal["admin", "member"]
    expires_at: datetime


class JoinedPublic(BaseModel):
    """The organisation joined and the role held in it."""

    org_id: UUID
    role: Literal["owner", "admin", "member"]


class TrendScorePublic(_Out):
    session_id: UUID
    started_at: datetime
    overall: int


class AreaMeanPublic(_Out):
    dimension: str
    mean: float


class CohortMemberPublic(_Out):
    """One member's figures, from the sessions they share with the organisation."""

    user_id: UUID
    display_name: str
    sessions: int
    last_practised_at: datetime | None
    streak_days: int
    practised_this_week: bool
    score_trend: list[TrendScorePublic]
    weakest_areas: list[AreaMeanPublic] = Field(description="Scorecard dimensions by mean, weakest first.")


class PersonPublic(_Out):
    user_id: UUID
    display_name: str


class OrgRefPublic(BaseModel):
    id: UUID
    name: str


class DashboardPublic(BaseModel):
    """The cohort view: members who share with the organisation, and only what they share."""

    org: OrgRefPublic
    members: list[CohortMemberPublic]
    not_practised_this_week: list[PersonPublic]
    weakest_areas: list[AreaMeanPublic] = Field(description="Over every shared scored session, weakest first.")


NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such organisation for this user."}}


async def _membership(pool: PoolDep, org_id: UUID, user_id: UUID, *, manage: bool = False) -> orgs.Membership:
    """The caller's membership (an owner's or admin's when manage); 404 otherwise."""
    found = await orgs.membership(pool, org_id, user_id)
    if found is None or (manage and found.role not in orgs.MANAGERS):
        raise HTTPException(status_code=404, detail=ORG_NOT_FOUND)
    return found


@router.post(
    "/v1/orgs",
    status_code=status.HTTP_201_CREATED,
    response_model=OrgPublic,
    responses=invalid("Invalid body, or a blank name."),
    summary="Make an organisation (you own it)",
)
async def create_org(body: OrgCreate, pool: PoolDep, user_id: CurrentUser) -> OrgPublic:
    name = body.name.strip()
    if not name:
        raise HTTPException(status_code=422, detail="the name is empty")
    made = await orgs.create_org(pool, name, user_id)
    await audit.record(
        pool,
        action="org_joined",
        actor_id=user_id,
        subject_user_id=user_id,
        org_id=made.org_id,
        detail={"role": "owner"},
    )
    return OrgPublic(id=made.org_id, name=made.name, role="owner")


@router.get("/v1/orgs", response_model=list[OrgPublic], summary="The organisations you belong to")
async def list_orgs(pool: PoolDep, user_id: CurrentUser) -> list[OrgPublic]:
    mine = await orgs.orgs_of(pool, user_id)
    return [OrgPublic(id=m.org_id, name=m.name, role=m.role) for m in mine]  # type: ignore[arg-type]


@router.get(
    "/v1/orgs/{org_id}", response_model=OrgDetail, responses=NOT_FOUND, summary="An organisation you belong to"
)
async def get_org(org_id: UUID, pool: PoolDep, user_id: CurrentUser) -> OrgDetail:
    mine = await _membership(pool, org_id, user_id)
    manager = mine.role in orgs.MANAGERS
    return OrgDetail(
        id=mine.org_id,
        name=mine.name,
        role=mine.role,  # type: ignore[arg-type]
        members=[MemberPublic.model_validate(m) for m in await orgs.members(pool, org_id)] if manager else [],
        invites=(
            [PendingInvitePublic.model_validate(i) for i in await orgs.pending_invites(pool, org_id)] if manager else []
        ),
    )


@router.post(
    "/v1/orgs/{org_id}/invites",
    status_code=status.HTTP_201_CREATED,
    response_model=InviteLinkPublic,
    responses=NOT_FOUND,
    summary="An invitation link that expires (owners and admins)",
)
async def create_invite(
    org_id: UUID, pool: PoolDep, user_id: CurrentUser, body: InviteCreate | None = None
) -> InviteLinkPublic:
    await _membership(pool, org_id, user_id, manage=True)
    body = body or InviteCreate()
    expires_at = (datetime.now(UTC) + timedelta(hours=body.expires_in_hours)).replace(microsecond=0)
    invite, token = await orgs.create_invite(pool, org_id, body.role, user_id, expires_at)
    await audit.record(
        pool,
        action="invite_created",
        actor_id=user_id,
        org_id=org_id,
        detail={"invite_id": str(invite.id), "role": body.role, "expires_at": expires_at.isoformat()},
    )
    return InviteLinkPublic(id=invite.id, token=token, url=f"/invite/{token}", expires_at=invite.expires_at)


@router.delete(
    "/v1/orgs/{org_id}/invites/{invite_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=NOT_FOUND,
    summary="Revoke an invitation (owners and admins)",
)
async def revoke_invite(org_id: UUID, invite_id: UUID, pool: PoolDep, user_id: CurrentUser) -> Response:
    await _membership(pool, org_id, user_id, manage=True)
    if not await orgs.revoke_invite(pool, org_id, invite_id):
        raise HTTPException(status_code=404, detail=INVITE_NOT_FOUND)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


INVITE_ERRORS = {
    404: {"model": ErrorPublic, "description": "No such invitation."},
    410: {"model": ErrorPublic, "description": "The invitation has expired, was revoked or has been used."},
}


@router.get(
    "/v1/invites/{token}",
    response_model=InvitePublic,
    responses=INVITE_ERRORS,
    summary="What an invitation link offers (no sign-in)",
)
async def get_invite(token: str, pool: PoolDep) -> InvitePublic:
    invite = await orgs.invite_by_token(pool, token[:200])
    if invite is None:
        raise HTTPException(status_code=404, detail=INVITE_NOT_FOUND)
    used_up = invite.accepted_at is not None or invite.revoked_at is not None
    if used_up or invite.expires_at <= datetime.now(UTC):
        raise HTTPException(status_code=410, detail=INVITE_GONE)
    return InvitePublic(org_name=invite.org_name, role=invite.role, expires_at=invite.expires_at)  # type: ignore[arg-type]


@router.post(
    "/v1/invites/{token}/accept",
    response_model=JoinedPublic,
    responses=INVITE_ERRORS,
    summary="Join an organisation by its invitation",
)
async def accept_invite(token: str, pool: PoolDep, user_id: CurrentUser) -> JoinedPublic:
    try:
        joined = await orgs.accept_invite(pool, token[:200], user_id)
    except orgs.InviteGone:
        raise HTTPException(status_code=410, detail=INVITE_GONE) from None
    if joined is None:
        raise HTTPException(status_code=404, detail=INVITE_NOT_FOUND)
    await audit.record(
        pool,
        action="org_joined",
        actor_id=user_id,
        subject_user_id=user_id,
        org_id=joined.org_id,
        detail={"role": joined.role},
    )
    return JoinedPublic(org_id=joined.org_id, role=joined.role)  # type: ignore[arg-type]


@router.delete(
    "/v1/orgs/{org_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**NOT_FOUND, 409: {"model": ErrorPublic, "description": "The owner cannot be removed."}},
    summary="Remove a member (owners and admins), or leave",
    description="Their shares with the organisation end, and so does any watching their role allowed.",
)
async def remove_member(
    org_id: UUID,
    user_id: UUID,
    pool: PoolDep,
    caller: CurrentUser,
    access: WatchAccessDep,
    livekit: LiveKitRoomsDep,
) -> Response:
    await _membership(pool, org_id, caller, manage=user_id != caller)
    target = await orgs.membership(pool, org_id, user_id)
    if target is None:
        raise HTTPException(status_code=404, detail="member not found")
    if target.role == "owner":
        raise HTTPException(status_code=409, detail="the owner cannot be removed")
    if not await orgs.remove_member(pool, org_id, user_id):
        raise HTTPException(status_code=404, detail="member not found")
    await audit.record(
        pool,
        action="member_removed",
        actor_id=caller,
        subject_user_id=user_id,
        org_id=org_id,
        detail={"left": user_id == caller, "role": target.role},
    )
    await end_lost_watches(pool, access, livekit, owner_id=user_id, coach_id=user_id, org_id=org_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/orgs/{org_id}/dashboard",
    response_model=DashboardPublic,
    responses=NOT_FOUND,
    summary="The cohort view (owners and admins): members who share with the organisation",
    description=(
        "Built only from what members share with the organisation now: all their sessions, or "
        "the ones shared one by one. Practice is a completed session, by its UTC day; weeks "
        "start on Monday (UTC). Scores come from stored scorecards."
    ),
)
async def dashboard(org_id: UUID, request: Request, pool: PoolDep, user_id: CurrentUser) -> DashboardPublic:
    mine = await _membership(pool, org_id, user_id, manage=True)
    rows = await cohort.cohort_sessions(pool, org_id)
    view = build_cohort(rows, request.app.state.report_weights, datetime.now(UTC), practice_streak)
    return DashboardPublic(
        org=OrgRefPublic(id=mine.org_id, name=mine.name),
        members=[CohortMemberPublic.model_validate(m) for m in view.members],
        not_practised_this_week=[PersonPublic.model_validate(m) for m in view.not_practised_this_week],
        weakest_areas=[AreaMeanPublic.model_validate(a) for a in view.weakest_areas],
    )


@router.get(
    "/v1/orgs/{org_id}/audit",
    response_model=list[AuditEntryPublic],
    responses=NOT_FOUND,
    summary="The organisation's audit log, newest first (owners and admins)",
)
async def org_audit(
    org_id: UUID,
    pool: PoolDep,
    user_id: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditEntryPublic]:
    await _membership(pool, org_id, user_id, manage=True)
    entries = await audit.for_org(pool, org_id, limit=limit, offset=offset)
    return [AuditEntryPublic.model_validate(e) for e in entries]
