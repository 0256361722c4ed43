"""LiveKit's webhooks, `POST /v1/livekit/webhook`: verified, applied once, and what they change.

Every call is verified with livekit-api's WebhookReceiver: its Authorization header must be a
token signed with the LiveKit API key and secret, whose sha256 claim is the hash of the body.
An unsigned, forged or altered call gets 401. An event whose id was seen before, or that was
made more than livekit_webhook_window_s from now, is a replay and gets 400; the ids are kept in
PostgreSQL (db/livekit_webhooks.py), so every process of a deployment knows them. With the
embedded transport the route answers 404.

What the events change (a room is named by its session id; other rooms are ignored):
- participant_joined, the candidate: a scheduled session goes live (an ended one stays ended),
  and a grace period running for it is over.
- participant_joined, a coach: removed at once unless its share link still lets it watch (a
  token minted before a revocation is good for joining until it expires).
- participant_left, the candidate: a grace period of reconnect_grace_s starts, as in the
  embedded room. If the candidate is not in the room when it ends, the session ends as
  abandoned (candidate_disconnected) and its room is closed.
- room_finished: a live session ends as abandoned (room_finished). One that ended normally
  (completed by the interviewer or by the candidate before the room closed) stays as it is; a
  scheduled one (nobody joined; the room is made again with the next token) stays scheduled.
- participant_left, the interviewer (an agent): while the session is open, the interviewer is
  dispatched again until one is back in the room (api/livekit_upkeep.py).
- Coaches joining and leaving are noted, so that one whose share link expires while it watches
  is removed (api/livekit_upkeep.py re-checks them every second).
A session these events end (abandoned, or ended by the candidate) is scored at once, as the
embedded server scores a session at its end; the interviewer's worker scores those it completes.
The database changes are made in the transaction that notes the event's id, so a failure
leaves the event unseen and LiveKit's retry applies it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import jwt
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response, status
from google.protobuf import json_format
from livekit import api
from pydantic import BaseModel

from api.livekit_rooms import LiveKitRooms, LiveKitUnavailable, parse_uuid, remove_coaches_without_access, role_of
from api.livekit_upkeep import LiveKitUpkeep, cancel_and_wait
from api.livekit_watchers import on_participant_event
from api.reports import report_context
from api.sessions import END_REASON_BY_CANDIDATE
from db import livekit_webhooks
from db import sessions as db_sessions
from db.pool import transaction
from greenroom.settings import Settings
from reports.session_end import score_ended_session

logger = logging.getLogger(__name__)

router = APIRouter(tags=["livekit"])

WEBHOOK_PATH = "/v1/livekit/webhook"
# Why a session ended, as the embedded room says it (greenroom/interviews.py).
END_REASON_CANDIDATE_GONE = "candidate_disconnected"
END_REASON_ROOM_FINISHED = "room_finished"
# Ids are kept this much longer than the window, for clocks that differ a little.
KEEP_IDS_EXTRA_S = 60.0

NOT_ENABLED = "LiveKit webhooks are off: this server runs the embedded room (GREENROOM_TRANSPORT)"
UNSIGNED = "unsigned webhook: no Authorization header"
SIGNATURE_EXPIRED = "webhook signature expired"
SIGNATURE_INVALID = "webhook signature invalid (not signed with the LiveKit API key and secret)"
BODY_NOT_SIGNED = "webhook body does not match its signature"
NOT_AN_EVENT = "webhook body is not a LiveKit event"
NO_EVENT_ID = "webhook event has no id"
REPLAYED = "webhook event already received (replay)"
OUT_OF_WINDOW = "webhook event made outside the accepted window (replay or clock skew)"


class WebhookRefused(Exception):
    """A webhook call was refused; `reason` is safe to answer with."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


