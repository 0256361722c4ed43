"""The room's signalling protocol over a WebSocket: join with a token, offer/answer, events out.

Client → server: {"type": "join", "token": …}, {"type": "offer", "sdp": …}, {"type": "leave"}.
Server → client: {"type": "joined", …}, {"type": "answer", "sdp": …}, {"type": "error", "code": …,
"message": …}, and room events (captions, questions, agent state, room_closed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from media.room_server import Participant, Room, RoomServer, SignallingError

logger = logging.getLogger(__name__)

Verify = Callable[[str, str], Any]  # (token, room) -> claims with identity/role/can_publish, or raises
Admit = Callable[[Any], Awaitable[None]]  # (claims) -> None to let them join; raises Close to refuse

# A socket must join this soon after it opens, or it is closed with JOIN_TIMEOUT_CLOSE.
JOIN_TIMEOUT_S = 5.0
JOIN_TIMEOUT_CLOSE = 4408


class Close(Exception):
    """End the socket with a WebSocket close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class SignallingSession:
    """One participant's socket: parses, bounds and answers messages; the room keeps running."""

    def __init__(
        self,
        server: RoomServer,
        session_id: str,
        *,
        verify: Verify,
        send: Callable[[dict[str, Any]], Awaitable[None]],
        max_message_bytes: int,
        ice_servers: list[str],
        admit: Admit | None = None,
    ) -> None:
        self._server = server
        self._session_id = session_id
        self._verify = verify
        self._admit = admit
        self._send = send
        self._max = max_message_bytes
        self._ice_servers = ice_servers
        self.room: Room | None = None
        self.participant: Participant | None = None

    async def error(self, code: str, message: str) -> None:
        await self._send({"type": "error", "code": code, "message": message})

    async def handle_text(self, raw: str) -> None:
        """Handle one message; bad ones get an error event, refused joins close the socket."""
        if len(raw.encode()) > self._max:
            await self.error("message_too_large", f"messages are limited to {self._max} bytes")
            return
        try:
            msg = json.loads(raw)
        except ValueError:
            await self.error("malformed", "messages must be JSON objects")
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            await self.error("malformed", "messages must be JSON objects with a string 'type'")
            return
        try:
            await self._dispatch(msg)
        except SignallingError as exc:
            await self.error(exc.code, exc.message)

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "join":
            await self._join(msg)
        elif self.participant is None or self.room is None:
            raise SignallingError("not_joined", "send a join message with a room token first")
        elif kind == "offer":
            sdp = msg.get("sdp")
            if not isinstance(sdp, str) or not sdp.startswith("v=0"):
                raise SignallingError("bad_sdp", "an offer needs an SDP string starting with v=0")
            answer = await self._server.negotiate(self.room, self.participant, sdp)
            await self._send({"type": "answer", "sdp": answer})
        elif kind == "leave":
            raise Close(1000, "left")
        elif kind == "ping":
            await self._send({"type": "pong"})
        else:
            raise SignallingError("unknown_type", f"unknown message type {kind[:32]!r}")

    async def _join(self, msg: dict[str, Any]) -> None:
        if self.participant is not None:
            raise SignallingError("already_joined", "this socket has already joined")
        token = msg.get("token")
        if not isinstance(token, str) or not token:
            raise Close(4401, "a room token is required")
        try:
            claims = self._verify(token, self._session_id)
        except Exception as exc:  # InvalidRoomToken carries a reason safe to show
            await self.error("invalid_token", str(exc))
            raise Close(4401, str(exc)[:100]) from None
        if self._admit is not None:
            await self._admit(claims)
        try:
            room, participant, resumed = await self._server.join(
                self._session_id, claims.identity, claims.role, self._send, can_publish=claims.can_publish
            )
        except SignallingError as exc:
            await self.error(exc.code, exc.message)
            raise Close(4403, exc.message[:100]) from None
        self.room, self.participant = room, participant
        await self._send(
            {
                "type": "joined",
                "identity": claims.identity,
                "role": claims.role,
                "resumed": resumed,
                "ice_servers": [{"urls": u} for u in self._ice_servers],
            }
        )
        for event in list(room.current.values()):
            await self._send(event)

    async def closed(self) -> None:
        """The socket is gone: leave the room (a candidate keeps a grace period)."""
        if self.room is not None and self.participant is not None:
            await self._server.leave(self.room, self.participant)
