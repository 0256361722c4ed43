"""The session scorecard: four weighted dimensions built from delivery and rubric scores.

How each dimension is made (weights in the overall are settings, `report_weights`; the
defaults are communication 30, composure 25, structure 25, relevance 20):

- communication: 60% speech fluency, the mean of the session's pace, fillers and pause-profile
  delivery scores; 40% the mean of the rubric dimensions `communication` and `professionalism`
  over the answers that have them. With no such rubric dimension, fluency alone.
- composure: observable steadiness on camera and at the start of answers, not a feeling:
  response latency 35%, looking toward the camera 25%, head stability 25%, face visible 15%.
  The smile ratio is shown but counts toward nothing.
- structure: per answer, the mean of its rubric dimensions about shape
  (STRUCTURE_RUBRIC: situation, task, result, structure, requirements, high_level_design,
  recommendation); an answer whose rubric has none counts its overall. Then the mean over
  answers.
- relevance: the same over the dimensions about substance (RELEVANCE_RUBRIC: action, result,
  accuracy, depth, trade_offs, deep_dive, scalability, analysis, quantification,
  critical_thinking, ethical_reasoning).

Strengths are measures (a delivery metric over the session at 70 or more, or a rubric
dimension averaged over answers in the strong band, 80 or more), improvements the lowest under
those lines, three of each at most, each with the answers that show it best. A delivery
measure whose band reaches 20 points across the line is too unsure to call either way and is
left out, as is a facial cue of low confidence.
Drills go to the two weakest dimensions, aimed at each one's weakest input.

A dimension with nothing to measure it by is left out and the remaining weights are
renormalised. The overall is the weighted mean of the dimensions; its band is the weighted mean
of theirs. Delivery bands come from delivery.py; a rubric-based band is the mean ± 1.96 standard
errors over answers, and at least the evaluator's own uncertainty: the half-widths of the bands
it gave the answers, combined as independent errors (±5 for an answer scored without a band),
and never under ±5.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reports.delivery import FACIAL_METRICS, METRIC_LABELS, DeliveryScore
from reports.drills import DRILLS_BY_ID, drills_for, drills_for_dimension
from reports.model import (
    AnswerReport,
    Contributor,
    DimensionResult,
    DrillPick,
    Evidence,
    Finding,
    Scorecard,
)
from scoring.calibration import BAND_FLOORS

DIMENSIONS: tuple[str, ...] = ("communication", "composure", "structure", "relevance")
DEFAULT_WEIGHTS: dict[str, float] = {
    "communication": 30.0,
    "composure": 25.0,
    "structure": 25.0,
    "relevance": 20.0,
}
DIMENSION_LABELS = {
    "communication": "Communication",
    "composure": "Composure",
    "structure": "Structure",
    "relevance": "Relevance",
}
DEFINITIONS = {
    "communication": "60% speech fluency (pace, fillers, pauses) + 40% the rubric's communication "
    "and professionalism scores where the question has them.",
    "composure": "Observable steadiness: response latency 35%, looking toward the camera 25%, "
    "head stability 25%, face visible 15%. Not a judgement of how you felt.",
    "structure": "Rubric dimensions about the answer's shape (situation, task, result, structure, "
    "requirements, high-level design, recommendation), averaged over answers.",
    "relevance": "Rubric dimensions about substance (action, result, accuracy, depth, trade-offs, "
    "analysis, quantification, critical thinking, ethical reasoning), averaged over answers.",
}

FLUENCY_METRICS = ("pace", "fillers", "pauses")
FLUENCY_SHARE = 0.6
COMMUNICATION_RUBRIC = frozenset({"communication", "professionalism"})
COMPOSURE_WEIGHTS = {"response_latency": 0.35, "camera_gaze": 0.25, "head_stability": 0.25, "face_visible": 0.15}
STRUCTURE_RUBRIC = frozenset(
    {"situation", "task", "result", "structure", "requirements", "high_level_design", "recommendation"}
)
RELEVANCE_RUBRIC = frozenset(
    {
        "action", "result", "accuracy", "depth", "trade_offs", "deep_dive", "scalability",
        "analysis", "quantification", "critical_thinking", "ethical_reasoning",
    }
)  # fmt: skip
RUBRIC_MIN_HALF_BAND = 5.0  # for an answer whose evaluator gave no band
STRENGTH_MIN = 70  # delivery scores
RUBRIC_STRENGTH_MIN = BAND_FLOORS[0][1]  # rubric scores: the strong band of the calibrated scale
MAX_FINDINGS = 3
MAX_DRILLS = 3

_METRIC_DIMENSION = {
    "pace": "communication",
    "fillers": "communication",
    "pauses": "communication",
    "response_latency": "composure",
    "face_visible": "composure",
    "camera_gaze": "composure",
    "head_stability": "composure",
}
_STRENGTH_TITLES = {
    "pace": "A comfortable pace",
    "fillers": "Few fillers",
    "pauses": "Controlled pauses",
    "response_latency": "Prompt, considered starts",
    "face_visible": "Stayed in frame",
    "camera_gaze": "Eye contact with the camera",
    "head_stability": "Steady on camera",
}
_IMPROVEMENT_TITLES = {
    "fillers": "Cut the fillers",
    "pauses": "Shorten long pauses",
    "response_latency": "Start answers sooner",
    "face_visible": "Stay in the frame",
    "camera_gaze": "Look toward the camera on key points",
    "head_stability": "Keep your head steadier",
}


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights for exactly the four dimensions, none negative, not all zero."""
    if set(weights) != set(DIMENSIONS):
        raise ValueError(f"report weights must name exactly: {', '.join(DIMENSIONS)}")
    if any(w < 0 or not math.isfinite(w) for w in weights.values()):
        raise ValueError("report weights must be finite and not negative")
    if sum(weights.values()) <= 0:
        raise ValueError("report weights must not all be zero")
    return {d: float(weights[d]) for d in DIMENSIONS}


