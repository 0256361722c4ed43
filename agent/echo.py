"""Is the candidate's microphone hearing the interviewer's own voice coming back?

The browser cancels echo, but not always fully (speakers, a laptop in a large room). When
the microphone picks the interviewer up, it sounds like the candidate resuming, and the
interviewer would stop for its own voice. The agent knows exactly what it played and when,
so an echo shows as input loudness that follows the output's loudness a moment later.
This compares the two loudness envelopes (10 ms steps) over the last few hundred ms, at
every delay up to `max_delay_s`; a close match means echo, not a person.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np

STEP_S = 0.01  # envelope resolution


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
        window_s: float = 0.4,
        max_delay_s: float = 0.5,
        threshold: float = 0.7,
        clock: Callable[[], float] = time.time,
    ) -> None:
        history_s = window_s + max_delay_s + 1.0
        self._output = _Envelope(history_s)
        self._input = _Envelope(history_s)
        self._window = int(window_s / STEP_S)
        self._max_delay = int(max_delay_s / STEP_S)
        self._threshold = threshold
        self._clock = clock

    def on_output(self, pcm_s16: bytes, sample_rate: int) -> None:
        """The interviewer's audio, as it is sent."""
        self._output.add(np.frombuffer(pcm_s16, dtype=np.int16), sample_rate, self._clock())

    def on_input(self, pcm_s16: bytes, sample_rate: int) -> None:
        """The candidate's microphone, as it arrives."""
        self._input.add(np.frombuffer(pcm_s16, dtype=np.int16), sample_rate, self._clock())

    def likely_echo(self) -> bool:
        """Whether the input's recent loudness follows the output's closely at some delay."""
        last = int(self._clock() / STEP_S)
        heard = self._input.window(last - self._window + 1, last)
        if heard.std() == 0.0:
            return False
        for delay in range(self._max_delay + 1):
            played = self._output.window(last - self._window + 1 - delay, last - delay)
            if played.std() == 0.0:
                continue
            if float(np.corrcoef(heard, played)[0, 1]) >= self._threshold:
                return True
        return False
