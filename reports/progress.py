"""Progress over a user's sessions: history, trends, the last session against the one before,
a weekly practice plan from the weakest areas, aggregates, and insights.

Everything here reads the stored scorecard summaries (session_scorecards); the overall of each
session is recomputed from its dimension scores with the weights in force.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from db.progress import HistoryRow
from reports.delivery import METRIC_LABELS
from reports.drills import DRILLS_BY_ID, Drill, drills_for, drills_for_dimension
from reports.scorecard import (
    COMPOSURE_WEIGHTS,
    DIMENSION_LABELS,
    DIMENSIONS,
    FLUENCY_METRICS,
    RELEVANCE_RUBRIC,
    STRUCTURE_RUBRIC,
    overall_from,
    rubric_label,
)
from scoring.labels import round_type_phrase

TREND_SESSIONS = 10
STEADY_SLOPE = 1.0  # points per session below which a trend is "steady"
PLAN_LOOKBACK = 3
TRACKED_DELIVERY = ("pace", "fillers", "pauses", "response_latency", "camera_gaze")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One session in the history."""

    session_id: UUID
    at: datetime
    role_track: str
    round_type: str
    status: str
    overall: int | None
    dimensions: dict[str, int | None]
    answers_scored: int


@dataclass(frozen=True, slots=True)
class TrendPoint:
    session_id: UUID
    at: datetime
    score: int


@dataclass(frozen=True, slots=True)
class Trend:
    """One dimension (or the overall) over the recent scored sessions."""

    dimension: str
    label: str
    points: tuple[TrendPoint, ...]
    latest: int | None
    average: float | None
    best: int | None
    slope_per_session: float | None
    direction: str  # improving | steady | declining | not_enough_data


