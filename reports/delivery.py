"""Delivery scores of an answer (or a whole session) from its stored signals, with confidence bands.

Each score is 0–100, shows the measured value and the factors it was built from, and carries a
95% band that widens with fewer or poorer samples. What each one measures:

- pace: words per minute of speaking time (scoring/speech.py's definition, which the live `wpm`
  signal uses too: pauses left out, vocal fillers spoken but not counted as words), from the
  answer's word timings; the median of the live readings in the answer's span is shown beside
  it. Best between 120 and 165 wpm. Band: word count as a Poisson count.
- fillers: filler events per 100 words ("um", "uh", discourse "like", "you know", …; hedges
  such as "kind of" are shown but not counted). Counted from the transcript's vocal fillers when
  the session recorded no speech signals. Best at 2 or fewer per 100 words.
- pauses: long pauses (2 s or more) per minute of answer and the share of the answer spent in
  pauses. Short pauses, and up to three long ones a minute (time to think), cost nothing; more,
  freezes of 5 s or more, or an answer more than a third silence do.
- response_latency: from the end of the question to the first word of the answer. Best between
  0.5 and 3 s; starting before the question ended is marked, mildly.
- face_visible: share of camera samples in which a face was found.
- camera_gaze: share of samples with a face in which the eyes (head plus iris) aimed at the
  lens (gaze score 0.5 or more). Looking away to think is normal: 60% is already full marks.
- head_stability: mean head steadiness (0..1 from the face stage, smoothed motion).
- smile: share of samples with a face showing a smile (smile score 0.5 or more). Shown for
  reference; it counts toward no overall score (scorecard.py).

Face samples arrive about ten a second and neighbouring ones are alike, so bands use one
effective sample per second of answer, scaled by the mean view quality.

None of these describe emotion, personality or fitness for a job; facial cues come with
FACIAL_CUES_NOTE.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from db.delivery import FaceSums
from scoring.speech import (
    HEDGES,
    MIN_PACE_SPEAKING_S,
    PACE_PAUSE_S,
    PAUSE_THRESHOLD_S,
    is_token,
    is_vocal_filler,
    words_per_minute,
)

FACIAL_CUES_NOTE = (
    "Facial cues come from a camera model and change with lighting, glasses, camera angle and "
    "culture. They describe what the camera saw, not how you felt: do not over-interpret them."
)
REPORT_NOTE = (
    "Scores describe observable delivery and the content of your answers. They make no claim "
    "about emotion, personality or fitness for a job."
)

METRICS: tuple[str, ...] = (
    "pace", "fillers", "pauses", "response_latency",
    "face_visible", "camera_gaze", "head_stability", "smile",
)  # fmt: skip
FACIAL_METRICS = frozenset({"face_visible", "camera_gaze", "head_stability", "smile"})
METRIC_LABELS: dict[str, str] = {
    "pace": "Pace",
    "fillers": "Fillers",
    "pauses": "Pause profile",
    "response_latency": "Response latency",
    "face_visible": "Face visible",
    "camera_gaze": "Looking toward the camera",
    "head_stability": "Head stability",
    "smile": "Smile ratio",
}

LONG_PAUSE_S = 2.0
GAZE_ON_CAMERA_MIN = 0.5
SMILE_MIN = 0.5
MIN_PACE_WORDS = 20
Z95 = 1.96


@dataclass(frozen=True, slots=True)
class Factor:
    """One thing a score was built from, as measured."""

    name: str
    value: float | int | str | None
    unit: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryScore:
    """One delivery metric: its score, a 95% band, how sure we are, and what it was built from."""

    metric: str
    label: str
    score: int | None  # None: nothing to measure it by
    band_low: int | None
    band_high: int | None
    confidence: str  # high | medium | low | none
    samples: int
    value: float | None
    unit: str
    summary: str
    factors: tuple[Factor, ...] = ()
    note: str | None = None


# Face samples of a span reduced to sums, as db/ returns them; spans add up with `+`.
FaceAggregate = FaceSums


@dataclass(frozen=True, slots=True)
class AnswerSignals:
    """What delivery scoring needs to know about one answer (or several, added up)."""

    answer_s: float = 0.0  # first word to last word of the answer's responses
    words: int = 0  # content words (vocal fillers left out)
    speaking_s: float = 0.0
    transcript_fillers: int = 0  # vocal fillers written in the transcript
    wpm_readings: tuple[float, ...] = ()
    filler_labels: tuple[str, ...] = ()  # filler events (hedges included, told apart by label)
    pauses_s: tuple[float, ...] = ()
    latencies_s: tuple[float, ...] = ()
    face: FaceAggregate = field(default_factory=FaceAggregate)
    speech_signals: bool = False  # whether the session recorded speech events at all

    def __add__(self, other: AnswerSignals) -> AnswerSignals:
        return AnswerSignals(
            answer_s=self.answer_s + other.answer_s,
            words=self.words + other.words,
            speaking_s=self.speaking_s + other.speaking_s,
            transcript_fillers=self.transcript_fillers + other.transcript_fillers,
            wpm_readings=self.wpm_readings + other.wpm_readings,
            filler_labels=self.filler_labels + other.filler_labels,
            pauses_s=self.pauses_s + other.pauses_s,
            latencies_s=self.latencies_s + other.latencies_s,
            face=self.face + other.face,
            speech_signals=self.speech_signals or other.speech_signals,
        )


@dataclass(frozen=True, slots=True)
class WordTiming:
    """Speech facts from one response's word timings."""

    words: int
    speaking_s: float
    vocal_fillers: int
    first_start_s: float | None
    last_end_s: float | None
    gaps_s: tuple[float, ...]


