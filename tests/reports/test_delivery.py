"""Delivery scores: what each measures, its band, and that facial cues carry their caution."""

from __future__ import annotations

import pytest

from reports.delivery import (
    FACIAL_CUES_NOTE,
    FACIAL_METRICS,
    METRICS,
    AnswerSignals,
    FaceAggregate,
    score_delivery,
    total,
    word_timing,
)


def _words(n: int, step: float = 0.4, gaps: dict[int, float] | None = None) -> list[dict]:
    out, t = [], 0.0
    for i in range(n):
        t += (gaps or {}).get(i, 0.0)
        out.append({"w": "word", "start": t, "end": t + step * 0.9, "p": 0.9})
        t += step
    return out


def _face(samples: int, present: float = 1.0, gaze: float = 0.8, smile: float = 0.1, stability: float = 0.9) -> FaceAggregate:
    p = round(samples * present)
    return FaceAggregate(
        samples=samples,
        present=p,
        gaze_on=round(p * gaze),
        smiling=round(p * smile),
        stability_n=p,
        stability_sum=p * stability,
        stability_sq_sum=p * stability * stability,
        quality_sum=samples * 0.9,
    )


def _by_metric(signals: AnswerSignals) -> dict:
    return {d.metric: d for d in score_delivery(signals)}


def test_word_timing_counts_words_speaking_time_and_gaps() -> None:
    words = _words(10, gaps={5: 2.0})
    words.insert(3, {"w": "um,", "start": 1.25, "end": 1.3, "p": 0.5})
    timing = word_timing(words)
    assert timing.words == 10 and timing.vocal_fillers == 1
    assert timing.gaps_s and max(timing.gaps_s) == pytest.approx(2.04, abs=0.01)
    assert timing.speaking_s == pytest.approx(4.0 - 0.04, abs=0.05)  # 10 words × 0.4 s, the gap left out


def test_word_timing_keeps_a_breath_between_phrases_in_speaking_time() -> None:
    # a 0.3 s pause is reported, and is talking; a 1.0 s thinking pause is not
    words = _words(10, gaps={3: 0.3, 7: 1.0})
    timing = word_timing(words)
    assert [round(g, 2) for g in timing.gaps_s] == [0.34, 1.04]
    assert timing.speaking_s == pytest.approx(10 * 0.4 - 2 * 0.04 + 0.3, abs=0.01)  # two runs, each ends on a word


def test_word_timing_ignores_malformed_entries() -> None:
    assert word_timing([{"w": "x"}, "junk", {"w": "", "start": 0, "end": 1}]).words == 0


def test_every_metric_is_reported_in_order_even_without_data() -> None:
    scores = score_delivery(AnswerSignals())
    assert tuple(d.metric for d in scores) == METRICS
    assert all(d.score is None and d.confidence == "none" for d in scores)
    assert all((d.note == FACIAL_CUES_NOTE) == (d.metric in FACIAL_METRICS) for d in scores)


def test_pace_from_word_timings_with_live_readings_as_a_factor() -> None:
    s = AnswerSignals(answer_s=60, words=150, speaking_s=60.0, wpm_readings=(148.0, 152.0))
    pace = _by_metric(s)["pace"]
    assert pace.value == pytest.approx(150)
    assert pace.score == 100 and pace.band_low <= 100 <= pace.band_high
    factors = {f.name: f.value for f in pace.factors}
    assert factors["words"] == 150 and factors["live pace readings (median)"] == 150


def test_fast_pace_scores_lower_and_band_narrows_with_more_words() -> None:
    few = _by_metric(AnswerSignals(answer_s=20, words=70, speaking_s=20.0))["pace"]  # 210 wpm
    many = _by_metric(AnswerSignals(answer_s=200, words=700, speaking_s=200.0))["pace"]
    assert few.score < 40 and many.score == few.score
    assert (many.band_high - many.band_low) < (few.band_high - few.band_low)


def test_fillers_per_100_words_leave_hedges_out() -> None:
    s = AnswerSignals(answer_s=60, words=200, speaking_s=60, filler_labels=("um",) * 8 + ("kind of",) * 5, speech_signals=True)
    fillers = _by_metric(s)["fillers"]
    assert fillers.value == pytest.approx(4.0)
    factors = {f.name: f.value for f in fillers.factors}
    assert factors["hedges (not counted)"] == 5 and factors["most frequent"] == "um"
    assert 60 < fillers.score < 100


