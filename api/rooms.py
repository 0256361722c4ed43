"""The room signalling WebSocket: `/v1/rooms/{session_id}/signal`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from media.signalling import Close, SignallingSession

logger = logging.getLogger(__name__)

router = APIRouter(tags=["rooms"])


@router.websocket("/v1/rooms/{session_id}/signal")
async def signal(websocket: WebSocket, session_id: str) -> None:
    """Join a session's room with a room token, then exchange SDP and receive room events."""
    app = websocket.app
    settings = app.state.settings
    await websocket.accept()

    async def send(event: dict[str, Any]) -> None:
        await websocket.send_json(event)

    session = SignallingSession(
        app.state.rooms,
        session_id,
        verify=app.state.tokens.verify,
        send=send,
        max_message_bytes=settings.max_signal_message_bytes,
        ice_servers=settings.ice_servers,
    )
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is None:
                await session.error("malformed", "binary messages are not accepted")
                continue
            await session.handle_text(message["text"])
    except Close as close:
        await websocket.close(code=close.code, reason=close.reason)
    except WebSocketDisconnect:
        pass
    finally:
        await session.closed()