def rubric_label(dimension: str) -> str:
    return dimension.replace("_", " ")


def _weighted(items: Sequence[tuple[float, float]]) -> float | None:
    total = sum(w for _, w in items)
    return None if total <= 0 else sum(v * w for v, w in items) / total


@dataclass(frozen=True, slots=True)
class _Part:
    score: float
    low: float
    high: float
    contributors: tuple[Contributor, ...]


def _delivery_part(
    delivery: Mapping[str, DeliveryScore], weights: Mapping[str, float]
) -> _Part | None:
    used = [(delivery[m], w) for m, w in weights.items() if m in delivery and delivery[m].score is not None]
    if not used:
        return None
    score = _weighted([(d.score, w) for d, w in used])
    low = _weighted([(d.band_low, w) for d, w in used])
    high = _weighted([(d.band_high, w) for d, w in used])
    contributors = tuple(Contributor("delivery", d.metric, float(d.score), w) for d, w in used)
    return _Part(score, low, high, contributors)


def _answer_rubric_value(answer: AnswerReport, names: frozenset[str] | None) -> tuple[float, str] | None:
    """The mean of an answer's rubric dimensions in names (None: its overall), and its source."""
    if answer.rubric is None:
        return None
    if names is None:
        return float(answer.rubric.overall), "answer_overall"
    picked = [d.score for d in answer.rubric.dimensions if d.dimension in names]
    if not picked:
        return None
    return statistics.fmean(picked), "rubric"


def _evaluator_half_band(answer: AnswerReport) -> float:
    """Half the band the evaluator gave this answer's score (RUBRIC_MIN_HALF_BAND without one)."""
    rubric = answer.rubric
    if rubric is None or rubric.band_low is None or rubric.band_high is None:
        return RUBRIC_MIN_HALF_BAND
    return max(0.0, (rubric.band_high - rubric.band_low) / 2)


def _rubric_part(answers: Sequence[AnswerReport], names: frozenset[str], *, fallback_overall: bool) -> _Part | None:
    values: list[float] = []
    halves: list[float] = []
    contributors: list[Contributor] = []
    for a in answers:
        got = _answer_rubric_value(a, names)
        if got is None and fallback_overall:
            got = _answer_rubric_value(a, None)
        if got is None:
            continue
        values.append(got[0])
        halves.append(_evaluator_half_band(a))
        contributors.append(Contributor(got[1], f"Q{a.seq}", round(got[0], 1), 1.0))
    if not values:
        return None
    mean = statistics.fmean(values)
    # Errors partly shared between answers (the calibration's own) never average out below ±5.
    half = max(RUBRIC_MIN_HALF_BAND, math.sqrt(sum(h * h for h in halves)) / len(halves))
    if len(values) > 1:
        half = max(half, 1.96 * statistics.stdev(values) / math.sqrt(len(values)))
    return _Part(mean, max(0.0, mean - half), min(100.0, mean + half), tuple(contributors))


