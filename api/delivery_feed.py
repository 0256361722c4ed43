"""The live signals feed: `/v1/sessions/{session_id}/signals/live` (token-protected WebSocket)."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.watch_access import ACCESS_ENDED_CLOSE, AccessEnded, WatchAccess, access_ended

router = APIRouter(tags=["signals"])

AUTH_TIMEOUT_S = 10.0
MAX_AUTH_BYTES = 16_384
# After auth a subscriber has nothing to say; a message larger than this ends its feed.
MAX_MESSAGE_BYTES = 1024
TOO_LARGE_CLOSE = 1009
AUTH_FIRST = 'the first message must be {"type": "auth", "token": <room token>}'


@router.websocket("/v1/sessions/{session_id}/signals/live")
async def live_signals(websocket: WebSocket, session_id: str) -> None:
    """After `{"type": "auth", "token": <room token>}`: summaries a few times a second, and nudges.

    The feed lasts while the token's access does (a coach's share link, the session, the account).
    """
    app = websocket.app
    await websocket.accept()
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
        try:
            msg = json.loads(raw) if len(raw) <= MAX_AUTH_BYTES else None
        except ValueError:
            msg = None
        if not isinstance(msg, dict) or msg.get("type") != "auth" or not isinstance(msg.get("token"), str):
            raise ValueError(AUTH_FIRST)
        claims = app.state.tokens.verify(msg["token"], session_id)
    except (TimeoutError, ValueError, WebSocketDisconnect) as exc:
        reason = "authentication timed out" if isinstance(exc, TimeoutError) else str(exc)[:120]
        if not isinstance(exc, WebSocketDisconnect):
            await websocket.send_json({"type": "error", "code": "invalid_token", "message": reason})
            await websocket.close(code=4401, reason=reason[:100])
        return
    except Exception as exc:  # InvalidRoomToken: its reason is safe to show
        await websocket.send_json({"type": "error", "code": "invalid_token", "message": str(exc)})
        await websocket.close(code=4401, reason=str(exc)[:100])
        return

    feeds = app.state.feeds
    access: WatchAccess = app.state.watch_access
    queue = feeds.subscribe(session_id)

    async def end_access(reason: str) -> None:
        feeds.tell(queue, access_ended(reason))  # sent, then the feed closes, below

    try:
        watcher = await access.watch(claims, end_access)
    except AccessEnded as ended:
        feeds.unsubscribe(session_id, queue)
        await websocket.send_json(access_ended(ended.reason))
        await websocket.close(code=ACCESS_ENDED_CLOSE, reason=ended.reason)
        return
    except BaseException:
        feeds.unsubscribe(session_id, queue)
        raise
    await websocket.send_json({"type": "subscribed", "session_id": session_id})

    async def watch_client() -> None:
        """Reads until the client goes; nothing it sends is kept, and a large message ends the feed."""
        while (message := await websocket.receive())["type"] != "websocket.disconnect":
            if len(message.get("text") or message.get("bytes") or "") > MAX_MESSAGE_BYTES:
                await websocket.close(code=TOO_LARGE_CLOSE, reason="messages after auth are limited")
                return

    client = asyncio.create_task(watch_client())
    try:
        while not client.done():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, client}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            event = getter.result()
            await websocket.send_json(event)
            if event.get("type") == "access_ended":
                await websocket.close(code=ACCESS_ENDED_CLOSE, reason=event["reason"])
                break
            if event.get("type") == "ended":
                await websocket.close()
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        access.forget(watcher)
        feeds.unsubscribe(session_id, queue)
        client.cancel()
