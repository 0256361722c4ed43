"""The candidate's own speech level, to tell their voice from another voice in the room.

A candidate sits at their microphone; a colleague on a call, a television or a meeting next
door reaches it too, but well below them. The VAD takes that other speech for speech: without a
gate its words join the answer, and a burst of it just as the interviewer starts to reply
stops the reply, so the next answer is stored as part of the last one.

An utterance's level is the RMS of its loudest tenth of 32 ms windows: a voice's level
whatever its pauses and padding. On the bench corpus every utterance of an answer lay within
5.4 dB of that answer's median; on five recordings of people, within 5.2 dB (a cough aside).
Through the room, a meeting looped under the answers (bench/turn_taking.py --background) reached
the server 7-16 dB under the candidate's median utterance. So an utterance AFTER_TURN_DB under
the candidate's usual level is taken as someone else's, once that level is known, where another
voice does most harm: after the candidate's turn has ended, as the interviewer replies (the
session's VAD, which may interrupt the interviewer at any time, goes by BACKGROUND_DB). Inside an
answer nothing is dropped: the same man recorded twice (bench.human_recordings, mfa-acoustic then
mfa-cold, played in one session) came in 9-12 dB apart, and a dropped sentence of the
candidate's costs more than a few words of someone else's. A speech start is judged on less
audio (0.1-0.2 s of speech: up to 10 dB under the speaker's level on the corpus), so a soft start
only delays a yield until the speech proves loud enough.

A voice print (a speaker embedding: Resemblyzer's encoder, run in numpy) was tried for voices
nearer the candidate's level and not kept: the fragments of another voice that stop a reply last
0.3-1 s, and at that length a person's own soft stretch printed as unlike them as another's
(docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import numpy as np
from livekit import rtc
from livekit.agents import vad
from livekit.agents.utils import aio

LEVEL_WINDOW_S = 0.032
BACKGROUND_DB = 10.0  # this far under the candidate's median utterance is another voice
# Once the candidate's turn has ended, speech this far under them is another voice: it does not
# make the interviewer yield until it proves louder, and its words join nothing. Every utterance of
# a corpus answer lay within 5.4 dB of the answer's median, of a person's recording within 5.2 dB;
# a meeting at -12 dB sent fragments 7.8-11 dB under the candidate that made the interviewer
# withdraw its question, and the candidate's next answer was stored with the last.
AFTER_TURN_DB = 6.0
KNOWN_AFTER = 3  # utterances of the candidate before their level is trusted
REMEMBERED = 20  # the most recent utterances the level is taken from (a candidate may move)
# Utterances taken for another voice one after another, with none of the candidate's between:
# more likely the candidate at a new level (another microphone, further from it). The gate
# opens and learns the level again, so it can never shut a candidate out for long.
RELEARN_AFTER = 2
SILENCE_DB = -120.0


def _loudest_tenth(window_rms: Sequence[float] | np.ndarray) -> float:
    """The mean of the loudest tenth of windows' RMS (at least one window); 0.0 for none."""
    if len(window_rms) == 0:
        return 0.0
    return float(np.mean(np.sort(window_rms)[-max(1, len(window_rms) // 10) :]))


def _as_db(level: float) -> float:
    return 20.0 * float(np.log10(level)) if level > 0 else SILENCE_DB


def speech_level(samples: np.ndarray, rate: int) -> float:
    """RMS (of full scale) of the loudest tenth of 32 ms windows: a voice's level, whatever its pauses."""
    hop = max(1, int(rate * LEVEL_WINDOW_S))
    count = len(samples) // hop
    windows = np.asarray(samples[: count * hop], dtype=np.float64).reshape(count, hop)
    return _loudest_tenth(np.sqrt(np.mean(windows**2, axis=1)))


def level_db(samples: np.ndarray, rate: int) -> float:
    """`speech_level` in dB of full scale (float samples in -1..1)."""
    return _as_db(speech_level(samples, rate))


class VoiceLevel:
    """The candidate's usual speech level, learned from their utterances as the interview goes."""

    def __init__(self) -> None:
        self._levels: deque[float] = deque(maxlen=REMEMBERED)
        self._let_go: list[float] = []  # levels taken for another voice since the candidate's last
        self.dropped = 0  # utterances taken for another voice
        self.relearned = 0  # times the level was learned again

    @property
    def usual_db(self) -> float | None:
        """The median level of the candidate's recent utterances; None until it is known."""
        if len(self._levels) < KNOWN_AFTER:
            return None
        return float(np.median(self._levels))

    def heard(self, db: float) -> None:
        """An utterance that was the candidate's."""
        self._levels.append(db)
        self._let_go.clear()

    def let_go(self, db: float) -> None:
        """An utterance taken for another voice (`is_background`) was dropped."""
        self.dropped += 1
        self._let_go.append(db)
        if len(self._let_go) >= RELEARN_AFTER:
            self._levels = deque(self._let_go, maxlen=REMEMBERED)  # not yet known: the gate is open
            self._let_go.clear()
            self.relearned += 1

    def is_background(self, db: float, *, under_db: float = BACKGROUND_DB) -> bool:
        """Whether an utterance at `db` is too far (`under_db`) under the candidate's usual level
        to be theirs."""
        usual = self.usual_db
        return usual is not None and db < usual - under_db


class RunningLevel:
    """An utterance's level as its audio frames arrive (int16 frames, any rate)."""

    def __init__(self) -> None:
        self._rms: list[float] = []

    def add(self, frames: Iterable[rtc.AudioFrame]) -> None:
        for frame in frames:
            pcm = np.frombuffer(frame.data, dtype=np.int16).astype(np.float64) / 32768.0
            hop = max(1, int(frame.sample_rate * LEVEL_WINDOW_S))
            for start in range(0, len(pcm), hop):
                window = pcm[start : start + hop]
                if len(window) * 2 >= hop:  # a shorter remainder says little
                    self._rms.append(float(np.sqrt(np.mean(window**2))))

    @property
    def db(self) -> float:
        """`level_db` of what has arrived: the loudest tenth of its 32 ms windows."""
        return _as_db(_loudest_tenth(self._rms))


class VoiceGatedVAD(vad.VAD):
    """The session's VAD, for interrupting the interviewer: speech far under the candidate's
    usual level is reported as no speech at all, so another voice in the room cannot stop
    the interviewer mid-sentence (livekit interrupts on `speech_duration`). How far is
    `under_db()`, asked as the speech goes: AFTER_TURN_DB while a reply may still be yielded,
    as the turn taker judges a start then, so that speech it holds back as too soft does not
    cut the reply's audio either; BACKGROUND_DB otherwise."""

    def __init__(
        self, inner: vad.VAD, voice: VoiceLevel, under_db: Callable[[], float] = lambda: BACKGROUND_DB
    ) -> None:
        super().__init__(capabilities=inner.capabilities)
        self._inner = inner
        self._voice = voice
        self._under_db = under_db

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def provider(self) -> str:
        return self._inner.provider

    def stream(self) -> vad.VADStream:
        return _VoiceGatedStream(self, self._inner.stream(), self._voice, self._under_db)


class _VoiceGatedStream(vad.VADStream):
    def __init__(
        self, owner: VoiceGatedVAD, inner: vad.VADStream, voice: VoiceLevel, under_db: Callable[[], float]
    ) -> None:
        self._inner = inner
        self._voice = voice
        self._under_db = under_db
        super().__init__(owner)

    async def _main_task(self) -> None:
        async def forward() -> None:
            async for item in self._input_ch:
                if isinstance(item, vad.VADStream._FlushSentinel):
                    self._inner.flush()
                else:
                    self._inner.push_frame(item)
            self._inner.end_input()

        forwarding = asyncio.create_task(forward(), name="voice-gated-vad-forward")
        level = RunningLevel()
        try:
            async for ev in self._inner:
                if ev.type == vad.VADEventType.START_OF_SPEECH:
                    level = RunningLevel()
                if ev.speaking:
                    level.add(ev.frames)
                if ev.speaking and self._voice.is_background(level.db, under_db=self._under_db()):
                    ev = replace(ev, speech_duration=0.0)
                self._event_ch.send_nowait(ev)
        finally:
            await aio.cancel_and_wait(forwarding)
            await self._inner.aclose()
