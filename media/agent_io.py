"""livekit-agents I/O over the embedded room's aiortc tracks: candidate audio in, the interviewer's voice out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit import rtc
from livekit.agents.utils import aio
from livekit.agents.voice import io

from agent.events import WireEvent
from media.room_server import Room
from media.voice_track import SAMPLE_RATE as VOICE_SAMPLE_RATE
from media.voice_track import SegmentFinished, SegmentStarted, VoiceTrack

logger = logging.getLogger(__name__)

INPUT_SAMPLE_RATE = 16000
# Candidate audio waits at most this long for the agent to take it, then the oldest is dropped.
INPUT_QUEUE_FRAMES = 25  # 25 x 20 ms = 500 ms


class QueuedAudioInput(io.AudioInput):
    """The candidate's microphone as livekit frames (16 kHz mono) through a bounded queue, read
    from one source at a time by a reader task; subclasses say how a source is read."""

    def __init__(self, label: str = "greenroom-candidate-audio") -> None:
        super().__init__(label=label)
        self._queue: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue(maxsize=INPUT_QUEUE_FRAMES)
        self._reader: asyncio.Task[None] | None = None
        self.dropped_frames = 0
        self.on_frame: Callable[[rtc.AudioFrame], None] | None = None

    def _read_from(self, reading: Coroutine[Any, Any, None], name: str) -> None:
        """Reads from a (new) source, replacing any previous one."""
        if self._reader is not None:
            self._reader.cancel()
        self._reader = asyncio.create_task(reading, name=name)

    async def detach(self) -> None:
        if self._reader is not None:
            await aio.cancel_and_wait(self._reader)
            self._reader = None

    def _deliver(self, frame: rtc.AudioFrame) -> None:
        """Hands a 16 kHz mono frame to the tap and the agent; a full queue loses its oldest."""
        if self.on_frame is not None:
            self.on_frame(frame)
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped_frames += 1
        self._queue.put_nowait(frame)

    async def __anext__(self) -> rtc.AudioFrame:
        return await self._queue.get()


class TrackAudioInput(QueuedAudioInput):
    """The candidate's microphone from an aiortc track; the source track can be swapped on rejoin."""

    def attach(self, track: MediaStreamTrack) -> None:
        """Read from a (new) candidate track, replacing any previous one."""
        self._read_from(self._read(track), "candidate-audio-reader")

    async def _read(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=INPUT_SAMPLE_RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                pcm = bytes(out.planes[0])[: out.samples * 2]
                self._deliver(
                    rtc.AudioFrame(
                        data=pcm,
                        sample_rate=INPUT_SAMPLE_RATE,
                        num_channels=1,
                        samples_per_channel=out.samples,
                    )
                )


class VoiceTrackOutput(io.AudioOutput):
    """The agent's speech into the room's VoiceTrack; barge-in clears it at once."""

    def __init__(
        self,
        track: VoiceTrack,
        *,
        on_segment_started: Callable[[SegmentStarted], None] | None = None,
    ) -> None:
        super().__init__(
            label="greenroom-voice",
            capabilities=io.AudioOutputCapabilities(pause=False),
            sample_rate=VOICE_SAMPLE_RATE,
        )
        self._track = track
        self._on_segment_started = on_segment_started
        track.set_listeners(on_started=self._started, on_finished=self._finished)

    def _started(self, ev: SegmentStarted) -> None:
        self.on_playback_started(created_at=ev.at)
        if self._on_segment_started is not None:
            self._on_segment_started(ev)

    def _finished(self, ev: SegmentFinished) -> None:
        self.on_playback_finished(playback_position=ev.played_s, interrupted=ev.interrupted)

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if frame.num_channels != 1 or frame.sample_rate != VOICE_SAMPLE_RATE:
            raise ValueError("the voice track takes 48 kHz mono frames")
        await super().capture_frame(frame)
        await self._track.push(bytes(frame.data))

    def flush(self) -> None:
        super().flush()
        self._track.end_segment()

    def clear_buffer(self) -> None:
        self._track.clear()


class EmbeddedRoomIO:
    """An embedded room as an interviewer sees it (agent.interview_io.InterviewRoom): the
    candidate's audio in, the room's voice track out, events to everyone in the room."""

    def __init__(self, room: Room) -> None:
        self._room = room
        self._audio_input = TrackAudioInput()

    @property
    def audio_input(self) -> TrackAudioInput:
        return self._audio_input

    def attach_audio(self, track: MediaStreamTrack) -> None:
        """Read the candidate's audio from a (new) track, replacing any previous one."""
        self._audio_input.attach(track)

    def audio_output(self, on_reply_audio: Callable[[float], None]) -> VoiceTrackOutput:
        return VoiceTrackOutput(self._room.voice, on_segment_started=lambda ev: on_reply_audio(ev.at))

    def listen(self, *, heard: Callable[[bytes, int], None], said: Callable[[bytes, int], None]) -> None:
        self._audio_input.on_frame = lambda f: heard(bytes(f.data), INPUT_SAMPLE_RATE)
        self._room.voice.on_sent = lambda pcm: said(pcm, VOICE_SAMPLE_RATE)

    def silence(self) -> None:
        self._room.voice.clear()

    async def broadcast(self, event: WireEvent) -> None:
        await self._room.broadcast(event.to_wire())

    async def aclose(self) -> None:
        await self._audio_input.detach()