def test_fillers_fall_back_to_the_transcript_without_speech_signals() -> None:
    s = AnswerSignals(answer_s=60, words=100, speaking_s=50, transcript_fillers=10, speech_signals=False)
    fillers = _by_metric(s)["fillers"]
    assert fillers.value == pytest.approx(10.0) and fillers.score < 30
    assert "transcript" in {f.name: f.value for f in fillers.factors}["counted from"]


def test_long_pauses_cost_and_short_ones_do_not() -> None:
    calm = _by_metric(AnswerSignals(answer_s=60, pauses_s=(0.5,) * 6))["pauses"]
    stuck = _by_metric(AnswerSignals(answer_s=60, pauses_s=(0.5,) * 6 + (4.0, 3.0, 5.0)))["pauses"]
    assert calm.score == 100 and stuck.score < calm.score
    assert {f.name: f.value for f in stuck.factors}["longest pause"] == 5.0


def test_thinking_pauses_are_allowed_and_halting_or_freezing_is_not() -> None:
    """Three 2-3 s pauses to think in a 37 s answer are how a careful candidate speaks; a pause
    every few seconds, or a long freeze, is not."""
    thinking = _by_metric(AnswerSignals(answer_s=37, pauses_s=(2.0, 3.0, 2.5, 0.4, 0.6)))["pauses"]
    halting = _by_metric(AnswerSignals(answer_s=37, pauses_s=(2.5,) * 8))["pauses"]
    frozen = _by_metric(AnswerSignals(answer_s=37, pauses_s=(9.0, 0.5, 0.5)))["pauses"]
    assert thinking.score >= 75
    assert halting.score <= 25
    assert frozen.score < thinking.score


@pytest.mark.parametrize("latency, low, high", [(1.5, 100, 100), (6.0, 50, 70), (-1.0, 75, 75), (20.0, 0, 0)])
def test_response_latency(latency: float, low: int, high: int) -> None:
    d = _by_metric(AnswerSignals(latencies_s=(latency,)))["response_latency"]
    assert low <= d.score <= high
    assert d.confidence == "medium"  # one reading is never "high"


def test_face_metrics_from_samples_with_bands_from_effective_samples() -> None:
    short = _by_metric(AnswerSignals(answer_s=10, face=_face(100, present=0.8, gaze=0.3)))
    long = _by_metric(AnswerSignals(answer_s=600, face=_face(6000, present=0.8, gaze=0.3)))
    assert short["face_visible"].value == pytest.approx(0.8) == long["face_visible"].value
    assert short["camera_gaze"].value == pytest.approx(0.3)
    width = lambda d: d.band_high - d.band_low  # noqa: E731
    assert width(long["camera_gaze"]) < width(short["camera_gaze"])
    assert short["face_visible"].note == FACIAL_CUES_NOTE


def test_no_face_found_means_no_gaze_stability_or_smile() -> None:
    d = _by_metric(AnswerSignals(answer_s=10, face=_face(100, present=0.0)))
    assert d["face_visible"].score == 0
    assert d["camera_gaze"].score is d["head_stability"].score is d["smile"].score is None


def test_answers_add_up_to_session_level_signals() -> None:
    a = AnswerSignals(answer_s=30, words=80, speaking_s=30, pauses_s=(1.0,), face=_face(300))
    b = AnswerSignals(answer_s=60, words=120, speaking_s=50, latencies_s=(2.0,), face=_face(600), speech_signals=True)
    both = total([a, b])
    assert (both.answer_s, both.words, both.speaking_s) == (90, 200, 80)
    assert both.face.samples == 900 and both.pauses_s == (1.0,) and both.latencies_s == (2.0,)
    assert both.speech_signals


def test_nothing_claims_emotion_or_fitness() -> None:
    s = AnswerSignals(answer_s=60, words=150, speaking_s=60, face=_face(600), latencies_s=(1.0,), pauses_s=(0.5,))
    text = " ".join(d.summary + " " + (d.note or "") for d in score_delivery(s)).lower()
    for word in ("confident", "nervous", "anxious", "happy", "personality", "hire", "emotion:"):
        assert word not in text
