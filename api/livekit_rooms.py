"""Sessions' rooms on a LiveKit server (GREENROOM_TRANSPORT=livekit): made, closed, and coaches sent away.

Each session's room is named by the session id. It is made (or found) whenever the candidate is
given a token, with an empty-room timeout, a participant limit, and the interviewer's dispatch
(CreateRoomRequest.agents): LiveKit dispatches the interviewer once, when it makes the room,
however many API processes ask at once. LiveKit does not dispatch it again when its worker dies
(the dead job stays listed as running), so a room with no interviewer in it, and no job about to
join, is given a new dispatch (ensure_interviewer: on every token, and from the interviewer's
participant_left webhook, api/livekit_upkeep.py); a duplicate is harmless, as a job holds its
session. Revoking a share removes the coaches that watch through it from the room at once, by
the rule the embedded room applies: LiveKit checks a token only when it is used to join. Ending
or deleting a session, or deleting the account, closes its room (`close_room`, through
api.deps.get_rooms).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Literal
from uuid import UUID

import aiohttp
import asyncpg
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from livekit import api

from api.errors import DOCUMENTED, RETRY_AFTER_S
from api.tokens import COACH_ATTRIBUTE, ROLE_ATTRIBUTE, SHARE_ATTRIBUTE
from api.watch_access import refusal
from db import shares
from greenroom.settings import Settings

logger = logging.getLogger(__name__)

LIVEKIT_UNAVAILABLE = "room server (LiveKit) unavailable, retry shortly"
# The candidate and the hidden signal consumer; the interviewer, an agent, is not counted by LiveKit.
PARTICIPANTS_BESIDES_COACHES = 2
# A job a worker took for the room may take this long to join it (take the session's hold,
# connect) before it is presumed lost and the interviewer dispatched again.
JOB_JOIN_WINDOW_S = 15.0
# A dispatch that no worker has taken this long after it was made found none: LiveKit does not
# try it again (a worker that registers later is not given it).
DISPATCH_LAUNCH_WINDOW_S = 5.0
_LIVE_JOB = (api.JobStatus.JS_PENDING, api.JobStatus.JS_RUNNING)

# Whether a room has its interviewer: in it; a job taken or a dispatch made, about to join;
# dispatched just now; or there is no room (nothing to do).
InterviewerState = Literal["present", "coming", "dispatched", "no_room"]

# The 503 of routes that call LiveKit (with that transport): the database's, or LiveKit's.
UNAVAILABLE = {
    503: {
        **DOCUMENTED[503],
        "description": "The database, or the LiveKit server, is unavailable; retry after Retry-After seconds.",
    }
}


class LiveKitUnavailable(Exception):
    """The LiveKit server could not be reached, or failed; retrying later may work."""


class LiveKitRooms:
    """What the API asks of a LiveKit server, through livekit-api's RoomService and AgentDispatchService."""

    def __init__(
        self,
        lkapi: api.LiveKitAPI,
        *,
        agent_name: str,
        empty_timeout_s: int,
        max_participants: int,
        launch_window_s: float = DISPATCH_LAUNCH_WINDOW_S,
        job_join_window_s: float = JOB_JOIN_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lkapi = lkapi
        self.agent_name = agent_name
        self.empty_timeout_s = empty_timeout_s
        self.max_participants = max_participants
        self._launch_window_s = launch_window_s
        self._job_join_window_s = job_join_window_s
        self._clock = clock  # wall time, as LiveKit stamps dispatches and jobs

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveKitRooms:
        """The client for the configured server; made inside the running event loop (the lifespan)."""
        if not (settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret):
            raise ValueError("LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set")
        lkapi = api.LiveKitAPI(
            settings.livekit_url,
            settings.livekit_api_key,
            settings.livekit_api_secret.get_secret_value(),
            timeout=aiohttp.ClientTimeout(total=settings.livekit_api_timeout_s),
            failover=False,
        )
        return cls(
            lkapi,
            agent_name=settings.livekit_agent_name,
            empty_timeout_s=settings.livekit_empty_timeout_s,
            max_participants=PARTICIPANTS_BESIDES_COACHES + settings.livekit_coach_limit,
        )

    async def aclose(self) -> None:
        await self._lkapi.aclose()

    async def ensure_room(self, session_id: str) -> None:
        """Makes the session's room if it is not there, the interviewer's dispatch with it, and
        dispatches the interviewer again if the room has lost it; raises LiveKitUnavailable."""
        async with _calling("create_room", session_id):
            await self._lkapi.room.create_room(
                api.CreateRoomRequest(
                    name=session_id,
                    empty_timeout=self.empty_timeout_s,
                    max_participants=self.max_participants,
                    agents=[api.RoomAgentDispatch(agent_name=self.agent_name, metadata=self._metadata(session_id))],
                )
            )
        await self.ensure_interviewer(session_id, room_made=True)

    async def ensure_interviewer(self, session_id: str, *, room_made: bool = False) -> InterviewerState:
        """Dispatches the interviewer to the session's room unless one is in it or about to join
        (a job taken within the join window, or a dispatch no worker has had time to take); a
        dispatch no worker took is withdrawn first. Raises LiveKitUnavailable."""
        if any(p.kind == api.ParticipantInfo.Kind.AGENT for p in await self.participants(session_id)):
            return "present"
        if not room_made and not await self.room_exists(session_id):
            return "no_room"
        async with _calling("list_dispatch", session_id):
            listed = await self._lkapi.agent_dispatch.list_dispatch(session_id)
        ours = [d for d in listed if d.agent_name == self.agent_name]
        now_ns = int(self._clock() * 1e9)
        taken = [job for d in ours for job in d.state.jobs if job.state.status in _LIVE_JOB]
        if any(now_ns - job.state.started_at < self._job_join_window_s * 1e9 for job in taken):
            return "coming"
        untaken = [d for d in ours if not d.state.jobs]
        if any(now_ns - d.state.created_at < self._launch_window_s * 1e9 for d in untaken):
            return "coming"
        async with _calling("dispatch", session_id):
            for dispatch in untaken:
                try:
                    await self._lkapi.agent_dispatch.delete_dispatch(dispatch.id, session_id)
                except api.TwirpError as exc:
                    if exc.status != 404:
                        raise
            await self._lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=self.agent_name, room=session_id, metadata=self._metadata(session_id)
                )
            )
        logger.info("interviewer dispatched", extra={"session_id": session_id})
        return "dispatched"

    @staticmethod
    def _metadata(session_id: str) -> str:
        return json.dumps({"session_id": session_id})

    async def close_room(self, session_id: str, reason: str, *, wait: bool = True) -> None:
        """Deletes the session's room, disconnecting everyone in it (the sessions API's room
        closer). The interview's job stores its last answers on its own: there is nothing to
        wait for here, whatever `wait` says."""
        async with _calling("delete_room", session_id):
            try:
                await self._lkapi.room.delete_room(api.DeleteRoomRequest(room=session_id))
            except api.TwirpError as exc:
                if exc.status != 404:
                    raise
        logger.info("room closed", extra={"session_id": session_id, "reason": reason})

    async def participants(self, session_id: str) -> list[api.ParticipantInfo]:
        """Who is in the session's room now (none when there is no room)."""
        async with _calling("list_participants", session_id):
            try:
                listed = await self._lkapi.room.list_participants(api.ListParticipantsRequest(room=session_id))
            except api.TwirpError as exc:
                if exc.status == 404:
                    return []
                raise
        return list(listed.participants)

    async def room_exists(self, session_id: str) -> bool:
        async with _calling("list_rooms", session_id):
            listed = await self._lkapi.room.list_rooms(api.ListRoomsRequest(names=[session_id]))
        return bool(listed.rooms)

    async def room_names(self) -> list[str]:
        """The rooms on the server now."""
        async with _calling("list_rooms", ""):
            listed = await self._lkapi.room.list_rooms(api.ListRoomsRequest())
        return [room.name for room in listed.rooms]

    async def candidate_present(self, session_id: str) -> bool:
        """Whether the session's candidate is in its room now."""
        return any(role_of(p) == "candidate" for p in await self.participants(session_id))

    async def remove_participant(self, session_id: str, identity: str) -> None:
        """Disconnects one participant from the session's room; one already gone is no error."""
        async with _calling("remove_participant", session_id):
            try:
                await self._lkapi.room.remove_participant(
                    api.RoomParticipantIdentity(room=session_id, identity=identity)
                )
            except api.TwirpError as exc:
                if exc.status != 404:
                    raise

    async def send_data(self, session_id: str, data: bytes, *, to: list[str], topic: str) -> None:
        """Sends a reliable data message to these participants of the session's room."""
        async with _calling("send_data", session_id):
            await self._lkapi.room.send_data(
                api.SendDataRequest(
                    room=session_id,
                    data=data,
                    kind=api.DataPacket.Kind.RELIABLE,
                    destination_identities=to,
                    topic=topic,
                )
            )


