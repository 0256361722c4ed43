"""A coach for the security tests: joins through a share link, watches the room receive-only
(as the watch page does: two voices and the candidate's camera), and follows the live feed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from bench.rtc_client import RoomClient
from tests.media.test_signalling import Greenroom

async def share(greenroom: Greenroom, session_id: str) -> str:
    """The owner shares the session; returns the share token."""
    response = await greenroom.http.post(f"/v1/sessions/{session_id}/share")
    assert response.status_code == 201, response.text
    return response.json()["token"]


async def coach_join(greenroom: Greenroom, share_token: str) -> dict[str, Any]:
    """What the watch page gets from the share link: a coach's room join."""
    async with httpx.AsyncClient(base_url=greenroom.base_url, timeout=15) as anonymous:
        response = await anonymous.post(f"/v1/shared/{share_token}/watch")
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Coach:
    """A coach's room socket, receive-only peer connection and live feed."""

    room: RoomClient
    feed: websockets.ClientConnection
    frames: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    tracks: int = 0
    feed_events: list[dict[str, Any]] = field(default_factory=list)

    async def watch(self, *, timeout: float = 15.0) -> None:
        """Offers to receive two voices and a camera, as the watch page does; waits to connect."""
        pc = self.room.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        for kind in ("audio", "audio", "video"):
            pc.addTransceiver(kind, direction="recvonly")
        pc.on("track", self._count)
        await pc.setLocalDescription(await pc.createOffer())
        await self.room.send({"type": "offer", "sdp": pc.localDescription.sdp})
        answer = await self.room.next_event("answer", timeout=timeout)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        async with asyncio.timeout(timeout):
            while pc.connectionState != "connected":
                await asyncio.sleep(0.05)

    def _count(self, track: MediaStreamTrack) -> None:
        self.tracks += 1

        async def read() -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()
                    self.frames[track.kind] += 1

        asyncio.ensure_future(read())

    async def receives(self, kind: str, frames: int, *, timeout: float = 15.0) -> None:
        """Waits until this many frames of the kind have arrived (a fact, not a speed)."""
        try:
            async with asyncio.timeout(timeout):
                while self.frames[kind] < frames:
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(
                f"{self.frames[kind]} {kind} frames reached the coach within {timeout:.0f} s, wanted {frames}"
            ) from None

    async def feed_closed(self, *, timeout: float = 10.0) -> tuple[int | None, list[dict[str, Any]]]:
        """Reads the feed until the server closes it: (close code, events read)."""
        async with asyncio.timeout(timeout):
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in self.feed:
                    self.feed_events.append(json.loads(raw))
        return self.feed.close_code, self.feed_events

    async def close(self) -> None:
        await self.room.close()
        await self.feed.close()


async def open_feed(greenroom: Greenroom, session_id: str, token: str) -> tuple[websockets.ClientConnection, dict]:
    """The live signals feed, authenticated with a room token; returns it and its first reply."""
    url = greenroom.base_url.replace("http://", "ws://", 1) + f"/v1/sessions/{session_id}/signals/live"
    feed = await websockets.connect(url)
    await feed.send(json.dumps({"type": "auth", "token": token}))
    return feed, json.loads(await asyncio.wait_for(feed.recv(), 10))


async def watching_coach(greenroom: Greenroom, session_id: str, join: dict[str, Any]) -> Coach:
    """A coach in the room, receiving media, and subscribed to the live feed."""
    room = await greenroom.connect(session_id)
    await room.join(join["token"])
    feed, first = await open_feed(greenroom, session_id, join["token"])
    assert first == {"type": "subscribed", "session_id": session_id}
    coach = Coach(room, feed)
    await coach.watch()
    return coach


async def both_ended(coach: Coach, *, timeout: float = 5.0) -> dict[str, Any]:
    """Waits for the room socket and the feed to be closed; what each got and when (monotonic)."""

    async def room() -> tuple[float, Any]:
        code_reason = await coach.room.wait_closed(timeout=timeout)
        return time.monotonic(), code_reason

    async def feed() -> tuple[float, Any]:
        code, events = await coach.feed_closed(timeout=timeout)
        return time.monotonic(), (code, events)

    (room_at, (room_code, room_reason)), (feed_at, (feed_code, feed_events)) = await asyncio.gather(room(), feed())
    return {
        "room_at": room_at,
        "room_close": (room_code, room_reason),
        "room_events": [e for e in coach.room.events if e["type"] == "access_ended"],
        "feed_at": feed_at,
        "feed_close": feed_code,
        "feed_events": [e for e in feed_events if e["type"] == "access_ended"],
    }
