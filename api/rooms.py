"""The room signalling WebSocket: `/v1/rooms/{session_id}/signal`.

The candidate is told who watches, by name: when a coach comes or goes, and when the candidate
joins while coaches watch, it gets {"type": "watchers", "names": [...]}, the event LiveKit rooms
send too (api/livekit_watchers.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from api.tokens import RoomClaims
from api.watch_access import ACCESS_ENDED_CLOSE, AccessEnded, Watcher, WatchAccess, access_ended
from media.signalling import JOIN_TIMEOUT_CLOSE, JOIN_TIMEOUT_S, Close, SignallingSession

logger = logging.getLogger(__name__)

router = APIRouter(tags=["rooms"])

WATCHERS_EVENT = "watchers"


async def tell_candidate_watchers(
    app: FastAPI, access: WatchAccess, session_id: str, *, unless_none: bool = False
) -> None:
    """Sends the room's candidate the names of the coaches watching it now (nothing when there
    are none and unless_none)."""
    room = app.state.rooms.room(session_id)
    if room is None:
        return
    names = access.coaches_in_room(session_id)
    if unless_none and not names:
        return
    event = {"type": WATCHERS_EVENT, "names": names}
    for participant in list(room.participants.values()):
        if participant.role == "candidate" and participant.connected:
            try:
                await participant.send(event)
            except Exception:  # its socket is closing; its own handler cleans up
                participant.connected = False


@router.websocket("/v1/rooms/{session_id}/signal")
async def signal(websocket: WebSocket, session_id: str) -> None:
    """Join a session's room with a room token, then exchange SDP and receive room events."""
    app = websocket.app
    settings = app.state.settings
    access: WatchAccess = app.state.watch_access
    watcher: Watcher | None = None
    await websocket.accept()

    async def send(event: dict[str, Any]) -> None:
        if websocket.application_state is WebSocketState.CONNECTED:  # not once we have closed it
            await websocket.send_json(event)

    async def admit(claims: RoomClaims) -> None:
        """A coach joins, and stays, only while its share, the session and the account last."""
        nonlocal watcher
        if claims.role != "coach":
            return
        try:
            watcher = await access.watch(claims, end_access, in_room=True)
        except AccessEnded as ended:
            await send(access_ended(ended.reason))
            raise Close(ACCESS_ENDED_CLOSE, ended.reason) from None

    async def end_access(reason: str) -> None:
        await send(access_ended(reason))
        await session.closed()  # out of the room: its peer connection closes, no more media
        await websocket.close(code=ACCESS_ENDED_CLOSE, reason=reason)
        await tell_candidate_watchers(app, access, session_id)

    session = SignallingSession(
        app.state.rooms,
        session_id,
        verify=app.state.tokens.verify,
        send=send,
        max_message_bytes=settings.max_signal_message_bytes,
        ice_servers=settings.ice_servers,
        admit=admit,
    )
    join_by = time.monotonic() + JOIN_TIMEOUT_S
    told = False  # the candidate was told of this participant's joining
    try:
        while True:
            try:
                left = None if session.participant is not None else max(0.0, join_by - time.monotonic())
                message = await asyncio.wait_for(websocket.receive(), left)
            except TimeoutError:
                raise Close(JOIN_TIMEOUT_CLOSE, f"join within {JOIN_TIMEOUT_S:g} s of connecting") from None
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is None:
                await session.error("malformed", "binary messages are not accepted")
                continue
            await session.handle_text(message["text"])
            if not told and session.participant is not None:
                told = True
                if watcher is not None:
                    await tell_candidate_watchers(app, access, session_id)
                elif session.participant.role == "candidate":
                    await tell_candidate_watchers(app, access, session_id, unless_none=True)
    except Close as close:
        if websocket.application_state is WebSocketState.CONNECTED:
            await websocket.close(code=close.code, reason=close.reason)
    except WebSocketDisconnect:
        pass
    finally:
        if watcher is not None:
            access.forget(watcher)
        await session.closed()
        if watcher is not None and told:
            try:
                await tell_candidate_watchers(app, access, session_id)
            except Exception:
                logger.info("candidate not told who watches", extra={"session_id": session_id})