def _combine(parts: Sequence[tuple[_Part | None, float]]) -> _Part | None:
    present = [(p, w) for p, w in parts if p is not None]
    if not present:
        return None
    return _Part(
        _weighted([(p.score, w) for p, w in present]),
        _weighted([(p.low, w) for p, w in present]),
        _weighted([(p.high, w) for p, w in present]),
        tuple(c for p, _ in present for c in p.contributors),
    )


def dimension_parts(
    answers: Sequence[AnswerReport], delivery: Mapping[str, DeliveryScore]
) -> dict[str, _Part | None]:
    """Each scorecard dimension's score, band and contributors (None: nothing to go on)."""
    scored = [a for a in answers if a.rubric is not None]
    fluency = _delivery_part(delivery, {m: 1.0 for m in FLUENCY_METRICS})
    rubric_comm = _rubric_part(scored, COMMUNICATION_RUBRIC, fallback_overall=False)
    return {
        "communication": _combine([(fluency, FLUENCY_SHARE), (rubric_comm, 1.0 - FLUENCY_SHARE)]),
        "composure": _delivery_part(delivery, COMPOSURE_WEIGHTS),
        "structure": _rubric_part(scored, STRUCTURE_RUBRIC, fallback_overall=True),
        "relevance": _rubric_part(scored, RELEVANCE_RUBRIC, fallback_overall=True),
    }


def overall_from(dimensions: Mapping[str, float | None], weights: Mapping[str, float]) -> int | None:
    """The weighted overall of dimension scores, leaving out those with no score."""
    value = _weighted([(s, weights[d]) for d, s in dimensions.items() if s is not None and d in weights])
    return None if value is None else round(value)


# -- strengths, improvements, drills ---------------------------------------------


def _delivery_findings(
    answers: Sequence[AnswerReport], delivery: Mapping[str, DeliveryScore]
) -> list[Finding]:
    findings = []
    for metric, dimension in _METRIC_DIMENSION.items():
        d = delivery.get(metric)
        if d is None or d.score is None or (metric in FACIAL_METRICS and d.confidence == "low"):
            continue
        strong = d.score >= STRENGTH_MIN
        # Too unsure which side of the line it is on: say nothing rather than guess.
        if (strong and d.band_low < STRENGTH_MIN - 20) or (not strong and d.band_high >= STRENGTH_MIN + 20):
            continue
        per_answer = [
            (a, s) for a in answers for s in a.delivery if s.metric == metric and s.score is not None
        ]
        per_answer.sort(key=lambda pair: pair[1].score)
        shown = per_answer[-2:][::-1] if strong else per_answer[:2]
        evidence = tuple(
            Evidence(
                detail=f"Q{a.seq}: {s.summary}",
                question_seq=a.seq,
                question_id=a.question_id,
                value=s.value,
            )
            for a, s in shown
        )
        if strong:
            title = _STRENGTH_TITLES[metric]
        elif metric == "pace":
            title = "Slow down a little" if (d.value or 0) > 165 else "Pick up the pace a little"
        else:
            title = _IMPROVEMENT_TITLES[metric]
        note = " (facial cue: do not over-interpret)" if metric in FACIAL_METRICS else ""
        findings.append(
            Finding(
                area=metric,
                source="delivery",
                dimension=dimension,
                title=title,
                detail=f"{METRIC_LABELS[metric]}: {d.summary}{note}",
                score=d.score,
                evidence=evidence,
            )
        )
    return findings


def _rubric_dimension_of(name: str) -> str:
    if name in COMMUNICATION_RUBRIC:
        return "communication"
    if name in STRUCTURE_RUBRIC:
        return "structure"
    return "relevance"


