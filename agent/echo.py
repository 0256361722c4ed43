"""Is the candidate's microphone hearing the interviewer's own voice coming back?

The browser cancels echo, but not always fully (speakers, a laptop in a large room). When
the microphone picks the interviewer up, it sounds like the candidate resuming, and the
interviewer would stop for its own voice. The agent knows when its voice is playing, and how
loud the candidate's own voice has been while it was not: what reaches the microphone only
while the interviewer plays, far quieter than the candidate speaks, is the echo canceller's
residue, not a person. (Matching loudness envelopes was tried too: at the moment a speech
start is heard, the candidate's onset and any rise in the interviewer's voice look alike, and
real resumptions were taken for echo.)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np

STEP_S = 0.01  # envelope resolution
ONSET_S = 0.2  # the input just heard; its loudest step is compared with the candidate's voice
VOICE_FLOOR = 300.0  # s16 RMS above which an input frame is voice rather than room noise
VOICE_STEPS = 1500  # the candidate's recent voiced frames kept as their reference loudness
MIN_VOICE_STEPS = 25  # half a second of their voice before the loudness test is trusted


class _Envelope:
    """Loudness (RMS) per STEP_S of one audio direction, for the last `history_s`."""

    def __init__(self, history_s: float) -> None:
        self._steps: deque[tuple[int, float]] = deque(maxlen=int(history_s / STEP_S))

    def add(self, pcm: np.ndarray, sample_rate: int, end_at: float) -> None:
        step = max(1, int(sample_rate * STEP_S))
        n = len(pcm) // step
        if n == 0:
            return
        rms = np.sqrt(np.mean(pcm[: n * step].astype(np.float64).reshape(n, step) ** 2, axis=1))
        last = int(end_at / STEP_S)
        for i, value in enumerate(rms):
            self._steps.append((last - n + 1 + i, float(value)))

    def window(self, first: int, last: int) -> np.ndarray:
        """RMS for steps first..last (0 where nothing was recorded)."""
        out = np.zeros(last - first + 1)
        for index, value in self._steps:
            if first <= index <= last:
                out[index - first] = value
        return out


class EchoMonitor:
    """Tracks the interviewer's output and the candidate's input; tells echo from a voice."""

    def __init__(
        self,
        *,
        max_delay_s: float = 0.5,
        quieter_db: float = 20.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        history_s = max_delay_s + 1.0
        self._output = _Envelope(history_s)
        self._input = _Envelope(history_s)
        self._onset = int(ONSET_S / STEP_S)
        self._max_delay = int(max_delay_s / STEP_S)
        self._quieter = 10 ** (-quieter_db / 20)
        self._voice: deque[float] = deque(maxlen=VOICE_STEPS)  # the candidate's loud frames
        self._clock = clock

    def on_output(self, pcm_s16: bytes, sample_rate: int) -> None:
        """The interviewer's audio, as it is sent."""
        self._output.add(np.frombuffer(pcm_s16, dtype=np.int16), sample_rate, self._clock())

    def on_input(self, pcm_s16: bytes, sample_rate: int) -> None:
        """The candidate's microphone, as it arrives."""
        now = self._clock()
        pcm = np.frombuffer(pcm_s16, dtype=np.int16)
        self._input.add(pcm, sample_rate, now)
        last = int(now / STEP_S)
        if not self._output.window(last - self._max_delay, last).any():
            rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0
            if rms > VOICE_FLOOR:  # their own voice, with nothing of ours to echo
                self._voice.append(rms)

    def likely_echo(self) -> bool:
        """Whether what the microphone hears now is more likely the interviewer's echo."""
        last = int(self._clock() / STEP_S)
        if not self._output.window(last - self._max_delay, last).any():
            return False  # nothing of ours could be coming back
        if len(self._voice) < MIN_VOICE_STEPS:
            return False  # no voice of theirs to compare with yet: believe it is them
        reference = float(np.median(self._voice))
        heard = self._input.window(last - self._onset + 1, last)
        return float(heard.max()) < reference * self._quieter
