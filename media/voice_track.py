"""The interviewer's outbound audio track: queued speech paced out in 20 ms frames, else silence.

aiortc reads it as a track (`recv()`, paced here in real time); a sink that paces itself (a
LiveKit AudioSource, media/livekit_io.py) takes the speech unpaced with `next_speech()`.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2  # s16 mono
# The agent may run ahead of playback by this much before capture waits (bounded buffer).
MAX_BUFFERED_S = 30.0


@dataclass(frozen=True, slots=True)
class SegmentStarted:
    """The first frame of an utterance left the server."""

    segment_id: int
    at: float  # wall clock (time.time())


@dataclass(frozen=True, slots=True)
class SegmentFinished:
    """An utterance finished playing, or was cut short by a barge-in."""

    segment_id: int
    played_s: float
    interrupted: bool


@dataclass(eq=False, slots=True)
class _Segment:
    """One utterance's queued audio; `open` while the agent may still add to it."""

    id: int
    audio: bytearray
    open: bool = True
    played_bytes: int = 0
    started: bool = False


class VoiceTrack(MediaStreamTrack):
    """An audio track fed with 48 kHz mono s16 PCM by the agent, paced in real time."""

    kind = "audio"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._segments: deque[_Segment] = deque()
        self._next_id = 1
        self._space = asyncio.Event()
        self._space.set()
        self._arrived = asyncio.Event()  # speech was queued (next_speech waits on it)
        self._on_started: Callable[[SegmentStarted], None] | None = None
        self._on_finished: Callable[[SegmentFinished], None] | None = None
        self._clock = clock
        self._start: float | None = None
        self._timestamp = 0
        # Called with each 20 ms of speech as it is sent (the agent's echo check listens).
        self.on_sent: Callable[[bytes], None] | None = None

    def set_listeners(
        self,
        *,
        on_started: Callable[[SegmentStarted], None],
        on_finished: Callable[[SegmentFinished], None],
    ) -> None:
        self._on_started, self._on_finished = on_started, on_finished

    @property
    def buffered_s(self) -> float:
        return sum(len(seg.audio) for seg in self._segments) / 2 / SAMPLE_RATE

    async def push(self, pcm: bytes) -> None:
        """Queue speech audio; waits while more than MAX_BUFFERED_S is queued."""
        while self.buffered_s > MAX_BUFFERED_S:
            self._space.clear()
            await self._space.wait()
        if not self._segments or not self._segments[-1].open:
            self._segments.append(_Segment(self._next_id, bytearray()))
            self._next_id += 1
        self._segments[-1].audio.extend(pcm)
        self._arrived.set()

    def end_segment(self) -> None:
        """No more audio will come for the current utterance."""
        if self._segments and self._segments[-1].open:
            tail = self._segments[-1]
            tail.open = False
            if not tail.audio and tail is self._segments[0]:
                self._segments.popleft()
                self._finish(tail, interrupted=False)

    def clear(self) -> None:
        """Drop queued speech at once (barge-in)."""
        dropped, self._segments = list(self._segments), deque()
        self._space.set()
        for seg in dropped:
            self._finish(seg, interrupted=True)

    def _finish(self, seg: _Segment, *, interrupted: bool) -> None:
        if self._on_finished:
            self._on_finished(SegmentFinished(seg.id, seg.played_bytes / 2 / SAMPLE_RATE, interrupted))

    def _take_frame(self) -> bytes:
        """The next 20 ms of speech (short or empty when none is queued); fires segment events."""
        while self._segments:
            seg = self._segments[0]
            if seg.audio:
                chunk = bytes(seg.audio[:FRAME_BYTES])
                del seg.audio[:FRAME_BYTES]
                if not seg.started:
                    seg.started = True
                    if self._on_started:
                        self._on_started(SegmentStarted(seg.id, self._clock()))
                seg.played_bytes += len(chunk)
                if not seg.audio and not seg.open:
                    self._segments.popleft()
                    self._finish(seg, interrupted=False)
                if self.buffered_s <= MAX_BUFFERED_S:
                    self._space.set()
                return chunk
            if seg.open:
                return b""  # the agent is still producing this utterance
            self._segments.popleft()
            self._finish(seg, interrupted=False)
        return b""

    async def next_speech(self) -> bytes:
        """The next 20 ms of speech (or the short end of an utterance), as soon as there is
        some, unpaced: for a sink that paces playback itself. Fires the segment events and
        `on_sent` as recv() does; never returns silence."""
        while True:
            chunk = self._take_frame()
            if chunk:
                if self.on_sent is not None:
                    self.on_sent(chunk)
                return chunk
            self._arrived.clear()
            await self._arrived.wait()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            self._timestamp += FRAME_SAMPLES
            wait = self._start + self._timestamp / SAMPLE_RATE - now
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.2:
                # The consumer fell behind (e.g. a reconnect): move the clock, don't burst;
                # pts keep increasing so RTP timestamps never run backwards.
                self._start = now - self._timestamp / SAMPLE_RATE

        chunk = self._take_frame()
        if chunk and self.on_sent is not None:
            self.on_sent(chunk)
        if len(chunk) < FRAME_BYTES:
            chunk += bytes(FRAME_BYTES - len(chunk))
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(chunk)
        frame.pts = self._timestamp
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        return frame