def _rubric_findings(answers: Sequence[AnswerReport]) -> list[Finding]:
    by_name: dict[str, list[tuple[AnswerReport, int, str]]] = {}
    for a in answers:
        if a.rubric is None:
            continue
        for d in a.rubric.dimensions:
            by_name.setdefault(d.dimension, []).append((a, d.score, d.reason))
    findings = []
    for name, items in by_name.items():
        mean = round(statistics.fmean(score for _, score, _ in items))
        strong = mean >= RUBRIC_STRENGTH_MIN
        items.sort(key=lambda item: item[1], reverse=strong)
        evidence = tuple(
            Evidence(detail=f"Q{a.seq}: {reason}", question_seq=a.seq, question_id=a.question_id, value=score)
            for a, score, reason in items[:2]
        )
        label = rubric_label(name)
        findings.append(
            Finding(
                area=name,
                source="rubric",
                dimension=_rubric_dimension_of(name),
                title=f"Strong {label}" if strong else f"Work on {label}",
                detail=f"Rubric '{label}' averaged {mean} over {len(items)} answer(s).",
                score=mean,
                evidence=evidence,
            )
        )
    return findings


def _strength_min(finding: Finding) -> int:
    return RUBRIC_STRENGTH_MIN if finding.source == "rubric" else STRENGTH_MIN


def strengths_and_improvements(
    answers: Sequence[AnswerReport], delivery: Mapping[str, DeliveryScore]
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """The top strengths (delivery 70 or more, rubric 80 or more) and top improvements (the
    lowest under those lines), with evidence."""
    findings = _delivery_findings(answers, delivery) + _rubric_findings(answers)
    strengths = sorted((f for f in findings if f.score >= _strength_min(f)), key=lambda f: (-f.score, f.area))
    improvements = sorted((f for f in findings if f.score < _strength_min(f)), key=lambda f: (f.score, f.area))
    return tuple(strengths[:MAX_FINDINGS]), tuple(improvements[:MAX_FINDINGS])


def pick_drills(
    dimensions: Sequence[DimensionResult], improvements: Sequence[Finding]
) -> tuple[DrillPick, ...]:
    """Drills for the weakest dimensions, each aimed at that dimension's weakest input."""
    picks: list[DrillPick] = []
    chosen: set[str] = set()

    def add(drill_id: str, dimension: str, target: str, reason: str) -> None:
        if drill_id not in chosen and len(picks) < MAX_DRILLS:
            chosen.add(drill_id)
            picks.append(DrillPick(DRILLS_BY_ID[drill_id], dimension, target, reason))

    ranked = sorted((d for d in dimensions if d.score is not None), key=lambda d: d.score)
    for dim in ranked[:2]:
        weakest = min(dim.contributors, key=lambda c: c.score, default=None)
        target = weakest.name if weakest is not None and weakest.source == "delivery" else None
        if target is None:
            target = next((f.area for f in improvements if f.dimension == dim.dimension), dim.dimension)
        candidates = drills_for(target) or drills_for_dimension(dim.dimension)
        if candidates:
            shown = METRIC_LABELS.get(target, rubric_label(target))
            add(
                candidates[0].id,
                dim.dimension,
                target,
                f"{dim.label} scored {dim.score}; its weakest part is {shown.lower()}.",
            )
    for f in improvements:
        for drill in drills_for(f.area)[:1]:
            add(drill.id, f.dimension, f.area, f"{f.title}: scored {f.score}.")
    return tuple(picks)


def build_scorecard(
    answers: Sequence[AnswerReport],
    delivery: Sequence[DeliveryScore],
    weights: Mapping[str, float],
) -> Scorecard:
    """The scorecard of a session from its answers and its session-level delivery scores."""
    by_metric = {d.metric: d for d in delivery}
    parts = dimension_parts(answers, by_metric)
    dims = tuple(
        DimensionResult(
            dimension=name,
            label=DIMENSION_LABELS[name],
            score=None if part is None else round(part.score),
            band_low=None if part is None else math.floor(part.low),
            band_high=None if part is None else math.ceil(part.high),
            weight=weights[name],
            definition=DEFINITIONS[name],
            contributors=() if part is None else part.contributors,
        )
        for name, part in parts.items()
    )
    present = [(d, weights[d.dimension]) for d in dims if d.score is not None]
    overall = overall_from({d.dimension: d.score for d in dims}, weights)
    low = _weighted([(d.band_low, w) for d, w in present])
    high = _weighted([(d.band_high, w) for d, w in present])
    strengths, improvements = strengths_and_improvements(answers, by_metric)
    return Scorecard(
        overall=overall,
        band_low=None if low is None else math.floor(low),
        band_high=None if high is None else math.ceil(high),
        weights=dict(weights),
        dimensions=dims,
        delivery=tuple(delivery),
        strengths=strengths,
        improvements=improvements,
        drills=pick_drills(dims, improvements),
    )
