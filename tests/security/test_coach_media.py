"""A coach (anyone holding a share link) may only receive: an offer to send media or open a data
channel is refused at negotiation, nothing of theirs is decoded, and pushing 640x480 video at the
server does not grow its memory (it grew about 7 MB/s, held after the coach left).

The whole app is served in this process; the coach is an aiortc client with a camera and a
microphone. Memory is this process's resident set, read from /proc.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from bench.rtc_client import Camera, Microphone, RoomClient
from tests.media.test_signalling import (  # noqa: F401  (fixtures used by name)
    Greenroom,
    StartGreenroom,
    start_greenroom,
    voice_models,
)
from tests.security.watching import coach_join, share

PUSH_S = 10.0
MAX_GROWTH_MB = 30.0
WIDTH, HEIGHT = 640, 480


def _rss_mb() -> float:
    """This process's resident memory, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _decoders() -> set[int]:
    """aiortc's decoder threads (one per receiving track) running in this process."""
    return {t.ident for t in threading.enumerate() if t.name.endswith("-decoder") and t.ident is not None}


def _camera() -> Camera:
    """640x480 frames that change every frame (a moving gradient), looped at 15 fps."""
    ramp = np.add.outer(np.arange(HEIGHT), np.arange(WIDTH))
    frames = [np.repeat(((ramp + 8 * i) % 256).astype(np.uint8)[:, :, None], 3, axis=2) for i in range(15)]
    return Camera(frames)


async def _coach(greenroom: Greenroom) -> tuple[str, dict[str, Any], RoomClient]:
    session_id = (await greenroom.new_session())["session"]["id"]
    join = await coach_join(greenroom, await share(greenroom, session_id))
    coach = await greenroom.connect(session_id)
    await coach.join(join["token"])
    return session_id, join, coach


async def _offer(coach: RoomClient, pc: RTCPeerConnection) -> dict[str, Any]:
    """Sends pc's offer; the server's reply, an answer or an error."""
    await pc.setLocalDescription(await pc.createOffer())
    seen = len(coach.events)
    await coach.send({"type": "offer", "sdp": pc.localDescription.sdp})
    async with asyncio.timeout(10):
        while True:
            for event in coach.events[seen:]:
                if event["type"] in ("answer", "error"):
                    return event
            await asyncio.sleep(0.05)


async def test_a_coach_offering_to_send_is_refused_at_negotiation(start_greenroom: StartGreenroom) -> None:
    greenroom = await start_greenroom(signals_enabled=False)
    decoders_before = _decoders()
    session_id, join, coach = await _coach(greenroom)

    publishing = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    publishing.addTrack(Microphone())
    publishing.addTrack(_camera())
    refused = await _offer(coach, publishing)
    await publishing.close()
    assert refused["type"] == "error" and refused["code"] == "receive_only", refused

    chatting = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    chatting.addTransceiver("audio", direction="recvonly")
    chatting.createDataChannel("chat")
    refused = await _offer(coach, chatting)
    await chatting.close()
    assert refused["type"] == "error" and refused["code"] == "receive_only", refused

    room = greenroom.app.state.rooms.room(session_id)
    assert room.participants[join["identity"]].pc is None
    assert room.candidate_tracks == {}
    assert not _decoders() - decoders_before  # no decoder started for the coach

    # The same socket may still watch: a receive-only offer is answered, and the server's side
    # of it only sends (aiortc starts a receiver, and its decoder, only for recvonly/sendrecv).
    await coach.publish(None)
    assert coach.pc is not None and coach.pc.connectionState == "connected"
    server_pc = room.participants[join["identity"]].pc
    assert {t.currentDirection for t in server_pc.getTransceivers()} <= {"sendonly", "inactive"}
    assert room.candidate_tracks == {}


async def test_a_coach_pushing_video_does_not_grow_server_memory(start_greenroom: StartGreenroom) -> None:
    greenroom = await start_greenroom(signals_enabled=False)
    _, _, coach = await _coach(greenroom)
    gc.collect()
    before_mb = _rss_mb()

    # For PUSH_S seconds, the coach offers a 640x480 camera and a microphone again and again;
    # whenever the server answers, it streams for the rest of the time.
    camera = _camera()
    deadline = time.monotonic() + PUSH_S
    answered = 0
    while time.monotonic() < deadline:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(camera)
        pc.addTrack(Microphone())
        reply = await _offer(coach, pc)
        if reply["type"] == "answer":
            answered += 1
            await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
            coach.pc = pc  # closed with the client
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            break
        await pc.close()
        await asyncio.sleep(1.0)

    await coach.close()
    await asyncio.sleep(1.0)
    gc.collect()
    growth_mb = _rss_mb() - before_mb
    print(f"coach pushed {camera.frames_sent} frames of {WIDTH}x{HEIGHT} in {PUSH_S:g} s "
          f"(answered {answered} times): server memory grew {growth_mb:.1f} MB")
    assert growth_mb < MAX_GROWTH_MB, f"memory grew {growth_mb:.1f} MB ({camera.frames_sent} frames pushed)"
    assert answered == 0, "the server answered an offer to send"
