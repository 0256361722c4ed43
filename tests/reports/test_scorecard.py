"""The scorecard: weighted dimensions, their make-up, strengths, improvements and drills."""

from __future__ import annotations

from uuid import uuid4

import pytest

from reports.delivery import AnswerSignals, FaceAggregate, score_delivery
from reports.drills import DRILLS, DRILLS_BY_ID
from reports.model import AnswerReport, RubricResult
from reports.scorecard import DEFAULT_WEIGHTS, DIMENSIONS, build_scorecard, overall_from, validate_weights
from scoring.base import RUBRICS, DimensionScore


def _answer(seq: int, category: str, scores: dict[str, int], delivery: AnswerSignals | None = None) -> AnswerReport:
    dims = tuple(DimensionScore(d, scores.get(d, 70), f"reason for {d}") for d in RUBRICS[category])
    return AnswerReport(
        question_id=uuid4(), seq=seq, question=f"Question {seq}", source="bank", bank_question_id=None,
        category=category, asked_ms=0, responses=(), t_from_ms=0, t_to_ms=60_000, duration_s=60.0,
        words=150, final=True,
        rubric=RubricResult(category, round(sum(d.score for d in dims) / len(dims)), dims, "offline", None, (), (), None, None),
        rubric_missing_reason=None,
        delivery=score_delivery(delivery or AnswerSignals()),
        example_answer=None,
    )  # fmt: skip


def _good_delivery(**changes: object) -> AnswerSignals:
    face = FaceAggregate(600, 590, 500, 60, 590, 590 * 0.9, 590 * 0.81, 540.0)
    base = dict(answer_s=60.0, words=145, speaking_s=58.0, latencies_s=(1.5,), pauses_s=(0.5,) * 5, face=face,
                filler_labels=("um",), speech_signals=True)  # fmt: skip
    base.update(changes)
    return AnswerSignals(**base)


def test_weights_must_name_the_four_dimensions() -> None:
    assert validate_weights(DEFAULT_WEIGHTS) == DEFAULT_WEIGHTS
    for bad in ({"communication": 1}, {**DEFAULT_WEIGHTS, "charisma": 5}, {**DEFAULT_WEIGHTS, "composure": -1},
                dict.fromkeys(DIMENSIONS, 0.0)):  # fmt: skip
        with pytest.raises(ValueError):
            validate_weights(bad)


def test_overall_is_the_weighted_mean_and_renormalises_missing_dimensions() -> None:
    w = DEFAULT_WEIGHTS
    assert overall_from({"communication": 80, "composure": 60, "structure": 70, "relevance": 50}, w) == round(
        (80 * 30 + 60 * 25 + 70 * 25 + 50 * 20) / 100
    )
    assert overall_from({"communication": 80, "composure": None, "structure": 60, "relevance": None}, w) == round(
        (80 * 30 + 60 * 25) / 55
    )
    assert overall_from(dict.fromkeys(DIMENSIONS), w) is None


def test_dimensions_map_from_rubric_and_delivery() -> None:
    behavioral = _answer(1, "behavioral", {"situation": 90, "task": 90, "result": 90, "action": 40}, _good_delivery())
    card = build_scorecard([behavioral], score_delivery(_good_delivery()), DEFAULT_WEIGHTS)
    dims = {d.dimension: d for d in card.dimensions}
    assert dims["structure"].score == 90  # situation, task, result
    assert dims["relevance"].score == 65  # action, result
    assert {c.name for c in dims["composure"].contributors} == {"response_latency", "camera_gaze", "head_stability", "face_visible"}
    assert {c.name for c in dims["communication"].contributors} == {"pace", "fillers", "pauses"}
    assert all(d.band_low <= d.score <= d.band_high for d in card.dimensions)
    assert card.overall == overall_from({d.dimension: d.score for d in card.dimensions}, DEFAULT_WEIGHTS)
    assert all(d.definition for d in card.dimensions)


def test_categories_without_structure_dimensions_count_their_overall() -> None:
    technical = _answer(1, "technical", {"accuracy": 50, "depth": 50, "trade_offs": 50, "communication": 90})
    card = build_scorecard([technical], score_delivery(AnswerSignals()), DEFAULT_WEIGHTS)
    dims = {d.dimension: d for d in card.dimensions}
    assert dims["structure"].score == technical.rubric.overall
    assert dims["structure"].contributors[0].source == "answer_overall"
    assert dims["communication"].score == 90  # no speech: the rubric's communication alone
    assert dims["composure"].score is None
    assert card.overall is not None


