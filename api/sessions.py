"""Interview sessions over HTTP: schedule, list, read, end, delete, and join tokens for the room."""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.catalog import DEFAULT_PERSONA, DIFFICULTIES, PANEL_SIZES, PERSONAS, ROLE_TRACKS, ROUND_TYPES
from api.consent import CONSENT_VERSION, DEFAULT_RETENTION_DAYS
from api.deps import CurrentUser, PoolDep, RoomCloser, RoomsDep, TokensDep, WatchAccessDep
from api.fields import RequestBody, Text, invalid
from api.livekit_rooms import UNAVAILABLE, LiveKitRoomsDep, LiveKitUnavailable
from api.throttle import THROTTLED, SessionLimit
from api.tokens import TokenIssuer
from db import audit
from db import sessions as repo
from db import usage as usage_repo

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])

RoleTrack = Literal[ROLE_TRACKS]  # type: ignore[valid-type]
RoundType = Literal[ROUND_TYPES]  # type: ignore[valid-type]
Difficulty = Literal[DIFFICULTIES]  # type: ignore[valid-type]
PersonaId = Literal[tuple(PERSONAS)]  # type: ignore[valid-type]
SessionStatus = Literal["scheduled", "live", "completed", "failed", "abandoned"]
RetentionDays = Literal[7, 30, 90, 365]
MAX_CONTEXT_CHARS = 20_000  # CV and job description text; the database checks the same
# The largest body POST /v1/sessions accepts: both texts at 6 bytes a character (JSON's \uXXXX),
# and room for the other fields. Other bodies get the app's much smaller default.
CREATE_MAX_BODY_BYTES = 256 * 1024
MAX_OFFSET = 1_000_000

SESSION_NOT_FOUND = "session not found"
END_REASON_BY_CANDIDATE = "ended_by_candidate"
END_REASON_DELETED = "session_deleted"


class ErrorPublic(BaseModel):
    """An error answer."""

    detail: str


class SessionCreate(RequestBody):
    """The choices a candidate makes when scheduling an interview."""

    role_track: RoleTrack
    round_type: RoundType
    difficulty: Difficulty
    duration_min: Literal[10, 20, 30]
    persona: PersonaId = DEFAULT_PERSONA
    consent_version: Text = Field(
        max_length=64,
        description="The version of the consent policy the candidate accepted (GET /v1/consent).",
    )
    cv_text: Text | None = Field(
        default=None, max_length=MAX_CONTEXT_CHARS, description="The candidate's CV, as text."
    )
    jd_text: Text | None = Field(
        default=None, max_length=MAX_CONTEXT_CHARS, description="The job description, as text."
    )
    capture_signals: bool = Field(
        default=True,
        description='"Analyse my delivery": compute and keep face and voice signals.',
    )
    retention_days: RetentionDays | None = Field(
        default=DEFAULT_RETENTION_DAYS,
        description="Days to keep the session before it is deleted; null keeps it until deleted.",
    )
    practice_question_id: Text | None = Field(
        default=None, max_length=200, description="A question bank id: practise this one question."
    )
    panel: list[PersonaId] | None = Field(
        default=None,
        min_length=min(PANEL_SIZES),
        max_length=max(PANEL_SIZES),
        description="A panel interview: 2 or 3 distinct personas, the lead first (`persona` is the lead).",
    )

    @model_validator(mode="after")
    def _panel_led_by_persona(self) -> SessionCreate:
        if not self.panel:
            return self
        if len(set(self.panel)) != len(self.panel):
            raise ValueError("panel: the personas must be distinct")
        if "persona" in self.model_fields_set and self.persona != self.panel[0]:
            raise ValueError("panel: its first persona is the lead and must be the session's persona")
        self.persona = self.panel[0]
        return self