def role_of(participant: api.ParticipantInfo) -> str | None:
    """The room role a participant's token gave it (its role attribute)."""
    return participant.attributes.get(ROLE_ATTRIBUTE)


@dataclass(frozen=True, slots=True)
class CoachGrant:
    """What lets a coach in a room watch: a share link, or (joined from the coach's dashboard)
    the coach's account, which a coach share must cover."""

    share_id: UUID | None
    coach_id: UUID | None


def coach_grant(participant: api.ParticipantInfo) -> CoachGrant:
    """The grant a coach's token gave it (its attributes)."""
    share_id = parse_uuid(participant.attributes.get(SHARE_ATTRIBUTE, ""))
    coach_id = parse_uuid(participant.attributes.get(COACH_ATTRIBUTE, "")) if share_id is None else None
    return CoachGrant(share_id, coach_id)


async def refused_coaches(pool: asyncpg.Pool, session_id: UUID, grants: Mapping[str, CoachGrant]) -> list[str]:
    """The identities among these coaches that may no longer watch the session, by the rule the
    embedded room applies (api/watch_access.py). One query for all of them."""
    state = await shares.watch_state(
        pool,
        session_id,
        [g.share_id for g in grants.values() if g.share_id is not None],
        coach_ids=[g.coach_id for g in grants.values() if g.coach_id is not None],
    )
    return [
        identity
        for identity, g in grants.items()
        if (g.share_id is None and g.coach_id is None) or refusal(state, g.share_id, g.coach_id) is not None
    ]


