"""livekit-agents I/O over the embedded room's aiortc tracks: candidate audio in, voice and captions out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit import rtc
from livekit.agents.utils import aio
from livekit.agents.voice import io

from media.voice_track import SAMPLE_RATE as VOICE_SAMPLE_RATE
from media.voice_track import SegmentFinished, SegmentStarted, VoiceTrack

logger = logging.getLogger(__name__)

INPUT_SAMPLE_RATE = 16000
# Candidate audio waits at most this long for the agent to take it, then the oldest is dropped.
INPUT_QUEUE_FRAMES = 25  # 25 x 20 ms = 500 ms


class TrackAudioInput(io.AudioInput):
    """The candidate's microphone as livekit frames (16 kHz mono); the source track can be swapped on rejoin."""

    def __init__(self) -> None:
        super().__init__(label="greenroom-candidate-audio")
        self._queue: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue(maxsize=INPUT_QUEUE_FRAMES)
        self._reader: asyncio.Task[None] | None = None
        self.dropped_frames = 0
        self.on_frame: Callable[[rtc.AudioFrame], None] | None = None

    def attach(self, track: MediaStreamTrack) -> None:
        """Read from a (new) candidate track, replacing any previous one."""
        if self._reader is not None:
            self._reader.cancel()
        self._reader = asyncio.create_task(self._read(track), name="candidate-audio-reader")

    async def detach(self) -> None:
        if self._reader is not None:
            await aio.cancel_and_wait(self._reader)
            self._reader = None

    async def _read(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=INPUT_SAMPLE_RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                pcm = bytes(out.planes[0])[: out.samples * 2]
                lk_frame = rtc.AudioFrame(
                    data=pcm,
                    sample_rate=INPUT_SAMPLE_RATE,
                    num_channels=1,
                    samples_per_channel=out.samples,
                )
                if self.on_frame is not None:
                    self.on_frame(lk_frame)
                if self._queue.full():
                    self._queue.get_nowait()
                    self.dropped_frames += 1
                self._queue.put_nowait(lk_frame)

    async def __anext__(self) -> rtc.AudioFrame:
        return await self._queue.get()


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


class CallbackTextOutput(io.TextOutput):
    """The interviewer's words as they are spoken, handed to a callback (live captions)."""

    def __init__(self, on_text: Callable[[str, bool], None]) -> None:
        super().__init__(label="greenroom-captions", next_in_chain=None)
        self._on_text = on_text

    async def capture_text(self, text: str) -> None:
        self._on_text(text, False)

    def flush(self) -> None:
        self._on_text("", True)
