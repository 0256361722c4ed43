"""The interviewer's first words reach the candidate: on a real LiveKit server, the room's
interview waits (LiveKitRoomIO.wait_for_candidate) until its voice can be heard, so a greeting
spoken the moment it returns arrives whole."""

from __future__ import annotations

import asyncio
import secrets

from livekit import rtc

from api.tokens import TokenIssuer
from bench.livekit_client import FRAME_S, LiveKitCandidate
from bench.livekit_server import LiveKitServer
from greenroom.livekit_worker import is_candidate
from media.livekit_io import LiveKitRoomIO
from media.voice_track import SAMPLE_RATE as VOICE_SAMPLE_RATE
from tests.livekit.conftest import agent_token
from tests.media.test_livekit_io import speech

TONE_S = 1.0


def _tone(seconds: float) -> rtc.AudioFrame:
    pcm = speech(seconds)
    return rtc.AudioFrame(pcm, VOICE_SAMPLE_RATE, 1, len(pcm) // 2)


async def test_a_greeting_spoken_once_the_candidate_is_ready_arrives_whole(livekit_server: LiveKitServer) -> None:
    issuer = TokenIssuer(
        livekit_server.api_key, livekit_server.api_secret, 600, transport="livekit", server_url=livekit_server.ws_url
    )
    room_name = f"voice-ready-{secrets.token_hex(4)}"
    agent = rtc.Room()
    await agent.connect(
        livekit_server.ws_url,
        agent_token(livekit_server.api_key, livekit_server.api_secret, room_name),
        options=rtc.RoomOptions(auto_subscribe=False),
    )
    room_io = LiveKitRoomIO(agent, is_candidate=is_candidate)
    candidate: LiveKitCandidate | None = None
    try:
        assert not await room_io._sending(), "nothing is published yet, so nothing can be sent"
        await room_io.start()
        candidate = await LiveKitCandidate.join(livekit_server.ws_url, issuer.issue(room_name, "cand", "candidate"))
        await asyncio.wait_for(room_io.wait_for_candidate(), 30)
        assert await room_io._sending()

        out = room_io.audio_output(lambda _at: None)
        await out.capture_frame(_tone(TONE_S))
        out.flush()
        await candidate.voice.first_voice_after(0.0, timeout=10)
        await candidate.voice.quiet_for(0.5, timeout=10)
        heard_s = candidate.voice.voiced_frames * FRAME_S
        assert heard_s >= 0.9 * TONE_S, f"the candidate heard {heard_s:.2f} s of a {TONE_S:.1f} s greeting"
    finally:
        if candidate is not None:
            await candidate.aclose()
        await room_io.aclose()
        await agent.disconnect()