@dataclass(frozen=True, slots=True)
class Change:
    """How one score moved from the previous session to the latest."""

    name: str
    label: str
    previous: float | None
    latest: float | None
    delta: float | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """The latest scored session against the one before it."""

    latest_session_id: UUID
    previous_session_id: UUID
    overall: Change
    dimensions: tuple[Change, ...]
    delivery: tuple[Change, ...]
    summary: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlanDay:
    """One day of the weekly plan."""

    day: int
    kind: str  # drill | mock_interview | review
    focus: str | None  # a scorecard dimension
    title: str
    minutes: int
    drill_id: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class CategoryAverage:
    category: str
    average: float
    best: int
    answers: int
    sessions: int


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Per-user totals."""

    sessions: int
    completed: int
    scored: int
    practice_minutes: float
    best_overall: int | None
    average_overall: float | None
    categories: tuple[CategoryAverage, ...]


@dataclass(frozen=True, slots=True)
class Progress:
    """Everything on the progress page."""

    history: tuple[HistoryEntry, ...]
    trends: tuple[Trend, ...]
    comparison: Comparison | None
    weekly_plan: tuple[PlanDay, ...]
    focus: tuple[str, ...]  # the weakest dimensions the plan works on
    aggregates: Aggregates


@dataclass(frozen=True, slots=True)
class Insight:
    """A pattern across sessions, with the numbers behind it."""

    kind: str
    title: str
    detail: str
    dimension: str | None
    evidence: dict[str, Any]
    drill_id: str | None


def _entry(row: HistoryRow, weights: Mapping[str, float]) -> HistoryEntry:
    dims = {d: (row.dimensions or {}).get(d) for d in DIMENSIONS}
    return HistoryEntry(
        session_id=row.session_id,
        at=row.started_at or row.created_at,
        role_track=row.role_track,
        round_type=row.round_type,
        status=row.status,
        overall=overall_from(dims, weights) if row.dimensions is not None else None,
        dimensions=dims,
        answers_scored=row.answers_scored or 0,
    )


def _slope(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    xs = range(len(values))
    mx, my = statistics.fmean(xs), statistics.fmean(values)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True)) / den


def _trend(name: str, label: str, points: Sequence[TrendPoint]) -> Trend:
    scores = [p.score for p in points]
    slope = _slope(scores)
    if slope is None:
        direction = "not_enough_data"
    elif slope >= STEADY_SLOPE:
        direction = "improving"
    elif slope <= -STEADY_SLOPE:
        direction = "declining"
    else:
        direction = "steady"
    return Trend(
        dimension=name,
        label=label,
        points=tuple(points),
        latest=scores[-1] if scores else None,
        average=round(statistics.fmean(scores), 1) if scores else None,
        best=max(scores) if scores else None,
        slope_per_session=None if slope is None else round(slope, 2),
        direction=direction,
    )


def _change(name: str, label: str, previous: float | None, latest: float | None) -> Change:
    delta = None if previous is None or latest is None else round(latest - previous, 1)
    return Change(name, label, previous, latest, delta)


def _delivery_score(row: HistoryRow, metric: str) -> float | None:
    item = (row.delivery or {}).get(metric) or {}
    return item.get("score")


def _comparison(scored: Sequence[tuple[HistoryRow, HistoryEntry]]) -> Comparison | None:
    if len(scored) < 2:
        return None
    (prev_row, prev), (last_row, last) = scored[-2], scored[-1]
    dims = tuple(
        _change(d, DIMENSION_LABELS[d], prev.dimensions.get(d), last.dimensions.get(d)) for d in DIMENSIONS
    )
    delivery = tuple(
        _change(m, METRIC_LABELS[m], _delivery_score(prev_row, m), _delivery_score(last_row, m))
        for m in TRACKED_DELIVERY
    )
    overall = _change("overall", "Overall", prev.overall, last.overall)
    summary: list[str] = []
    if overall.delta is not None:
        verb = "up" if overall.delta > 0 else "down" if overall.delta < 0 else "unchanged"
        summary.append(
            f"Overall {last.overall}, {verb}"
            + (f" {abs(overall.delta):g} points" if overall.delta else "")
            + " from the session before."
        )
    moved = sorted((c for c in dims + delivery if c.delta), key=lambda c: -abs(c.delta))
    for c in moved[:3]:
        summary.append(f"{c.label}: {c.previous:g} → {c.latest:g} ({c.delta:+g}).")
    return Comparison(last.session_id, prev.session_id, overall, dims, delivery, tuple(summary))


def _weakest_target(dimension: str, rows: Sequence[HistoryRow]) -> str | None:
    """The weakest delivery metric (communication, composure) or rubric dimension of an area."""
    if dimension in ("communication", "composure"):
        metrics = FLUENCY_METRICS if dimension == "communication" else tuple(COMPOSURE_WEIGHTS)
        averages = {}
        for m in metrics:
            values = [s for r in rows if (s := _delivery_score(r, m)) is not None]
            if values:
                averages[m] = statistics.fmean(values)
        return min(averages, key=averages.get) if averages else None
    names = STRUCTURE_RUBRIC if dimension == "structure" else RELEVANCE_RUBRIC
    averages = {}
    for name in names:
        values = [float(r.rubric[name]) for r in rows if r.rubric and name in r.rubric]
        if values:
            averages[name] = statistics.fmean(values)
    return min(averages, key=averages.get) if averages else None


def _drills_for_focus(dimension: str, target: str | None) -> list[Drill]:
    picked = (drills_for(target) if target else []) + drills_for_dimension(dimension)
    seen: set[str] = set()
    return [d for d in picked if not (d.id in seen or seen.add(d.id))]


STARTER_FOCUS = ("structure", "communication", "composure")


def weekly_plan(
    scored: Sequence[tuple[HistoryRow, HistoryEntry]],
) -> tuple[tuple[str, ...], tuple[PlanDay, ...]]:
    """Seven days drawn from the weakest dimensions of the last few scored sessions."""
    recent = scored[-PLAN_LOOKBACK:]
    averages: dict[str, float] = {}
    for d in DIMENSIONS:
        values = [e.dimensions[d] for _, e in recent if e.dimensions.get(d) is not None]
        if values:
            averages[d] = statistics.fmean(values)
    focus = tuple(sorted(averages, key=lambda d: (averages[d], d))[:3]) or STARTER_FOCUS
    rows = [r for r, _ in recent]
    categories: dict[str, list[float]] = {}
    for r in rows:
        for c, item in (r.categories or {}).items():
            categories.setdefault(c, []).append(float(item.get("average", 0)))
    weakest_category = min(categories, key=lambda c: statistics.fmean(categories[c])) if categories else None

    def why(dimension: str, target: str | None) -> str:
        score = averages.get(dimension)
        label = DIMENSION_LABELS[dimension]
        if score is None:
            where = f"{label} is a good place to start"
        else:
            where = f"{label} averaged {score:.0f} over your last sessions"
        if target:
            where += f"; weakest part: {METRIC_LABELS.get(target, rubric_label(target)).lower()}"
        return where + "."

    first, second = focus[0], focus[1 % len(focus)]
    third = focus[2 % len(focus)]
    t1, t2, t3 = (_weakest_target(f, rows) for f in (first, second, third))
    d1, d2, d3 = _drills_for_focus(first, t1), _drills_for_focus(second, t2), _drills_for_focus(third, t3)

    def drill_day(day: int, focus_dim: str, drills: list[Drill], k: int, target: str | None) -> PlanDay:
        drill = drills[k % len(drills)] if drills else DRILLS_BY_ID["star-skeleton"]
        return PlanDay(day, "drill", focus_dim, drill.title, drill.minutes, drill.id, why(focus_dim, target))

    mock_round = weakest_category or "behavioral"
    days = (
        drill_day(1, first, d1, 0, t1),
        drill_day(2, second, d2, 0, t2),
        PlanDay(3, "mock_interview", first, f"10-minute {round_type_phrase(mock_round)} practice interview", 10, None,
                "A short session to try day 1's drill under interview conditions."),
        drill_day(4, first, d1, 1, t1),
        drill_day(5, third, d3, 0, t3),
        PlanDay(6, "mock_interview", None, "Full practice interview", 30, None,
                "A full session; compare its report with this week's first one."),
        PlanDay(7, "review", None, "Review your key moments", 15, None,
                "Open your latest report's key moments and re-answer the two lowest-scored questions aloud."),
    )  # fmt: skip
    return focus, days


def build_progress(
    rows: Sequence[HistoryRow],
    weights: Mapping[str, float],
    counts: Mapping[str, Any],
    categories: Sequence[Mapping[str, Any]],
) -> Progress:
    """History, trends, comparison, plan and aggregates from a user's sessions (oldest first)."""
    entries = [_entry(r, weights) for r in rows]
    scored = [(r, e) for r, e in zip(rows, entries, strict=True) if r.dimensions is not None and e.overall is not None]
    recent = scored[-TREND_SESSIONS:]
    trends = [
        _trend("overall", "Overall", [TrendPoint(e.session_id, e.at, e.overall) for _, e in recent])
    ] + [
        _trend(
            d,
            DIMENSION_LABELS[d],
            [TrendPoint(e.session_id, e.at, e.dimensions[d]) for _, e in recent if e.dimensions[d] is not None],
        )
        for d in DIMENSIONS
    ]
    overalls = [e.overall for _, e in scored]
    focus, plan = weekly_plan(scored)
    return Progress(
        history=tuple(reversed(entries)),
        trends=tuple(trends),
        comparison=_comparison(scored),
        weekly_plan=plan,
        focus=focus,
        aggregates=Aggregates(
            sessions=int(counts.get("sessions", 0)),
            completed=int(counts.get("completed", 0)),
            scored=len(scored),
            practice_minutes=round(float(counts.get("practice_s", 0.0)) / 60.0, 1),
            best_overall=max(overalls) if overalls else None,
            average_overall=round(statistics.fmean(overalls), 1) if overalls else None,
            categories=tuple(
                CategoryAverage(
                    category=c["category"],
                    average=round(c["average"], 1),
                    best=c["best"],
                    answers=c["answers"],
                    sessions=c["sessions"],
                )
                for c in categories
            ),
        ),
    )


