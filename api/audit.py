"""The audit log over HTTP: your own (`GET /v1/me/audit`); an organisation's is in api/orgs.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentUser, PoolDep
from db import audit

router = APIRouter(tags=["audit"])

MAX_AUDIT_PAGE = 200


class AuditEntryPublic(BaseModel):
    """One thing that happened: who did it, to which session or organisation."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    action: str
    actor_name: str | None
    session_id: UUID | None
    org_id: UUID | None
    detail: dict[str, Any]


@router.get(
    "/v1/me/audit",
    response_model=list[AuditEntryPublic],
    summary="Your audit log, newest first: what was done with your account and sessions, and by you",
)
async def my_audit(
    pool: PoolDep,
    user_id: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditEntryPublic]:
    return [AuditEntryPublic.model_validate(e) for e in await audit.for_user(pool, user_id, limit=limit, offset=offset)]