class LiveKitWebhooks:
    """Verifies LiveKit's webhook calls, refuses replays, and applies the events (module docstring)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        rooms: LiveKitRooms,
        *,
        api_key: str,
        api_secret: str,
        window_s: float,
        reconnect_grace_s: float,
        clock: Callable[[], float] = time.time,
        upkeep: LiveKitUpkeep | None = None,
    ) -> None:
        """`upkeep` is told of the interviewer leaving, of coaches, and of sessions ended here."""
        self._pool = pool
        self._rooms = rooms
        self._upkeep = upkeep
        self._receiver = api.WebhookReceiver(api.TokenVerifier(api_key, api_secret))
        self._window_s = window_s
        self._grace_s = reconnect_grace_s
        self._clock = clock
        self._graces: dict[UUID, asyncio.Task[None]] = {}  # the candidate away, by session
        self._tasks: set[asyncio.Task[None]] = set()  # every grace task, until it is done

    @classmethod
    def from_settings(
        cls, settings: Settings, pool: asyncpg.Pool, rooms: LiveKitRooms, *, upkeep: LiveKitUpkeep | None = None
    ) -> LiveKitWebhooks:
        assert settings.livekit_api_key and settings.livekit_api_secret  # Settings checks this
        return cls(
            pool,
            rooms,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret.get_secret_value(),
            window_s=settings.livekit_webhook_window_s,
            reconnect_grace_s=settings.reconnect_grace_s,
            upkeep=upkeep,
        )

    async def aclose(self) -> None:
        self._graces.clear()
        for task in list(self._tasks):
            await cancel_and_wait(task)

    async def handle(self, body: bytes, authorization: str | None) -> str:
        """Verifies one call and applies its event once; returns the event's name. Raises
        WebhookRefused."""
        event = self.verified(body, authorization)
        made_at = self._made_at(event)
        session_id = parse_uuid(event.room.name)
        forget_before = datetime.fromtimestamp(self._clock() - self._window_s - KEEP_IDS_EXTRA_S, UTC)
        async with transaction(self._pool) as conn:
            if not await livekit_webhooks.record_event(conn, event.id, event.event, made_at, forget_before=forget_before):
                raise WebhookRefused(400, REPLAYED)
            if session_id is not None:
                await self._record(conn, event, session_id)
        if session_id is not None:
            await self._follow_up(event, session_id)
            if self._upkeep is not None:
                await self._keep_up(self._upkeep, event, session_id)
        return event.event

    def verified(self, body: bytes, authorization: str | None) -> api.WebhookEvent:
        """The event a call carries, if LiveKit signed exactly this body; raises WebhookRefused."""
        if not authorization or not authorization.strip():
            raise WebhookRefused(401, UNSIGNED)
        token = authorization.strip().removeprefix("Bearer ").strip()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRefused(400, NOT_AN_EVENT) from None
        try:
            return self._receiver.receive(text, token)
        except jwt.ExpiredSignatureError:
            raise WebhookRefused(401, SIGNATURE_EXPIRED) from None
        except jwt.InvalidTokenError:
            raise WebhookRefused(401, SIGNATURE_INVALID) from None
        except json_format.ParseError:  # only once the body's hash matched
            raise WebhookRefused(400, NOT_AN_EVENT) from None
        except Exception:  # WebhookReceiver raises a bare Exception for a missing or wrong hash
            raise WebhookRefused(401, BODY_NOT_SIGNED) from None

    def _made_at(self, event: api.WebhookEvent) -> datetime:
        """When the event was made; raises WebhookRefused when it has no id or is out of the window."""
        if not event.id:
            raise WebhookRefused(400, NO_EVENT_ID)
        if abs(self._clock() - event.created_at) > self._window_s:
            raise WebhookRefused(400, OUT_OF_WINDOW)
        return datetime.fromtimestamp(event.created_at, UTC)

    async def _record(self, conn: asyncpg.Connection, event: api.WebhookEvent, session_id: UUID) -> None:
        """The event's changes to the session, in the transaction that notes it."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        if event.event == "participant_joined" and role_of(event.participant) == "candidate":
            await db_sessions.mark_live(conn, session_id, now)
        elif event.event == "room_finished":
            session = await db_sessions.get_session(conn, session_id)
            if session is not None and session.status == "live":
                await db_sessions.mark_ended(conn, session_id, "abandoned", now, END_REASON_ROOM_FINISHED)
                logger.info("session abandoned: its room closed", extra={"session_id": str(session_id)})

    async def _follow_up(self, event: api.WebhookEvent, session_id: UUID) -> None:
        """What the event starts outside the database: grace periods, and coaches sent away."""
        role = role_of(event.participant) if event.event.startswith("participant_") else None
        if event.event == "participant_joined" and role == "candidate":
            await self._end_grace(session_id)
        elif event.event == "participant_left" and role == "candidate":
            await self._end_grace(session_id)
            task = asyncio.create_task(self._grace(session_id), name="livekit-candidate-grace")
            self._graces[session_id] = self._own(task)
        elif event.event == "participant_joined" and role == "coach":
            try:
                await remove_coaches_without_access(self._pool, self._rooms, session_id)
            except LiveKitUnavailable:
                logger.warning("coach access not checked: LiveKit unavailable", extra={"session_id": str(session_id)})
        elif event.event == "room_finished":
            await self._end_grace(session_id)
        if role in ("coach", "candidate"):  # coaches are hidden: the candidate is told who watches
            await on_participant_event(self._rooms, event, str(session_id))

    async def _keep_up(self, upkeep: LiveKitUpkeep, event: api.WebhookEvent, session_id: UUID) -> None:
        """What the event means for the upkeep: the interviewer gone, a coach come or gone, a
        session ended (one the interviewer completed is scored by its worker)."""
        participant = event.participant
        role = role_of(participant) if event.event.startswith("participant_") else None
        if event.event == "participant_left" and participant.kind == api.ParticipantInfo.Kind.AGENT:
            upkeep.interviewer_left(session_id)
        elif event.event == "participant_joined" and role == "coach":
            upkeep.coach_joined(session_id, participant)
        elif event.event == "participant_left" and role == "coach":
            upkeep.coach_left(session_id, participant.identity)
        elif event.event == "room_finished":
            upkeep.room_finished(session_id)
            session = await db_sessions.get_session(self._pool, session_id)
            if session is not None and session.end_reason in (END_REASON_ROOM_FINISHED, END_REASON_BY_CANDIDATE):
                upkeep.ended(session_id)

    def _own(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _end_grace(self, session_id: UUID) -> None:
        """The candidate is back (or the room is gone): a grace period still waiting is over."""
        task = self._graces.pop(session_id, None)
        if task is not None:
            await cancel_and_wait(task)

    async def _grace(self, session_id: UUID) -> None:
        """After the grace period, a candidate who has not come back leaves the session abandoned."""
        await asyncio.sleep(self._grace_s)
        if self._graces.get(session_id) is asyncio.current_task():
            del self._graces[session_id]  # past waiting: what follows is not cancelled by the room closing
        try:
            await self._abandon_if_gone(session_id)
        except Exception:  # the database is away: the room's end (room_finished) still ends the session
            logger.exception("grace period's end not applied", extra={"session_id": str(session_id)})

    async def _abandon_if_gone(self, session_id: UUID) -> None:
        try:
            if await self._rooms.candidate_present(str(session_id)):
                return
        except LiveKitUnavailable:  # the room's end (room_finished) still ends the session
            logger.warning("candidate presence not checked: LiveKit unavailable", extra={"session_id": str(session_id)})
            return
        ended = await db_sessions.mark_ended(
            self._pool, session_id, "abandoned", datetime.fromtimestamp(self._clock(), UTC), END_REASON_CANDIDATE_GONE
        )
        if ended is not None and ended.end_reason == END_REASON_CANDIDATE_GONE:
            logger.info("session abandoned: the candidate did not come back", extra={"session_id": str(session_id)})
            if self._upkeep is not None:
                self._upkeep.ended(session_id)
            try:
                await self._rooms.close_room(str(session_id), "abandoned")
            except LiveKitUnavailable:
                logger.warning("room not closed: LiveKit unavailable", extra={"session_id": str(session_id)})


@asynccontextmanager
async def livekit_transport(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The LiveKit rooms, webhooks and upkeep on app.state for the app's lifespan (the livekit
    transport); sessions ended here are scored with the evaluator the app holds at the time."""
    pool = app.state.pool

    async def score(session_id: UUID) -> None:
        await score_ended_session(pool, session_id, report_context(app))

    rooms = LiveKitRooms.from_settings(settings)
    upkeep = LiveKitUpkeep.from_settings(settings, pool, rooms, on_ended=score)
    webhooks = LiveKitWebhooks.from_settings(settings, pool, rooms, upkeep=upkeep)
    app.state.livekit_rooms = rooms
    app.state.livekit_webhooks = webhooks
    upkeep.start()
    try:
        yield
    finally:
        await webhooks.aclose()
        await upkeep.aclose()
        await rooms.aclose()
        app.state.livekit_rooms = app.state.livekit_webhooks = None


class WebhookErrorPublic(BaseModel):
    """A refused webhook call."""

    detail: str


@router.post(
    WEBHOOK_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        400: {"model": WebhookErrorPublic, "description": "Not a LiveKit event, or a replayed one."},
        401: {"model": WebhookErrorPublic, "description": "Unsigned, forged, or the body does not match its signature."},
        404: {"model": WebhookErrorPublic, "description": "The LiveKit transport is not in use."},
    },
    summary="LiveKit's room events (called by the LiveKit server, signed with its API key)",
    description=(
        "The body is LiveKit's WebhookEvent as JSON; the Authorization header is LiveKit's signed "
        "token whose sha256 claim is the body's hash."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/webhook+json": {"schema": {"type": "object"}}},
        }
    },
)
async def livekit_webhook(request: Request) -> Response:
    webhooks: LiveKitWebhooks | None = getattr(request.app.state, "livekit_webhooks", None)
    if webhooks is None:
        raise HTTPException(status_code=404, detail=NOT_ENABLED)
    body = await request.body()
    try:
        event = await webhooks.handle(body, request.headers.get("authorization"))
    except WebhookRefused as refused:
        logger.warning("webhook refused", extra={"status": refused.status_code, "reason": refused.reason})
        raise HTTPException(status_code=refused.status_code, detail=refused.reason) from None
    logger.debug("webhook applied", extra={"event": event})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