def timed_words(words: Sequence[Any]) -> tuple[tuple[str, float, float], ...]:
    """(word, start s, end s) of the well-formed entries of a response's stored words."""
    return tuple(
        (str(w.get("w", "")), float(w["start"]), float(w["end"]))
        for w in words
        if isinstance(w, dict)
        and isinstance(w.get("start"), int | float)
        and isinstance(w.get("end"), int | float)
        and is_token(str(w.get("w", "")))
    )


def word_timing(words: Sequence[Any]) -> WordTiming:
    """Word count, speaking time and gaps of one response (words as stored: {w, start, end, p})."""
    timed = timed_words(words)
    if not timed:
        return WordTiming(0, 0.0, 0, None, None, ())
    fillers = sum(1 for w, _, _ in timed if is_vocal_filler(w))
    speaking = 0.0
    gaps: list[float] = []
    run_start, run_end = timed[0][1], timed[0][2]
    for _, start, end in timed[1:]:
        gap = start - run_end
        if gap >= PAUSE_THRESHOLD_S:
            gaps.append(gap)
        if gap >= PACE_PAUSE_S:  # shorter pauses are speaking time (scoring/speech.py)
            speaking += max(0.0, run_end - run_start)
            run_start = start
        run_end = max(run_end, end)
    speaking += max(0.0, run_end - run_start)
    return WordTiming(
        words=len(timed) - fillers,
        speaking_s=speaking,
        vocal_fillers=fillers,
        first_start_s=timed[0][1],
        last_end_s=max(t[2] for t in timed),
        gaps_s=tuple(gaps),
    )


# -- scoring helpers ------------------------------------------------------------


