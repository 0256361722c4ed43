"""Prosody of the candidate's voice: loudness, voicing and pitch per fixed window, pitch by Praat.

Latency: loudness could be known per window at once, but pitch is tracked by Praat on whole
blocks (default 1 s) so that its path finder sees context and the per-call cost stays small.
A window is therefore emitted when its block is complete plus `LOOKAHEAD_S` of audio after it:
at most `block_s + LOOKAHEAD_S` (1.04 s by default) after the window's first sample arrived,
plus the Praat call itself (≈ 3 ms per second of audio on one core). Each block is analysed
with `CONTEXT_S` of the audio before it, so pitch frames at a block's edges see whole
analysis windows and the result does not depend on how the caller chunks the audio.

`push` is cheap except when a block completes (one Praat call). On the event loop, call
`await analyser.push_async(samples)`: it runs `push` in a worker thread, in call order.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import numpy as np
import parselmouth

PITCH_FLOOR_HZ = 75.0  # Praat's default floor for speech; sets a 40 ms analysis window
PITCH_CEILING_HZ = 500.0  # high enough for raised or high voices, low enough to avoid octave errors
PITCH_STEP_S = 0.01  # one pitch frame every 10 ms: ten per 100 ms window
# Audio before a block that Praat also sees (pitch frames at the block start need it).
CONTEXT_S = 0.1
# Audio after a block that must have arrived before the block is analysed: half of Praat's
# 40 ms analysis window, rounded up, so the block's last frames are whole.
LOOKAHEAD_S = 0.04
SILENCE_DBFS = -120.0  # loudness reported for digital silence (RMS of exactly zero)


@dataclass(frozen=True, slots=True)
class ProsodyWindow:
    """Loudness, voicing and pitch of one window of the candidate's audio."""

    t: float  # seconds since the analyser's first sample, at the window's start
    loudness_dbfs: float  # RMS level in dB re full scale (a full-scale square wave is 0 dBFS)
    voiced: bool  # at least half of the window's pitch frames are voiced
    f0_hz: float | None  # median pitch of the voiced frames; None when not voiced
    f0_confidence: float  # mean Praat voicing strength (0–1) over all frames, unvoiced ones as 0