class SessionPublic(BaseModel):
    """A session as its owner sees it (without the CV and job description text)."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    role_track: str
    round_type: str
    difficulty: str
    duration_min: int
    persona: str
    panel: list[str] = Field(description="A panel's personas, the lead first; empty for one interviewer.")
    status: SessionStatus
    consent_version: str | None
    consented_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    capture_signals: bool
    retention_days: int | None = Field(description="null: kept until deleted.")
    retain_until: datetime | None = Field(description="When the session will be deleted.")
    practice_question_id: str | None
    has_cv: bool
    has_jd: bool

    @classmethod
    def of(cls, record: repo.SessionRecord) -> SessionPublic:
        fields = asdict(record) | {"has_cv": bool(record.cv_text), "has_jd": bool(record.jd_text)}
        return cls.model_validate(fields)


class TranscriptEntryPublic(BaseModel):
    """One line of the transcript: a question asked or a response given."""

    model_config = ConfigDict(from_attributes=True)

    speaker: Literal["interviewer", "candidate"]
    text: str
    at: datetime
    seq: int | None = Field(description="The question's number; for a response, the one answered.")
    question_id: UUID | None
    source: Literal["bank", "follow_up"] | None = Field(description="Where a question came from.")
    persona: str | None = Field(description="Which interviewer asked a question.")


class UsageCountsPublic(BaseModel):
    """What the interview used of its providers (local ones included, under their own names)."""

    model_config = ConfigDict(from_attributes=True)

    tokens_in: int = Field(description="Language-model prompt tokens.")
    tokens_out: int = Field(description="Language-model completion tokens.")
    tts_characters: int = Field(description="Characters synthesised into speech.")
    stt_audio_s: float = Field(description="Seconds of the candidate's audio transcribed.")


class UsagePublic(UsageCountsPublic):
    """A session's cost counters: the totals, and each provider's share."""

    by_provider: dict[str, UsageCountsPublic]

    @classmethod
    def of(cls, usage: usage_repo.SessionUsage) -> UsagePublic:
        return cls(
            **asdict(usage.total),
            by_provider={p: UsageCountsPublic.model_validate(u) for p, u in usage.by_provider.items()},
        )


class SessionDetail(SessionPublic):
    """A session with the CV and job description it was given and its transcript so far."""

    cv_text: str | None
    jd_text: str | None
    transcript: list[TranscriptEntryPublic]
    usage: UsagePublic


class RoomJoin(BaseModel):
    """What a browser needs to join a session's room."""

    session_id: UUID
    signal_url: str = Field(description="The room's signalling WebSocket path.")
    token: str = Field(description="A room access token (a LiveKit access token).")
    expires_in_s: int
    identity: str
    role: Literal["candidate", "coach"]
    transport: Literal["embedded", "livekit"] = Field(
        default="embedded",
        description="The room server to join: embedded (the signalling WebSocket) or livekit (a LiveKit server).",
    )
    url: str = Field(
        description="Where to connect with the token: the signalling WebSocket path (embedded) or the LiveKit server's URL."
    )


class SessionJoin(BaseModel):
    """A newly scheduled session and the candidate's way into its room."""

    session: SessionPublic
    room: RoomJoin


class TokenRequest(RequestBody):
    """Who a fresh room token is for."""

    role: Literal["candidate"] = Field(
        default="candidate",
        description="Only the candidate's own: coaches watch through a share link (POST /v1/shared/{token}/watch).",
    )


NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such session for this user."}}
OUTDATED_CONSENT = "consent to the current policy (version {version}) is required"
UNKNOWN_QUESTION = "unknown question"


def room_join(
    tokens: TokenIssuer,
    session_id: UUID,
    user_id: UUID,
    role: Literal["candidate", "coach"],
    *,
    share_id: UUID | None = None,
    coach_id: UUID | None = None,
    coach_name: str = "Coach",
) -> RoomJoin:
    """Issues a room token for the session's owner (candidate) or a new coach, who watches
    through the share link `share_id` for as long as that link lasts, or (signed in, `coach_id`)
    for as long as a coach share lets them."""
    if role == "candidate":
        identity, name = f"candidate-{user_id}", "Candidate"
    elif coach_id is not None:
        identity, name = f"coach-{coach_id}-{secrets.token_hex(2)}", coach_name
    else:
        identity, name = f"coach-{secrets.token_hex(4)}", "Coach"
    token = tokens.issue(
        str(session_id),
        identity,
        role,
        name,
        share_id=str(share_id) if share_id is not None else None,
        coach_id=str(coach_id) if coach_id is not None else None,
    )
    signal_url = f"/v1/rooms/{session_id}/signal"
    return RoomJoin(
        session_id=session_id,
        signal_url=signal_url,
        token=token,
        expires_in_s=tokens.ttl_for(role),
        identity=identity,
        role=role,
        transport=tokens.transport,
        url=tokens.server_url or signal_url,
    )


async def _close_room(rooms: RoomCloser | None, session_id: UUID, reason: str, *, wait: bool = True) -> None:
    """Closes the session's room if a room service runs here; a failure is logged, not raised."""
    if rooms is None:
        return
    try:
        await rooms.close_room(str(session_id), reason, wait=wait)
    except Exception:
        logger.exception("closing room failed", extra={"session_id": str(session_id)})


def _in_bank(request: Request, question_id: str) -> bool:
    """Whether the question bank loaded in the lifespan has this question."""
    bank = getattr(request.app.state, "question_bank", None)
    if bank is None:
        return False
    try:
        bank.get(question_id)
    except KeyError:
        return False
    return True


