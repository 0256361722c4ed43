"""The sounds of a real room, put into the corpus's pauses: what a candidate's microphone hears
between the words.

Synthetic answers are clean: white noise at -60 dBFS under speech and nothing in the pauses.
A real candidate breathes in before going on, coughs, clears their throat, clicks their
tongue, shifts in a chair and types; a laptop microphone hears a fan. None of it is speech,
and none of it may end a turn, be written into the transcript or split one pause into two.

Each sound is made from noise and pulses, shaped by hand after the real thing (band, envelope,
length), at a level chosen against the corpus's speech (about -20 dBFS RMS). They are synthetic:
no recording of a real room is in the corpus, and a real room will hold sounds these miss.

  room      pink noise (a fan, traffic), -50 dBFS RMS, under everything (`room_dbfs`)
  breath    an inhale: hiss at 0.5-4 kHz, 0.3-0.6 s, -38 to -30 dBFS RMS
  sniff     a short nasal inhale: hiss at 1-6 kHz, 0.15-0.25 s
  cough     a burst (fast attack, 60 ms decay) and a short voiced tail, peaks near -12 dBFS
  throat    a throat clear: a rough voiced rumble near 110 Hz, 0.25-0.45 s
  click     a tongue or lip click: a 3 ms resonant tick
  keys      four to eight keystrokes 0.1-0.25 s apart
  creak     a chair: a slow rough sweep at 150-400 Hz, 0.4-0.8 s
  sigh      a breathy voiced exhale ("haah"), pitch falling from about 130 Hz, 0.4-0.8 s

`add_room(samples, pauses, seed)` adds the room tone and, in most pauses of 1 s or more, one
sound well inside the pause (after its first 0.35 s, ending 0.35 s before speech resumes), and
a breath just before a third of the resumptions. `python -m bench.turn_taking --room` plays the
corpus so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

SAMPLE_RATE = 16000
ROOM_DBFS = -50.0
MARGIN_S = 0.35  # a sound in a pause keeps this far from the words either side
SOUNDS = ("breath", "sniff", "cough", "throat", "click", "keys", "creak", "sigh")


def _db(dbfs: float) -> float:
    return 10 ** (dbfs / 20)


def _at_rms(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x**2))) or 1.0
    return (x * (_db(dbfs) / rms)).astype(np.float32)


def _bandpass(x: np.ndarray, lo: float, hi: float, order: int = 2) -> np.ndarray:
    sos = butter(order, [lo, hi], btype="band", fs=SAMPLE_RATE, output="sos")
    return sosfilt(sos, x)


def _n(seconds: float) -> int:
    return max(1, round(seconds * SAMPLE_RATE))


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise (equal energy per octave), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum[1:] /= np.sqrt(f[1:])
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return x / (np.sqrt(np.mean(x**2)) or 1.0)


def _swell(n: int, peak_at: float) -> np.ndarray:
    """An envelope that rises to its peak at `peak_at` (0-1) of its length and falls away."""
    t = np.linspace(0.0, 1.0, n)
    rise = np.sin(0.5 * np.pi * np.clip(t / peak_at, 0, 1)) ** 2
    fall = np.cos(0.5 * np.pi * np.clip((t - peak_at) / (1 - peak_at), 0, 1)) ** 2
    return np.where(t < peak_at, rise, fall)


def _voiced(n: int, f0: float, rng: np.random.Generator, jitter: float = 0.05) -> np.ndarray:
    """A rough glottal buzz: pulses at about `f0` Hz with cycle-to-cycle jitter."""
    x = np.zeros(n)
    at = 0.0
    while at < n:
        x[int(at)] = 1.0
        at += SAMPLE_RATE / (f0 * (1 + jitter * rng.standard_normal()))
    b, a = butter(2, 900, fs=SAMPLE_RATE)  # glottal roll-off
    return lfilter(b, a, x)


def breath(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng.uniform(0.3, 0.6))
    hiss = _bandpass(rng.standard_normal(n), 500, 4000)
    return _at_rms(hiss * _swell(n, rng.uniform(0.4, 0.7)), rng.uniform(-38, -30))


def sniff(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng.uniform(0.15, 0.25))
    hiss = _bandpass(rng.standard_normal(n), 1000, 6000)
    return _at_rms(hiss * _swell(n, 0.3), rng.uniform(-34, -28))


def cough(rng: np.random.Generator) -> np.ndarray:
    burst_n, tail_n = _n(0.18), _n(rng.uniform(0.1, 0.2))
    t = np.arange(burst_n) / SAMPLE_RATE
    burst = _bandpass(rng.standard_normal(burst_n), 200, 6000) * np.minimum(t / 0.008, 1) * np.exp(-t / 0.06)
    tail = _voiced(tail_n, rng.uniform(180, 260), rng, jitter=0.12) + 0.3 * rng.standard_normal(tail_n)
    tail = _bandpass(tail, 300, 3000) * np.linspace(1, 0, tail_n) ** 2 * 0.5
    x = np.concatenate([burst, tail])
    return (x * (_db(-12) / (np.max(np.abs(x)) or 1.0))).astype(np.float32)


def throat(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng.uniform(0.25, 0.45))
    buzz = _voiced(n, rng.uniform(90, 130), rng, jitter=0.2) + 0.4 * _bandpass(rng.standard_normal(n), 100, 1500)
    return _at_rms(_bandpass(buzz, 60, 2000) * _swell(n, 0.3), rng.uniform(-28, -22))


def click(rng: np.random.Generator) -> np.ndarray:
    n = _n(0.02)
    t = np.arange(n) / SAMPLE_RATE
    x = np.sin(2 * np.pi * rng.uniform(1500, 3500) * t) * np.exp(-t / 0.003)
    return (x * _db(rng.uniform(-28, -20))).astype(np.float32)


def keys(rng: np.random.Generator) -> np.ndarray:
    strokes = [click(rng) * 0.8 for _ in range(int(rng.integers(4, 9)))]
    gaps = [np.zeros(_n(rng.uniform(0.1, 0.25)), np.float32) for _ in strokes]
    return np.concatenate([part for pair in zip(strokes, gaps, strict=True) for part in pair])


def creak(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng.uniform(0.4, 0.8))
    f = np.linspace(rng.uniform(150, 250), rng.uniform(250, 400), n)
    phase = 2 * np.pi * np.cumsum(f) / SAMPLE_RATE
    rough = np.sign(np.sin(phase)) * (1 + 0.5 * rng.standard_normal(n))
    return _at_rms(_bandpass(rough, 100, 1200) * _swell(n, 0.5), rng.uniform(-34, -26))


def _resonate(x: np.ndarray, formants: Sequence[tuple[float, float]]) -> np.ndarray:
    """`x` through two-pole resonators at (centre Hz, bandwidth Hz) each, in parallel."""
    out = np.zeros_like(x)
    for f, bw in formants:
        r = np.exp(-np.pi * bw / SAMPLE_RATE)
        out += lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / SAMPLE_RATE), r * r], x)
    return out


def sigh(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng.uniform(0.4, 0.8))
    f0 = rng.uniform(110, 140)
    source = np.zeros(n)
    at = 0.0
    while at < n:  # pitch falling by a third over the sigh
        source[int(at)] = 1.0
        at += SAMPLE_RATE / (f0 * (1 - 0.33 * at / n))
    source = 0.6 * source + 0.5 * rng.standard_normal(n)  # mostly breath
    x = _resonate(source, [(rng.uniform(650, 800), 120), (rng.uniform(1100, 1300), 160), (2500, 300)])
    return _at_rms(x * _swell(n, 0.2), rng.uniform(-30, -24))


MAKERS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "breath": breath, "sniff": sniff, "cough": cough, "throat": throat, "click": click, "keys": keys, "creak": creak,
    "sigh": sigh,
}


@dataclass(frozen=True, slots=True)
class PlacedSound:
    kind: str
    start_s: float
    end_s: float


def add_room(
    samples: np.ndarray,
    pauses: Sequence[tuple[float, float]],
    seed: int,
    *,
    room_dbfs: float = ROOM_DBFS,
    voice_db: float = 0.0,
) -> tuple[np.ndarray, list[PlacedSound]]:
    """`samples` (16 kHz float32) with room tone (`room_dbfs` RMS) under everything and sounds in
    its pauses ((start s, length s) each); returns the new samples and where each sound went.
    `voice_db` makes the speaker and their own sounds louder or quieter (a soft voice, a
    microphone further away); the room tone stays where it is."""
    rng = np.random.default_rng(seed)
    gain = _db(voice_db)
    out = samples.astype(np.float32) * gain + (pink_noise(len(samples), rng) * _db(room_dbfs)).astype(np.float32)
    placed: list[PlacedSound] = []

    def put(kind: str, at_s: float, sound: np.ndarray) -> None:
        i = round(at_s * SAMPLE_RATE)
        j = min(len(out), i + len(sound))
        out[i:j] += sound[: j - i] * gain
        placed.append(PlacedSound(kind, at_s, j / SAMPLE_RATE))

    for start_s, length_s in pauses:
        room_s = length_s - 2 * MARGIN_S
        if length_s >= 1.0 and rng.random() < 0.75:
            kind = str(rng.choice(SOUNDS))
            sound = MAKERS[kind](rng)
            if len(sound) / SAMPLE_RATE <= room_s:
                put(kind, start_s + MARGIN_S + rng.uniform(0, room_s - len(sound) / SAMPLE_RATE), sound)
        if length_s >= 1.0 and rng.random() < 0.33:  # a breath in just before going on
            sound = breath(rng)
            at_s = start_s + length_s - len(sound) / SAMPLE_RATE - rng.uniform(0.05, 0.15)
            if not placed or placed[-1].end_s < at_s:
                put("breath", at_s, sound)
    return out, placed