def test_smile_counts_toward_nothing() -> None:
    d = _good_delivery()
    no_smile = _good_delivery(face=FaceAggregate(600, 590, 500, 0, 590, 590 * 0.9, 590 * 0.81, 540.0))
    a = build_scorecard([_answer(1, "behavioral", {})], score_delivery(d), DEFAULT_WEIGHTS)
    b = build_scorecard([_answer(1, "behavioral", {})], score_delivery(no_smile), DEFAULT_WEIGHTS)
    assert a.overall == b.overall and a.dimensions == b.dimensions


def test_strengths_improvements_and_drills_point_at_the_weak_spots() -> None:
    slow_fillers = _good_delivery(filler_labels=("um",) * 15, latencies_s=(9.0,))
    answers = [
        _answer(1, "behavioral", {"situation": 85, "task": 90, "action": 85, "result": 30}, slow_fillers),
        _answer(2, "behavioral", {"situation": 80, "task": 85, "action": 80, "result": 40}, slow_fillers),
    ]
    card = build_scorecard(answers, score_delivery(AnswerSignals() + slow_fillers + slow_fillers), DEFAULT_WEIGHTS)
    assert 1 <= len(card.strengths) <= 3 and 1 <= len(card.improvements) <= 3
    assert all(f.score >= (80 if f.source == "rubric" else 70) for f in card.strengths)
    assert all(f.score < (80 if f.source == "rubric" else 70) for f in card.improvements)
    areas = {f.area for f in card.improvements}
    assert "result" in areas and "fillers" in areas
    result = next(f for f in card.improvements if f.area == "result")
    assert [e.question_seq for e in result.evidence] == [1, 2]
    assert "reason for result" in result.evidence[0].detail
    drills = {p.drill.id for p in card.drills}
    assert "filler-pause-swap" in drills or "latency-opening-line" in drills
    assert len(card.drills) <= 3 and all(p.reason for p in card.drills)


def test_drill_catalogue_is_consistent() -> None:
    assert len(DRILLS_BY_ID) == len(DRILLS)
    assert {d.dimension for d in DRILLS} == set(DIMENSIONS)
    assert all(d.steps and d.minutes > 0 for d in DRILLS)


def test_rubric_strengths_start_at_the_strong_band_and_delivery_at_70() -> None:
    adequate = _answer(1, "behavioral", {"situation": 74, "task": 74, "action": 74, "result": 74})
    card = build_scorecard([adequate], score_delivery(AnswerSignals()), DEFAULT_WEIGHTS)
    assert not [f for f in card.strengths if f.source == "rubric"]  # adequate, not strong
    assert {f.area for f in card.improvements if f.source == "rubric"} <= set(RUBRICS["behavioral"])
    strong = _answer(1, "behavioral", {"situation": 84, "task": 84, "action": 84, "result": 84})
    card = build_scorecard([strong], score_delivery(AnswerSignals()), DEFAULT_WEIGHTS)
    assert [f for f in card.strengths if f.source == "rubric"]


def test_the_rubric_band_widens_with_the_evaluators_own_uncertainty() -> None:
    import dataclasses

    def with_band(answer, half):
        rubric = dataclasses.replace(answer.rubric, band_low=answer.rubric.overall - half, band_high=answer.rubric.overall + half)
        return dataclasses.replace(answer, rubric=rubric)

    answer = _answer(1, "technical", {})  # every dimension 70
    sure = build_scorecard([with_band(answer, 4)], score_delivery(AnswerSignals()), DEFAULT_WEIGHTS)
    unsure = build_scorecard([with_band(answer, 16)], score_delivery(AnswerSignals()), DEFAULT_WEIGHTS)
    width = {d.dimension: (d.band_high - d.band_low) for d in sure.dimensions if d.score is not None}
    wide = {d.dimension: (d.band_high - d.band_low) for d in unsure.dimensions if d.score is not None}
    assert width["structure"] == 10  # never under ±5
    assert wide["structure"] == 32 and wide["relevance"] == 32
