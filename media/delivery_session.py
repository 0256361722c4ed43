"""One candidate's delivery signals, computed beside the interview and never in its way.

Face samples (MediaPipe, at a set rate), prosody windows (Praat pitch, loudness) and
transcript signals (pace, pauses, fillers, response latency) become rows for the
DeliveryStore, a live summary a few times a second, and nudges for the candidate.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit.agents.utils import aio

from agent.events import CandidateNudged, SignalSummary
from agent.priority import background_executor
from agent.stt_whisper import RecognizedUtterance, Transcript, Word
from db.delivery_store import DeliveryStore
from db.delivery import FaceSampleRow, ProsodyWindowRow, SessionDeliveryStats, SpeechEventRow
from media.face import FaceAnalyser, FaceSample
from media.face_consumer import FaceConsumer
from media.filler_pass import FillerPass
from media.nudges import Nudge, NudgeRules
from media.prosody import ProsodyAnalyser, ProsodyWindow
from media.speech_signals import Filler, Hedge, Pace, Pause, ResponseLatency, SpeechEvent, SpeechSignals

logger = logging.getLogger(__name__)

PROSODY_RATE = 16000
# Candidate audio waiting for the prosody worker, in 20 ms frames; beyond it the oldest go.
PROSODY_QUEUE_FRAMES = 250
SUMMARY_INTERVAL_S = 0.25
# At the end of a session, the utterances waiting for the filler-aware pass are heard this long
# at most; any left then keep their live words.
FILLER_PASS_DRAIN_S = 10.0


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


class DeliveryConsumer:
    """Consumes one candidate's tracks and transcript; writes rows, feeds the live view, nudges."""

    def __init__(
        self,
        session_id: uuid.UUID,
        *,
        store: DeliveryStore,
        publish: Callable[[CandidateNudged | SignalSummary], None],
        rules: NudgeRules,
        face_model_path: Path | None,
        face_sample_fps: float,
        prosody_window_ms: int,
        transcriber: Callable[[np.ndarray], Awaitable[Transcript]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        origin_wall: float | None = None,
    ) -> None:
        """`origin_wall` is the wall time of t_ms = 0: the session's start when a restarted
        server resumes it, so the new rows carry on after the stored ones; by default, now."""
        self.session_id = session_id
        self._store = store
        self._publish = publish
        self._rules = rules
        self._face_model_path = face_model_path
        self._face_fps = face_sample_fps
        self._window_ms = prosody_window_ms
        self._clock = clock
        self._wall = wall_clock
        now_wall = wall_clock()
        self._origin_wall = now_wall if origin_wall is None else min(origin_wall, now_wall)
        self._origin = clock() - (now_wall - self._origin_wall)
        self.origin_wall = self._origin_wall  # wall time of t_ms = 0
        self._speech = SpeechSignals(prosody_window_ms=prosody_window_ms)
        # Whisper prompted to keep fillers, run at background priority: the conversation's
        # own transcript is made without the prompt, which would slow every turn.
        self._fillers = (
            None
            if transcriber is None
            else FillerPass(
                transcriber, take=self._take_utterance, question_end=self._speech.on_question_end, wall_clock=wall_clock
            )
        )
        self._face_task: asyncio.Task[None] | None = None
        self._face_consumer: FaceConsumer | None = None
        self._face_analyser: FaceAnalyser | None = None
        self._audio_task: asyncio.Task[None] | None = None
        self._ticker = asyncio.create_task(self._tick(), name="signals-summary")
        self._latest: dict[str, Any] = {}
        self.frames_received = self.frames_analysed = self.frames_dropped = 0
        self.audio_windows = 0
        self.audio_frames_dropped = 0

    def _t_ms(self, monotonic_t: float) -> int:
        return max(0, int((monotonic_t - self._origin) * 1000))

    def _wall_t_ms(self, wall_t: float) -> int:
        return max(0, int((wall_t - self._origin_wall) * 1000))

    # -- face ---------------------------------------------------------------

    async def attach_video(self, track: MediaStreamTrack) -> None:
        """Analyse a (new) candidate video track; the analyser keeps its state across rejoins."""
        await self._stop_face()
        if self._face_analyser is None:
            # Built on a background-priority thread: MediaPipe's own threads inherit it.
            with background_executor("face-init") as pool:
                loop = asyncio.get_running_loop()
                self._face_analyser = await loop.run_in_executor(pool, FaceAnalyser, self._face_model_path)
        self._face_consumer = FaceConsumer(
            track,
            self._face_analyser,
            sample_fps=self._face_fps,
            on_sample=self._on_face,
            clock=self._clock,
        )
        self._face_task = asyncio.create_task(self._face_consumer.run(), name="signals-face")

    def _on_face(self, s: FaceSample) -> None:
        self._store.submit(
            "face_samples",
            FaceSampleRow(
                session_id=self.session_id, t_ms=self._t_ms(s.t), face_present=s.face_present,
                num_faces=s.num_faces, yaw=s.yaw, pitch=s.pitch, roll=s.roll,
                gaze_on_camera=s.gaze_on_camera, eye_open=s.eye_open, blink=s.blink, smile=s.smile,
                brow_raise=s.brow_raise, stability=s.stability, quality=s.quality,
            ),
        )  # fmt: skip
        self._latest.update(
            face_present=s.face_present,
            gaze_on_camera=_r(s.gaze_on_camera),
            yaw=_r(s.yaw, 1),
            smile=_r(s.smile),
            stability=_r(s.stability),
            face_quality=_r(s.quality),
        )
        if (nudge := self._rules.on_face(s.t, s.face_present)) is not None:
            self._nudge(nudge)

    async def _stop_face(self) -> None:
        if self._face_task is not None:
            await aio.cancel_and_wait(self._face_task)
            self._face_task = None
        if self._face_consumer is not None:
            c = self._face_consumer
            self.frames_received += c.frames_received
            self.frames_analysed += c.frames_analysed
            self.frames_dropped += c.frames_dropped
            self._face_consumer = None

    # -- audio --------------------------------------------------------------

    def attach_audio(self, track: MediaStreamTrack) -> None:
        """Measure a (new) candidate audio track: loudness, voicing and pitch per window."""
        if self._audio_task is not None:
            self._audio_task.cancel()
        self._audio_task = asyncio.create_task(self._read_audio(track), name="signals-audio")

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        # Windows are timed from this track's first sample; a rejoin starts a new analyser.
        analyser = ProsodyAnalyser(PROSODY_RATE, self._window_ms)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=PROSODY_RATE)
        # Each chunk with the stream time (s) of its first sample, so that a chunk dropped when
        # the analysis falls behind does not move the windows after it.
        queue: asyncio.Queue[tuple[np.ndarray, float] | None] = asyncio.Queue(PROSODY_QUEUE_FRAMES)
        # The wall time of the stream's first sample. Audio arrives no earlier than it was spoken,
        # so each frame bounds it from above (its arrival less the stream up to its end) and the
        # least bound is the best. The first frame's arrival alone is late by whatever queued
        # before this reader began: up to 0.3 s while a first interview loaded its models, and
        # the report's pauses were then placed on silences that far off.
        origin = math.inf  # read by work() when each block is analysed

        async def work() -> None:
            block: list[np.ndarray] = []
            block_at_s = analysed_s = 0.0
            loop = asyncio.get_running_loop()
            pool = background_executor("prosody")
            try:
                while (item := await queue.get()) is not None:
                    pcm, at_s = item
                    if not block:
                        block_at_s = at_s
                    block.append(pcm)
                    if len(block) >= 25:  # analyse in 0.5 s blocks, off the event loop
                        samples, block = np.concatenate(block), []
                        behind_s = block_at_s - analysed_s  # audio dropped before this block
                        analysed_s += len(samples) / PROSODY_RATE
                        windows = await loop.run_in_executor(pool, analyser.push, samples)
                        self._on_windows(windows, origin + behind_s)
            finally:
                pool.shutdown(wait=False)

        worker = asyncio.create_task(work(), name="signals-prosody")
        received_s = resampled_s = 0.0
        try:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    break
                arrived = self._wall()
                received_s += frame.samples / frame.sample_rate
                origin = min(origin, arrived - received_s)
                for out in resampler.resample(frame):
                    pcm = np.frombuffer(bytes(out.planes[0])[: out.samples * 2], dtype=np.int16)
                    if queue.full():
                        queue.get_nowait()
                        self.audio_frames_dropped += 1
                    queue.put_nowait((pcm, resampled_s))
                    resampled_s += len(pcm) / PROSODY_RATE
        finally:
            await aio.cancel_and_wait(worker)

    def _on_windows(self, windows: list[ProsodyWindow], origin_wall: float) -> None:
        self._speech.on_prosody(windows, origin_wall)
        for w in windows:
            at = origin_wall + w.t
            self._store.submit(
                "prosody_windows",
                ProsodyWindowRow(
                    session_id=self.session_id,
                    t_ms=self._wall_t_ms(at),
                    loudness_dbfs=w.loudness_dbfs,
                    voiced=w.voiced,
                    f0_hz=w.f0_hz,
                    f0_confidence=w.f0_confidence,
                ),
            )
            self.audio_windows += 1
            if (nudge := self._rules.on_voice(self._clock(), candidate_speaking=w.voiced)) is not None:
                self._nudge(nudge)
        if windows:
            last = windows[-1]
            self._latest.update(loudness_dbfs=_r(last.loudness_dbfs, 1), voiced=last.voiced, f0_hz=_r(last.f0_hz, 1))

    # -- transcript and interviewer -------------------------------------------

    def on_utterance(self, utterance: RecognizedUtterance) -> None:
        """A recognised candidate utterance; with a filler-aware transcriber, heard again first."""
        if self._fillers is None:
            self._take_utterance(utterance, utterance.words)
        else:
            self._fillers.add(utterance)

    def on_sound(self, utterance: RecognizedUtterance) -> None:
        """Speech the VAD heard and the recogniser wrote no words for (a cough, a sigh, an "um"
        it left out): a pause around it is not joined through it."""
        self._speech.on_sound(utterance.speech_start_at, utterance.speech_end_at)

    def _take_utterance(self, utterance: RecognizedUtterance, words: Sequence[Word]) -> None:
        for event in self._speech.on_utterance(utterance.speech_start_at, words):
            self._record(event)

    def on_question_end(self, at: float) -> None:
        if self._fillers is None:
            self._speech.on_question_end(at)
        else:
            self._fillers.question_end(at)  # after the utterances still waiting for it

    def on_interviewer_speaking(self, speaking: bool) -> None:
        if (nudge := self._rules.on_interviewer(self._clock(), speaking=speaking)) is not None:
            self._nudge(nudge)

    def _record(self, event: SpeechEvent) -> None:
        sid = self.session_id
        match event:
            case Pause(start_at=at, duration_s=d):
                row = SpeechEventRow(
                    session_id=sid, t_ms=self._wall_t_ms(at), kind="pause", duration_ms=int(d * 1000), value=d
                )
            case Filler(at=at, text=label) | Hedge(at=at, text=label):
                row = SpeechEventRow(session_id=sid, t_ms=self._wall_t_ms(at), kind="filler", label=label)
            case ResponseLatency(answer_start_at=at, latency_s=latency):
                row = SpeechEventRow(session_id=sid, t_ms=self._wall_t_ms(at), kind="response_latency", value=latency)
            case Pace(at=at, wpm=wpm):
                row = SpeechEventRow(session_id=sid, t_ms=self._wall_t_ms(at), kind="wpm", value=wpm)
                self._latest["wpm"] = round(wpm)
                if (nudge := self._rules.on_wpm(self._clock(), wpm)) is not None:
                    self._nudge(nudge)
            case _:
                return
        self._store.submit("speech_events", row)

    def _nudge(self, nudge: Nudge) -> None:
        self._store.submit(
            "speech_events",
            SpeechEventRow(
                session_id=self.session_id,
                t_ms=self._t_ms(nudge.at),
                kind="nudge",
                value=nudge.value,
                label=nudge.kind,
            ),
        )
        self._publish(CandidateNudged(kind=nudge.kind, message=nudge.message, value=nudge.value))

    # -- live summary ---------------------------------------------------------

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(SUMMARY_INTERVAL_S)
            for nudge in self._rules.tick(self._clock()):
                self._nudge(nudge)
            summary = self._speech.summary()
            dropped = self.frames_dropped + (self._face_consumer.frames_dropped if self._face_consumer else 0)
            self._publish(
                SignalSummary(
                    t_ms=self._t_ms(self._clock()),
                    readings=dict(self._latest),
                    fillers=summary.fillers,
                    fillers_per_100_words=_r(summary.fillers_per_100_words, 1),
                    frames_dropped=dropped,
                )
            )

    async def aclose(self) -> SessionDeliveryStats:
        """Stop consuming; returns the session's counters once its rows are stored or spooled."""
        await aio.cancel_and_wait(self._ticker)
        await self._stop_face()
        if self._audio_task is not None:
            await aio.cancel_and_wait(self._audio_task)
        if self._fillers is not None:
            await self._fillers.aclose(FILLER_PASS_DRAIN_S)
        if self._face_analyser is not None:
            self._face_analyser.close()
        if self._fillers is not None and (self._fillers.utterances or self._fillers.heard_once):
            logger.info(
                "filler-aware pass: utterances heard again, decodes, utterances taken as first heard",
                extra={
                    "session_id": str(self.session_id),
                    "utterances": self._fillers.utterances,
                    "decodes": self._fillers.decodes,
                    "heard_once": self._fillers.heard_once,
                },
            )
        await self._store.flush()
        return self.stats()

    def stats(self) -> SessionDeliveryStats:
        """The session's counters so far, the face consumer at work included (saved as they go)."""
        consumer = self._face_consumer
        return self._store.stats_row(
            self.session_id,
            frames_received=self.frames_received + (consumer.frames_received if consumer else 0),
            frames_analysed=self.frames_analysed + (consumer.frames_analysed if consumer else 0),
            frames_dropped=self.frames_dropped + (consumer.frames_dropped if consumer else 0),
            audio_windows=self.audio_windows,
        )