def _clamp(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return max(lo, min(hi, x))


def _ramp(x: float, zero_at: float, full_at: float) -> float:
    """0 at zero_at, 100 at full_at, linear between (either direction), clamped."""
    if full_at == zero_at:
        return 100.0 if x >= full_at else 0.0
    return _clamp(100.0 * (x - zero_at) / (full_at - zero_at))


def _plateau(x: float, zero_low: float, full_low: float, full_high: float, zero_high: float) -> float:
    """100 on [full_low, full_high], falling linearly to 0 at zero_low and zero_high."""
    if x < full_low:
        return _ramp(x, zero_low, full_low)
    if x > full_high:
        return _ramp(x, zero_high, full_high)
    return 100.0


def _band(fn: Callable[[float], float], lo: float, hi: float) -> tuple[int, int]:
    """The range of fn over [lo, hi] (fn is piecewise linear: sampling finds its extremes)."""
    if hi < lo:
        lo, hi = hi, lo
    values = [fn(lo + (hi - lo) * i / 24) for i in range(25)]
    return round(min(values)), round(max(values))


def _wilson(successes: float, n: float) -> tuple[float, float]:
    """95% Wilson interval of a proportion."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _confidence(score: int | None, band: tuple[int, int] | None) -> str:
    if score is None or band is None:
        return "none"
    width = band[1] - band[0]
    return "high" if width <= 12 else "medium" if width <= 30 else "low"


def _none(metric: str, unit: str, summary: str, factors: tuple[Factor, ...] = ()) -> DeliveryScore:
    return DeliveryScore(
        metric=metric,
        label=METRIC_LABELS[metric],
        score=None,
        band_low=None,
        band_high=None,
        confidence="none",
        samples=0,
        value=None,
        unit=unit,
        summary=summary,
        factors=factors,
        note=FACIAL_CUES_NOTE if metric in FACIAL_METRICS else None,
    )


def _scored(
    metric: str,
    fn: Callable[[float], float],
    value: float,
    lo: float,
    hi: float,
    *,
    samples: int,
    unit: str,
    summary: str,
    factors: tuple[Factor, ...],
    confidence_cap: str | None = None,
) -> DeliveryScore:
    score = round(fn(value))
    band = _band(fn, lo, hi)
    band = (min(band[0], score), max(band[1], score))
    confidence = _confidence(score, band)
    if confidence_cap == "medium" and confidence == "high":
        confidence = "medium"
    elif confidence_cap == "low":
        confidence = "low"
    return DeliveryScore(
        metric=metric,
        label=METRIC_LABELS[metric],
        score=score,
        band_low=band[0],
        band_high=band[1],
        confidence=confidence,
        samples=samples,
        value=round(value, 3),
        unit=unit,
        summary=summary,
        factors=factors,
        note=FACIAL_CUES_NOTE if metric in FACIAL_METRICS else None,
    )


# -- the metrics --------------------------------------------------------------


def pace_score(wpm: float) -> float:
    return _plateau(wpm, 70.0, 120.0, 165.0, 230.0)


def fillers_score(per_100_words: float) -> float:
    return _ramp(per_100_words, 12.0, 2.0)


def latency_score(latency_s: float) -> float:
    if latency_s < -0.3:  # started before the question had ended
        return 75.0
    if latency_s < 0.5:
        return 90.0
    if latency_s <= 3.0:
        return 100.0
    if latency_s <= 8.0:
        return 100.0 - 70.0 * (latency_s - 3.0) / 5.0
    return _ramp(latency_s, 15.0, 8.0) * 0.3


def face_visible_score(ratio: float) -> float:
    return _ramp(ratio, 0.5, 0.95)


def camera_gaze_score(ratio: float) -> float:
    return _ramp(ratio, 0.1, 0.6)


def head_stability_score(mean: float) -> float:
    return _ramp(mean, 0.4, 0.85)


def smile_score(ratio: float) -> float:
    return 50.0 + 50.0 * min(1.0, ratio / 0.05)


def _pace(s: AnswerSignals) -> DeliveryScore:
    live = statistics.median(s.wpm_readings) if s.wpm_readings else None
    live_factor = Factor("live pace readings (median)", round(live) if live is not None else None, "wpm")
    wpm = words_per_minute(s.words, s.speaking_s)
    if wpm is not None and s.words >= MIN_PACE_WORDS and s.speaking_s >= MIN_PACE_SPEAKING_S:
        rel = Z95 / math.sqrt(s.words)
        return _scored(
            "pace", pace_score, wpm, wpm * (1 - rel), wpm * (1 + rel),
            samples=s.words,
            unit="wpm",
            summary=f"{round(wpm)} words per minute of speaking time (best 120–165).",
            factors=(
                Factor("words", s.words),
                Factor("speaking time", round(s.speaking_s, 1), "s"),
                live_factor,
            ),
        )  # fmt: skip
    if live is not None:
        spread = statistics.pstdev(s.wpm_readings) if len(s.wpm_readings) > 1 else 0.15 * live
        half = max(Z95 * spread / math.sqrt(len(s.wpm_readings)), 0.1 * live)
        return _scored(
            "pace", pace_score, live, live - half, live + half,
            samples=len(s.wpm_readings),
            unit="wpm",
            summary=f"About {round(live)} words per minute from the live readings (best 120–165).",
            factors=(live_factor, Factor("words", s.words)),
            confidence_cap="low",
        )  # fmt: skip
    return _none("pace", "wpm", "Too little speech to measure pace.", (Factor("words", s.words),))


def _fillers(s: AnswerSignals) -> DeliveryScore:
    if s.words < MIN_PACE_WORDS:
        return _none("fillers", "per 100 words", "Too few words to rate fillers.", (Factor("words", s.words),))
    if s.speech_signals:
        counted = [label for label in s.filler_labels if (label or "").lower() not in HEDGES]
        hedges = len(s.filler_labels) - len(counted)
        source = "speech signals"
    else:
        counted, hedges = ["um"] * s.transcript_fillers, 0
        source = "transcript (no speech signals were recorded)"
    count = len(counted)
    rate = 100.0 * count / s.words
    half = Z95 * math.sqrt(max(count, 1)) * 100.0 / s.words
    common = max(set(counted), key=counted.count) if counted and s.speech_signals else None
    return _scored(
        "fillers", fillers_score, rate, max(0.0, rate - half), rate + half,
        samples=s.words,
        unit="per 100 words",
        summary=f"{rate:.1f} fillers per 100 words (best 2 or fewer).",
        factors=(
            Factor("fillers", count),
            Factor("words", s.words),
            Factor("most frequent", common),
            Factor("hedges (not counted)", hedges),
            Factor("counted from", source),
        ),
    )  # fmt: skip


# Pausing to think is part of a good answer: an MMI candidate weighing two sides, or anyone
# recalling a figure, stops for 2-3 s now and then, and coaches teach it. So a few long pauses a
# minute cost nothing; more than that reads as halting, a freeze of 5 s or more as losing the
# thread, and an answer more than a third silence as hesitant throughout.
FREE_LONG_PAUSES_PER_MIN = 3.0
FREEZE_S = 5.0
SILENT_SHARE_MAX = 0.35


def pause_penalty(
    long_per_min: float, freezes_per_min: float, share: float, short_per_min: float, answer_s: float
) -> float:
    score = 100.0 - 10.0 * max(0.0, long_per_min - FREE_LONG_PAUSES_PER_MIN) - 20.0 * freezes_per_min
    if share > SILENT_SHARE_MAX:
        score -= (share - SILENT_SHARE_MAX) * 200.0
    if answer_s >= 60.0 and short_per_min < 2.0:  # a minute without a breath reads as rushed
        score -= 10.0
    return _clamp(score)


def _pauses(s: AnswerSignals) -> DeliveryScore:
    if s.answer_s < 5.0:
        return _none("pauses", "long pauses per minute", "The answer was too short to profile pauses.")
    minutes = s.answer_s / 60.0
    long_pauses = [p for p in s.pauses_s if p >= LONG_PAUSE_S]
    short = len(s.pauses_s) - len(long_pauses)
    share = min(1.0, sum(s.pauses_s) / s.answer_s)
    long_rate = len(long_pauses) / minutes
    short_rate = short / minutes
    freeze_rate = sum(1 for p in long_pauses if p >= FREEZE_S) / minutes
    half = Z95 * math.sqrt(max(len(long_pauses), 1)) / minutes

    def fn(rate: float) -> float:
        return pause_penalty(rate, freeze_rate, share, short_rate, s.answer_s)

    return _scored(
        "pauses", fn, long_rate, max(0.0, long_rate - half), long_rate + half,
        samples=len(s.pauses_s),
        unit="long pauses per minute",
        summary=(
            f"{len(long_pauses)} pause(s) of {LONG_PAUSE_S:g} s or more in {minutes:.1f} min; "
            f"{round(share * 100)}% of the answer in pauses."
        ),
        factors=(
            Factor("pauses", len(s.pauses_s)),
            Factor("long pauses", len(long_pauses)),
            Factor("longest pause", round(max(s.pauses_s), 1) if s.pauses_s else 0.0, "s"),
            Factor("mean pause", round(statistics.fmean(s.pauses_s), 2) if s.pauses_s else 0.0, "s"),
            Factor("time in pauses", round(share * 100), "%"),
            Factor("answer length", round(s.answer_s, 1), "s"),
        ),
    )  # fmt: skip


def _latency(s: AnswerSignals) -> DeliveryScore:
    if not s.latencies_s:
        return _none("response_latency", "s", "No response latency was measured.")
    value = statistics.median(s.latencies_s)
    n = len(s.latencies_s)
    spread = statistics.pstdev(s.latencies_s) if n > 1 else 0.0
    half = max(0.3, Z95 * spread / math.sqrt(n))  # word timings are good to a few hundred ms
    early = sum(1 for x in s.latencies_s if x < -0.3)
    return _scored(
        "response_latency", latency_score, value, value - half, value + half,
        samples=n,
        unit="s",
        summary=f"{value:.1f} s from the end of the question to your first word (best 0.5–3 s).",
        factors=(
            Factor("answers measured", n),
            Factor("longest", round(max(s.latencies_s), 1), "s"),
            Factor("started before the question ended", early),
        ),
        confidence_cap="medium" if n < 3 else None,
    )  # fmt: skip


def _effective_n(face: FaceAggregate, answer_s: float) -> float:
    quality = face.quality_sum / face.samples if face.samples else 0.0
    per_second = min(float(face.samples), max(answer_s, 1.0))
    return max(1.0, per_second * max(quality, 0.2))


def _mean_quality(face: FaceAggregate) -> float:
    return round(face.quality_sum / face.samples, 2) if face.samples else 0.0


def _face_metrics(s: AnswerSignals) -> list[DeliveryScore]:
    f = s.face
    if f.samples == 0:
        return [
            _none(m, u, "No camera samples in this span.")
            for m, u in (("face_visible", "%"), ("camera_gaze", "%"), ("head_stability", "0–100"), ("smile", "%"))
        ]
    n_eff = _effective_n(f, s.answer_s)
    quality = Factor("mean view quality", _mean_quality(f))
    visible = f.present / f.samples
    lo, hi = _wilson(visible * n_eff, n_eff)
    out = [
        _scored(
            "face_visible", face_visible_score, visible, lo, hi,
            samples=f.samples,
            unit="%",
            summary=f"A face was found in {round(visible * 100)}% of camera samples.",
            factors=(Factor("samples", f.samples), Factor("with a face", f.present), quality),
        )
    ]  # fmt: skip
    if f.present == 0:
        out += [
            _none(m, u, "No face was found, so this could not be measured.")
            for m, u in (("camera_gaze", "%"), ("head_stability", "0–100"), ("smile", "%"))
        ]
        return out
    n_present = max(1.0, n_eff * f.present / f.samples)
    gaze = f.gaze_on / f.present
    lo, hi = _wilson(gaze * n_present, n_present)
    out.append(
        _scored(
            "camera_gaze", camera_gaze_score, gaze, lo, hi,
            samples=f.present,
            unit="%",
            summary=(
                f"Eyes toward the camera in {round(gaze * 100)}% of samples with a face "
                "(60% or more is full marks)."
            ),
            factors=(Factor("samples with a face", f.present), Factor("toward the camera", f.gaze_on), quality),
        )
    )  # fmt: skip
    if f.stability_n:
        mean = f.stability_sum / f.stability_n
        var = max(0.0, f.stability_sq_sum / f.stability_n - mean * mean)
        half = Z95 * math.sqrt(var) / math.sqrt(min(n_present, f.stability_n)) + 0.02
        out.append(
            _scored(
                "head_stability", head_stability_score, mean, mean - half, mean + half,
                samples=f.stability_n,
                unit="0–100",
                summary=f"Head steadiness {round(mean * 100)} of 100 (85 or more is full marks).",
                factors=(Factor("mean steadiness", round(mean, 3)), Factor("samples", f.stability_n), quality),
            )
        )  # fmt: skip
    else:
        out.append(_none("head_stability", "0–100", "No head-motion samples."))
    smile = f.smiling / f.present
    lo, hi = _wilson(smile * n_present, n_present)
    out.append(
        _scored(
            "smile", smile_score, smile, lo, hi,
            samples=f.present,
            unit="%",
            summary=f"A smile in {round(smile * 100)}% of samples with a face. Shown for reference only.",
            factors=(Factor("samples with a face", f.present), Factor("smiling", f.smiling), quality),
        )
    )  # fmt: skip
    return out


def score_delivery(s: AnswerSignals) -> tuple[DeliveryScore, ...]:
    """Every delivery metric of an answer (or of answers added together), in METRICS order."""
    scores = [_pace(s), _fillers(s), _pauses(s), _latency(s), *_face_metrics(s)]
    by_metric = {d.metric: d for d in scores}
    return tuple(by_metric[m] for m in METRICS)


def total(signals: Iterable[AnswerSignals]) -> AnswerSignals:
    """Several answers' signals added together (for a session-level score)."""
    out = AnswerSignals()
    for s in signals:
        out = out + s
    return out
