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
ONSET_S = 0.15  # the input just heard; its loudest step is compared with the candidate's voice
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
    """Tracks the interviewer's output and the candidate's input; tells echo from a voice.

    Two tests, either of which says echo: the input is much quieter than the candidate's own
    voice has been (an echo canceller leaves a faint residue), or, once the output has been
    playing for a whole window, the input's loudness follows the output's at some delay. The
    second is not used at the very start of the output: two sounds that both begin then look
    alike whatever they are.
    """

    def __init__(
        self,
        *,
        window_s: float = 0.4,
        max_delay_s: float = 0.5,
        threshold: float = 0.8,
        quieter_db: float = 12.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        history_s = window_s + max_delay_s + 1.0
        self._output = _Envelope(history_s)
        self._input = _Envelope(history_s)
        self._window = int(window_s / STEP_S)
        self._onset = int(ONSET_S / STEP_S)
        self._max_delay = int(max_delay_s / STEP_S)
        self._threshold = threshold
        self._quieter = 10 ** (-quieter_db / 20)
        self._voice: deque[float] = deque(maxlen=VOICE_STEPS)  # the candidate's loud steps
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
        if not self._output.window(last - self._max_delay - self._window, last).any():
            rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0
            if rms > VOICE_FLOOR:  # their own voice, with nothing of ours to echo
                self._voice.append(rms)

    def likely_echo(self) -> bool:
        """Whether what the microphone hears now is more likely the interviewer's echo."""
        last = int(self._clock() / STEP_S)
        played = self._output.window(last - self._window - self._max_delay + 1, last)
        if not played.any():
            return False  # nothing of ours could be coming back
        onset = self._input.window(last - self._onset + 1, last)
        if len(self._voice) >= MIN_VOICE_STEPS:
            reference = float(np.percentile(self._voice, 75))
            if float(onset.max()) < reference * self._quieter:
                return True
        if not played[: self._max_delay // 2].any():
            return False  # the output has only just started: a correlation means nothing yet
        heard = self._input.window(last - self._window + 1, last)
        if heard.std() == 0.0:
            return False
        for delay in range(self._max_delay + 1):
            out = self._output.window(last - self._window + 1 - delay, last - delay)
            if out.std() > 0.0 and float(np.corrcoef(heard, out)[0, 1]) >= self._threshold:
                return True
        return False