def _category(row: Mapping[str, Any]) -> str:
    return round_type_phrase(str(row["category"]))


def build_insights(
    rows: Sequence[HistoryRow],
    weights: Mapping[str, float],
    categories: Sequence[Mapping[str, Any]],
    rubric_averages: Sequence[Mapping[str, Any]],
    fillers: Sequence[Mapping[str, Any]],
) -> tuple[Insight, ...]:
    """Patterns across the user's recent sessions, each with its evidence."""
    entries = [_entry(r, weights) for r in rows]
    scored = [(r, e) for r, e in zip(rows, entries, strict=True) if e.overall is not None]
    out: list[Insight] = []

    if fillers:
        top = fillers[0]
        drill = drills_for("fillers")[0]
        out.append(
            Insight(
                kind="filler_words",
                title=f"Your most frequent filler is “{top['label']}”",
                detail=f"Heard {top['count']} times across {top['sessions']} recent session(s).",
                dimension="communication",
                evidence={"fillers": [dict(f) for f in fillers]},
                drill_id=drill.id,
            )
        )

    if rubric_averages:
        weakest = min(rubric_averages, key=lambda r: r["average"])
        picks = drills_for(weakest["dimension"])
        out.append(
            Insight(
                kind="weakest_rubric_dimension",
                title=f"{rubric_label(weakest['dimension']).capitalize()} is your lowest rubric area",
                detail=(
                    f"Averaged {weakest['average']:.0f} over {weakest['answers']} "
                    f"{round_type_phrase(weakest['category'])} answer(s) in your recent sessions."
                ),
                dimension=None,
                evidence={"rubric": [dict(r) for r in rubric_averages[:5]]},
                drill_id=picks[0].id if picks else None,
            )
        )

    if len(categories) >= 2:
        best = max(categories, key=lambda c: c["average"])
        worst = min(categories, key=lambda c: c["average"])
        out.append(
            Insight(
                kind="categories",
                title=f"Strongest in {_category(best)}, weakest in {_category(worst)}",
                detail=f"Answer scores average {best['average']:.0f} and {worst['average']:.0f} respectively.",
                dimension=None,
                evidence={"categories": [dict(c) for c in categories]},
                drill_id=None,
            )
        )

    recent = scored[-TREND_SESSIONS:]
    for metric in ("pace", "fillers", "response_latency"):
        values = [
            (e.session_id, v)
            for r, e in recent
            if (v := ((r.delivery or {}).get(metric) or {}).get("value")) is not None
        ]
        if len(values) >= 3:
            first, last = values[0][1], values[-1][1]
            unit = {"pace": "wpm", "fillers": "per 100 words", "response_latency": "s"}[metric]
            out.append(
                Insight(
                    kind=f"{metric}_trend",
                    title=f"{METRIC_LABELS[metric]}: {first:.1f} → {last:.1f} {unit}",
                    detail=f"Measured over your last {len(values)} scored sessions.",
                    dimension="communication" if metric != "response_latency" else "composure",
                    evidence={"sessions": [{"session_id": str(s), "value": v} for s, v in values]},
                    drill_id=None,
                )
            )

    overalls = [e.overall for _, e in recent]
    if len(overalls) >= 3:
        spread = statistics.pstdev(overalls)
        out.append(
            Insight(
                kind="consistency",
                title="Consistent scores" if spread < 6 else "Scores vary from session to session",
                detail=f"Your overall scores spread by ±{spread:.0f} points over {len(overalls)} sessions.",
                dimension=None,
                evidence={"overall": overalls},
                drill_id=None,
            )
        )

    if scored:
        weeks: dict[str, int] = {}
        for _, e in scored:
            year, week, _ = e.at.isocalendar()
            weeks[f"{year}-W{week:02d}"] = weeks.get(f"{year}-W{week:02d}", 0) + 1
        out.append(
            Insight(
                kind="practice_cadence",
                title=f"{len(scored)} scored session(s) over {len(weeks)} week(s)",
                detail="Two or three short sessions a week beat one long one.",
                dimension=None,
                evidence={"sessions_per_week": weeks},
                drill_id=None,
            )
        )
    return tuple(out)