class ProsodyAnalyser:
    """Turns a stream of mono audio, in chunks of any size, into contiguous `ProsodyWindow`s."""

    def __init__(self, sample_rate: int = 16000, window_ms: int = 100, *, block_s: float = 1.0) -> None:
        window = sample_rate * window_ms / 1000.0
        if window != int(window) or window <= 0:
            raise ValueError("window_ms must be a whole, positive number of samples")
        self.sample_rate = sample_rate
        self.window_ms = window_ms
        self._window = int(window)
        # A block is a whole number of windows, so windows never straddle two Praat calls.
        self._block_windows = max(1, round(block_s * 1000.0 / window_ms))
        self._context = math.ceil(CONTEXT_S * sample_rate)
        self._lookahead = math.ceil(LOOKAHEAD_S * sample_rate)
        self._buffer = np.zeros(0, dtype=np.float64)  # context + pending audio
        self._buffer_start = 0  # index of _buffer[0] in the whole stream, in samples
        self._next_window = 0  # index of the next window to emit
        self._pitch_s = 0.0
        self._analysed_s = 0.0
        self._lock = asyncio.Lock()

    @property
    def latency_s(self) -> float:
        """Worst-case delay from a window's first sample arriving to the window being emitted."""
        return (self._block_windows * self._window + self._lookahead) / self.sample_rate

    @property
    def pitch_ms_per_s(self) -> float:
        """Time spent in Praat per second of audio analysed so far, in milliseconds."""
        return 1000.0 * self._pitch_s / self._analysed_s if self._analysed_s else 0.0

    def push(self, samples: np.ndarray) -> list[ProsodyWindow]:
        """Add mono int16 or float (±1.0) samples; returns the windows completed by them."""
        self._buffer = np.concatenate([self._buffer, _as_float(samples)])
        windows: list[ProsodyWindow] = []
        block = self._block_windows * self._window
        while self._stream_end() >= self._window_start(self._next_window) + block + self._lookahead:
            windows.extend(self._analyse(self._block_windows))
        return windows

    def flush(self) -> list[ProsodyWindow]:
        """Emit every whole window still pending (end of stream); a trailing partial window is dropped."""
        whole = (self._stream_end() - self._window_start(self._next_window)) // self._window
        return self._analyse(whole) if whole > 0 else []

    async def push_async(self, samples: np.ndarray) -> list[ProsodyWindow]:
        """`push` in a worker thread, so the Praat call stays off the event loop; calls run in order."""
        async with self._lock:
            return await asyncio.to_thread(self.push, samples)

    def _stream_end(self) -> int:
        return self._buffer_start + len(self._buffer)

    def _window_start(self, index: int) -> int:
        return index * self._window

    def _analyse(self, n_windows: int) -> list[ProsodyWindow]:
        """Analyse the next `n_windows` windows with one Praat call, then drop audio no longer needed."""
        first = self._window_start(self._next_window)
        end = first + n_windows * self._window
        seg_start = max(self._buffer_start, first - self._context)
        seg_end = min(self._stream_end(), end + self._lookahead)
        segment = self._buffer[seg_start - self._buffer_start : seg_end - self._buffer_start]

        started = time.perf_counter()
        frame_times, f0, strength = _pitch_frames(segment, self.sample_rate, seg_start / self.sample_rate)
        self._pitch_s += time.perf_counter() - started
        self._analysed_s += n_windows * self._window / self.sample_rate

        windows = []
        for i in range(n_windows):
            w_start = first + i * self._window
            audio = self._buffer[w_start - self._buffer_start : w_start + self._window - self._buffer_start]
            t0 = w_start / self.sample_rate
            in_window = (frame_times >= t0) & (frame_times < t0 + self._window / self.sample_rate)
            windows.append(_window(t0, audio, f0[in_window], strength[in_window]))

        self._next_window += n_windows
        keep_from = max(self._buffer_start, end - self._context)
        self._buffer = self._buffer[keep_from - self._buffer_start :]
        self._buffer_start = keep_from
        return windows


def _as_float(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise ValueError("prosody needs mono audio: a one-dimensional array")
    if samples.dtype == np.int16:
        return samples.astype(np.float64) / 32768.0
    return samples.astype(np.float64)


def _pitch_frames(
    segment: np.ndarray, sample_rate: int, start_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Praat's pitch path over a segment: frame centre times (stream seconds), f0 (0 = unvoiced), strength."""
    empty = np.zeros(0)
    # Praat needs at least one whole analysis window.
    if len(segment) < 3.0 / PITCH_FLOOR_HZ * sample_rate + 2:
        return empty, empty, empty
    sound = parselmouth.Sound(segment, sampling_frequency=sample_rate, start_time=start_s)
    pitch = sound.to_pitch_ac(
        time_step=PITCH_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ
    )
    selected = pitch.selected_array
    return np.asarray(pitch.xs()), selected["frequency"], selected["strength"]


def _window(t0: float, audio: np.ndarray, f0: np.ndarray, strength: np.ndarray) -> ProsodyWindow:
    rms = float(np.sqrt(np.mean(np.square(audio)))) if len(audio) else 0.0
    loudness = 20.0 * math.log10(rms) if rms > 0.0 else SILENCE_DBFS
    voiced_frames = f0 > 0.0
    voiced = bool(len(f0)) and 2 * int(voiced_frames.sum()) >= len(f0)
    return ProsodyWindow(
        t=round(t0, 6),
        loudness_dbfs=max(SILENCE_DBFS, loudness),
        voiced=voiced,
        f0_hz=float(np.median(f0[voiced_frames])) if voiced else None,
        f0_confidence=float(np.where(voiced_frames, strength, 0.0).mean()) if len(f0) else 0.0,
    )
