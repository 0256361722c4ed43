"""Reads the candidate's video track and turns sampled frames into FaceSamples, off the event loop.

The receive loop does no pixel work: it counts each frame, decides whether a sample is due (at
`sample_fps`, by the injected clock) and, if the single worker thread is free, hands it the
frame; colour conversion, downscaling and analysis all run in that thread. Nothing queues: the
frame being analysed is the only one held, and a sample that falls due while the worker is busy
is dropped and counted, so the next one analysed is always a fresh frame.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import time
from collections.abc import Callable

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from media.face import FaceAnalyser, FaceSample
from agent.priority import background_executor

logger = logging.getLogger(__name__)

MAX_ANALYSIS_WIDTH = 640  # wider frames are scaled down (aspect kept) before analysis


def frame_to_rgb(frame: VideoFrame, max_width: int = MAX_ANALYSIS_WIDTH) -> np.ndarray:
    """The frame as an RGB uint8 array, no wider than max_width."""
    if frame.width > max_width:
        height = max(2, round(frame.height * max_width / frame.width / 2) * 2)
        return frame.reformat(width=max_width, height=height, format="rgb24").to_ndarray()
    return frame.to_ndarray(format="rgb24")


class FaceConsumer:
    """Samples one video track at a set rate and analyses each sample in one worker thread."""

    def __init__(
        self,
        track: MediaStreamTrack,
        analyser: FaceAnalyser,
        *,
        sample_fps: float,
        on_sample: Callable[[FaceSample], None],
        clock: Callable[[], float] = time.monotonic,
        max_width: int = MAX_ANALYSIS_WIDTH,
    ) -> None:
        if sample_fps <= 0:
            raise ValueError("sample_fps must be positive")
        self._track = track
        self._analyser = analyser
        self._period_s = 1.0 / sample_fps
        self._on_sample = on_sample
        self._clock = clock
        self._max_width = max_width
        self._next_due: float | None = None
        self._job: concurrent.futures.Future[FaceSample] | None = None
        self._delivered: asyncio.Future[None] | None = None  # the job's sample was handed on
        self.frames_received = 0
        self.frames_sampled = 0  # frames at which a sample was due
        self.frames_analysed = 0
        self.frames_dropped = 0  # due, but the worker was still busy with the previous sample
        self.frames_failed = 0  # the analysis raised

    @property
    def busy(self) -> bool:
        """Whether the worker is analysing a frame now."""
        return self._job is not None and not self._job.done()

    async def run(self) -> None:
        """Consume the track until it ends (MediaStreamError) or this task is cancelled."""
        loop = asyncio.get_running_loop()
        worker = background_executor("face")
        try:
            while True:
                try:
                    frame = await self._track.recv()
                except MediaStreamError:
                    return
                self.frames_received += 1
                now = self._clock()
                if not self._due(now):
                    continue
                self.frames_sampled += 1
                if self.busy:
                    self.frames_dropped += 1
                    continue
                self._delivered = loop.create_future()
                self._job = worker.submit(self._analyse, frame, now)
                self._job.add_done_callback(
                    functools.partial(self._on_done, loop, self._delivered)
                )
        finally:
            # Let the analysis in flight finish (one frame, ~15 ms): when this returns, the
            # analyser is free and every sample taken has been delivered.
            if self._delivered is not None and not self._delivered.done():
                await asyncio.wait([self._delivered])
            worker.shutdown(wait=False)

    def _due(self, now: float) -> bool:
        """Whether a frame received at `now` should be sampled; advances the schedule if so."""
        if self._next_due is None or now >= self._next_due:
            previous = self._next_due
            self._next_due = (previous if previous is not None else now) + self._period_s
            if self._next_due <= now:  # fell behind (a gap in the video): restart the schedule
                self._next_due = now + self._period_s
            return True
        return False

    def _analyse(self, frame: VideoFrame, t: float) -> FaceSample:
        """Worker thread: convert, downscale and analyse one frame."""
        rgb = frame_to_rgb(frame, self._max_width)
        return self._analyser.analyse(rgb, round(t * 1000), t)

    def _on_done(
        self,
        loop: asyncio.AbstractEventLoop,
        delivered: asyncio.Future[None],
        job: concurrent.futures.Future[FaceSample],
    ) -> None:
        """Worker thread (or loop, if already done): schedule delivery on the event loop."""
        loop.call_soon_threadsafe(self._deliver, job, delivered)

    def _deliver(
        self, job: concurrent.futures.Future[FaceSample], delivered: asyncio.Future[None]
    ) -> None:
        """Event loop: hand a finished sample on, or count the failure."""
        try:
            exc = job.exception()
            if exc is not None:
                self.frames_failed += 1
                # The exception's text stays out of the log: it could describe the frame.
                logger.warning("face analysis failed", extra={"error_type": type(exc).__name__})
                return
            self.frames_analysed += 1
            self._on_sample(job.result())
        finally:
            if not delivered.done():
                delivered.set_result(None)