async def _owned_session(pool: repo.Db, session_id: UUID, user_id: UUID) -> repo.SessionRecord:
    record = await repo.get_session(pool, session_id, user_id=user_id)
    if record is None:
        raise HTTPException(status_code=404, detail=SESSION_NOT_FOUND)
    return record


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionJoin,
    responses={
        409: {"model": ErrorPublic, "description": "Consent was given to another policy version."},
        **invalid("Invalid body, or an unknown practice question."),
        **THROTTLED,
        **UNAVAILABLE,
    },
    summary="Schedule a session and get the candidate's room token",
    description="With the LiveKit transport, also makes the session's room and dispatches the interviewer to it.",
)
async def create_session(
    body: SessionCreate,
    request: Request,
    pool: PoolDep,
    tokens: TokensDep,
    livekit: LiveKitRoomsDep,
    user_id: CurrentUser,
    _limit: SessionLimit,
) -> SessionJoin:
    if body.consent_version != CONSENT_VERSION:
        raise HTTPException(status_code=409, detail=OUTDATED_CONSENT.format(version=CONSENT_VERSION))
    if body.practice_question_id is not None and not _in_bank(request, body.practice_question_id):
        raise HTTPException(status_code=422, detail=UNKNOWN_QUESTION)
    record = await repo.create_session(
        pool,
        user_id=user_id,
        role_track=body.role_track,
        round_type=body.round_type,
        difficulty=body.difficulty,
        duration_min=body.duration_min,
        persona=body.persona,
        consent_version=body.consent_version,
        cv_text=(body.cv_text or "").strip() or None,
        jd_text=(body.jd_text or "").strip() or None,
        capture_signals=body.capture_signals,
        retention_days=body.retention_days,
        practice_question_id=body.practice_question_id,
        panel=body.panel or (),
    )
    if livekit is not None:
        try:
            await livekit.ensure_room(str(record.id))
        except LiveKitUnavailable:  # no room to join: the session is not kept, so a retry starts afresh
            await repo.delete_session(pool, record.id, user_id=user_id)
            raise
    return SessionJoin(
        session=SessionPublic.of(record),
        room=room_join(tokens, record.id, user_id, "candidate"),
    )


@router.get("", response_model=list[SessionPublic], summary="List your sessions, newest first")
async def list_sessions(
    pool: PoolDep,
    user_id: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[SessionPublic]:
    records = await repo.list_sessions(pool, user_id, limit=limit, offset=offset)
    return [SessionPublic.of(r) for r in records]


@router.get(
    "/{session_id}",
    response_model=SessionDetail,
    responses=NOT_FOUND,
    summary="A session with its transcript so far",
)
async def get_session(session_id: UUID, pool: PoolDep, user_id: CurrentUser) -> SessionDetail:
    record = await _owned_session(pool, session_id, user_id)
    entries = await repo.transcript(pool, session_id)
    usage = await usage_repo.session_usage(pool, session_id)
    return SessionDetail(
        **SessionPublic.of(record).model_dump(),
        cv_text=record.cv_text,
        jd_text=record.jd_text,
        transcript=[TranscriptEntryPublic.model_validate(e) for e in entries],
        usage=UsagePublic.of(usage),
    )


@router.post(
    "/{session_id}/end",
    response_model=SessionPublic,
    responses=NOT_FOUND,
    summary="End a session (ending an ended session changes nothing)",
)
async def end_session(
    session_id: UUID, pool: PoolDep, rooms: RoomsDep, user_id: CurrentUser
) -> SessionPublic:
    await _owned_session(pool, session_id, user_id)
    record = await repo.mark_ended(
        pool, session_id, "completed", datetime.now(UTC), END_REASON_BY_CANDIDATE
    )
    if record is None:  # deleted in between
        raise HTTPException(status_code=404, detail=SESSION_NOT_FOUND)
    # Not waiting for the interview to store its last answer (heard again whole: seconds): the
    # report says it is finishing until then (reports/builder.py).
    await _close_room(rooms, session_id, END_REASON_BY_CANDIDATE, wait=False)
    return SessionPublic.of(record)


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=NOT_FOUND,
    summary="Delete a session and everything recorded in it",
)
async def delete_session(
    session_id: UUID, pool: PoolDep, rooms: RoomsDep, access: WatchAccessDep, user_id: CurrentUser
) -> Response:
    await _owned_session(pool, session_id, user_id)
    if access is not None:  # coaches first, so they are told why rather than that the room closed
        await access.session_deleted(session_id)
    await _close_room(rooms, session_id, END_REASON_DELETED)
    if not await repo.delete_session(pool, session_id, user_id=user_id):
        raise HTTPException(status_code=404, detail=SESSION_NOT_FOUND)
    await audit.record(pool, action="session_deleted", actor_id=user_id, subject_user_id=user_id, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{session_id}/token",
    response_model=RoomJoin,
    responses={
        **NOT_FOUND,
        409: {"model": ErrorPublic, "description": "The session has ended."},
        **UNAVAILABLE,
    },
    summary="A fresh room token, to reconnect as the candidate",
)
async def issue_token(
    session_id: UUID,
    body: TokenRequest,
    pool: PoolDep,
    tokens: TokensDep,
    livekit: LiveKitRoomsDep,
    user_id: CurrentUser,
) -> RoomJoin:
    record = await _owned_session(pool, session_id, user_id)
    if record.status not in repo.OPEN_STATUSES:
        raise HTTPException(status_code=409, detail="session has ended")
    if livekit is not None:  # the room closes once empty for a while: made again for a rejoin
        await livekit.ensure_room(str(session_id))
    return room_join(tokens, session_id, user_id, body.role)