async def remove_coaches_without_access(pool: asyncpg.Pool, rooms: LiveKitRooms, session_id: UUID) -> list[str]:
    """Removes from the session's room every coach that may no longer watch, by the rule the
    embedded room applies (api/watch_access.py: the share revoked or expired, the session
    ended or gone); returns their identities. One query for all of them."""
    coaches = [p for p in await rooms.participants(str(session_id)) if role_of(p) == "coach"]
    if not coaches:
        return []
    refused = await refused_coaches(pool, session_id, {p.identity: coach_grant(p) for p in coaches})
    for identity in refused:
        await rooms.remove_participant(str(session_id), identity)
    if refused:
        logger.info("coaches removed from the room", extra={"session_id": str(session_id), "count": len(refused)})
    return refused


def parse_uuid(text: str) -> UUID | None:
    """A room, identity or attribute value as a UUID, or None when it is not one."""
    try:
        return UUID(text)
    except ValueError:
        return None


@asynccontextmanager
async def _calling(call: str, session_id: str) -> AsyncIterator[None]:
    """Turns the server being unreachable, slow or failing into LiveKitUnavailable."""
    try:
        yield
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("LiveKit unreachable", extra={"call": call, "session_id": session_id, "error": type(exc).__name__})
        raise LiveKitUnavailable(call) from exc
    except api.TwirpError as exc:
        if exc.status < 500:
            raise
        logger.warning("LiveKit failed", extra={"call": call, "session_id": session_id, "status": exc.status})
        raise LiveKitUnavailable(call) from exc


async def livekit_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The answer when LiveKit cannot be reached: 503 with Retry-After, as for the database."""
    rid = getattr(request.state, "request_id", "")
    return JSONResponse(
        status_code=503,
        content={"detail": LIVEKIT_UNAVAILABLE, "request_id": rid},
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def get_livekit_rooms(request: Request) -> LiveKitRooms | None:
    """The LiveKit rooms, when the transport is livekit."""
    return getattr(request.app.state, "livekit_rooms", None)


LiveKitRoomsDep = Annotated[LiveKitRooms | None, Depends(get_livekit_rooms)]
