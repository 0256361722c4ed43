"""A Python participant for Greenroom rooms on a LiveKit server (livekit.rtc), for tests and benches.

The LiveKit counterpart of bench/rtc_client.py: it joins with a room token, publishes a scripted
microphone (speech made with espeak-ng, silence in between) and optionally a camera playing
synthetic frames, listens to the interviewer's voice (noting when it is voiced), and reads the
room's events (data messages on topic "greenroom.events").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from livekit import rtc

from bench.rtc_client import Speech, SpeechQueue, VoiceLevels, deadline

SAMPLE_RATE = 48000
FRAME_SAMPLES = 480  # 10 ms
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
CAMERA_FPS = 15
EVENTS_TOPIC = "greenroom.events"


class LiveKitMicrophone:
    """Queued speech, else silence, captured into an AudioSource in real time (10 ms frames)."""

    def __init__(self) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=100)
        self._speech = SpeechQueue()
        self._task = asyncio.create_task(self._run(), name="livekit-microphone")

    def say(self, speech: Speech) -> asyncio.Future[float]:
        """Queue speech; the future gives the monotonic time its last sample was captured."""
        return self._speech.say(speech)

    async def _run(self) -> None:
        while True:
            out = self._speech.take(FRAME_SAMPLES, lambda _filled: time.monotonic())
            await self.source.capture_frame(rtc.AudioFrame(out.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES))

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.source.aclose()


class LiveKitCamera:
    """RGB frames played in a loop into a VideoSource at a steady frame rate."""

    def __init__(self, frames: Sequence[np.ndarray], *, fps: int = CAMERA_FPS) -> None:
        if len(frames) == 0:
            raise ValueError("a camera needs at least one frame")
        height, width = frames[0].shape[:2]
        self.source = rtc.VideoSource(width, height)
        self._frames = [
            rtc.VideoFrame(width, height, rtc.VideoBufferType.RGB24, np.ascontiguousarray(f).tobytes()).convert(
                rtc.VideoBufferType.I420
            )
            for f in frames
        ]
        self._fps = fps
        self.frames_sent = 0
        self._task = asyncio.create_task(self._run(), name="livekit-camera")

    async def _run(self) -> None:
        started = time.monotonic()
        while True:
            self.source.capture_frame(self._frames[self.frames_sent % len(self._frames)])
            self.frames_sent += 1
            wait = started + self.frames_sent / self._fps - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class LiveKitVoiceListener(VoiceLevels):
    """Reads the interviewer's LiveKit track (10 ms frames) into its levels."""

    def __init__(self) -> None:
        super().__init__(FRAME_S)
        self._task: asyncio.Task[None] | None = None

    def listen(self, track: rtc.Track) -> None:
        """Reads a (new) interviewer track, replacing any previous one."""
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.create_task(self._read(track), name="livekit-voice-listener")

    async def _read(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1, frame_size_ms=10)
        try:
            async for event in stream:
                pcm = np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float32)
                self.note(float(np.sqrt(np.mean(pcm * pcm))) if pcm.size else 0.0, time.monotonic())
        finally:
            await stream.aclose()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class LiveKitCandidate:
    """A candidate in a LiveKit room: microphone (and camera), the interviewer's voice, the room's events."""

    def __init__(self) -> None:
        self.room = rtc.Room()
        self.voice = LiveKitVoiceListener()
        self.events: list[dict[str, Any]] = []
        self._seen = 0  # events handed out by next_event
        self.handed_at = time.monotonic()  # when next_event last handed one out
        self._event_added = asyncio.Event()
        self.microphone: LiveKitMicrophone | None = None
        self.camera: LiveKitCamera | None = None
        self.room.on("data_received", self._on_data)
        self.room.on("track_subscribed", self._on_track)

    @classmethod
    async def join(cls, url: str, token: str, *, camera_frames: Sequence[np.ndarray] | None = None) -> LiveKitCandidate:
        """Connects, then publishes a microphone (and a camera, given frames)."""
        candidate = cls()
        await candidate.room.connect(url, token)
        for participant in candidate.room.remote_participants.values():
            for publication in participant.track_publications.values():
                if publication.track is not None:
                    candidate._on_track(publication.track, publication, participant)
        candidate.microphone = LiveKitMicrophone()
        await candidate.room.local_participant.publish_track(
            rtc.LocalAudioTrack.create_audio_track("microphone", candidate.microphone.source),
            rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE),
        )
        if camera_frames is not None:
            candidate.camera = LiveKitCamera(camera_frames)
            await candidate.room.local_participant.publish_track(
                rtc.LocalVideoTrack.create_video_track("camera", candidate.camera.source),
                rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA),
            )
        return candidate

    def _on_track(self, track: rtc.Track, _publication: rtc.TrackPublication, participant: rtc.RemoteParticipant) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            self.voice.listen(track)

    def _on_data(self, packet: rtc.DataPacket) -> None:
        if packet.topic != EVENTS_TOPIC:
            return
        try:
            event = json.loads(packet.data)
        except ValueError:
            return
        if isinstance(event, dict):
            self.events.append(event)
            self._event_added.set()

    async def next_event(self, event_type: str | tuple[str, ...], timeout: float) -> dict[str, Any]:
        """The next event of the type (or one of the types) not handed out before; events of
        other types before it are skipped (all stay in `events`)."""
        wanted = (event_type,) if isinstance(event_type, str) else event_type
        async with deadline(timeout, f"no {' or '.join(wanted)} event within {timeout:.0f} s"):
            while True:
                while self._seen < len(self.events):
                    event = self.events[self._seen]
                    self._seen += 1
                    if event.get("type") in wanted:
                        self.handed_at = time.monotonic()
                        return event
                self._event_added.clear()
                await self._event_added.wait()

    async def say(self, speech: Speech) -> None:
        assert self.microphone is not None
        await asyncio.wait_for(self.microphone.say(speech), timeout=speech.duration_s + 10)

    async def aclose(self) -> None:
        await self.voice.aclose()
        if self.microphone is not None:
            await self.microphone.aclose()
        if self.camera is not None:
            await self.camera.aclose()
        await self.room.disconnect()
