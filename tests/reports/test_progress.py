"""Progress from stored scorecards: trends, comparison, the weekly plan and insights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from db.progress import HistoryRow
from reports.drills import DRILLS_BY_ID
from reports.progress import build_insights, build_progress
from reports.scorecard import DEFAULT_WEIGHTS

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _row(day: int, dims: dict[str, int] | None, *, fillers: float = 40, pace: float = 150.0, status: str = "completed") -> HistoryRow:
    return HistoryRow(
        session_id=uuid4(), role_track="general", round_type="behavioral", status=status, duration_min=20,
        created_at=T0 + timedelta(days=day), started_at=T0 + timedelta(days=day),
        ended_at=T0 + timedelta(days=day, minutes=20),
        dimensions=dims,
        delivery=None if dims is None else {
            "pace": {"score": 90, "value": pace}, "fillers": {"score": fillers, "value": 6.0},
            "pauses": {"score": 80, "value": 0.5}, "response_latency": {"score": 95, "value": 1.5},
            "camera_gaze": {"score": 70, "value": 0.5}, "head_stability": {"score": 85, "value": 0.8},
            "face_visible": {"score": 100, "value": 0.99},
        },
        categories=None if dims is None else {"behavioral": {"average": 60.0, "answers": 4}},
        rubric=None if dims is None else {"situation": 70.0, "result": 40.0, "action": 65.0},
        answers_scored=0 if dims is None else 4,
    )  # fmt: skip


def _dims(c: int, co: int, s: int, r: int) -> dict[str, int]:
    return {"communication": c, "composure": co, "structure": s, "relevance": r}


def test_trends_comparison_and_aggregates() -> None:
    rows = [_row(0, _dims(50, 70, 60, 55)), _row(2, _dims(60, 71, 62, 58)), _row(4, _dims(70, 70, 66, 60)),
            _row(5, None, status="live")]  # fmt: skip
    progress = build_progress(rows, DEFAULT_WEIGHTS, {"sessions": 4, "completed": 3, "practice_s": 3600}, [])
    assert [h.session_id for h in progress.history] == [r.session_id for r in reversed(rows)]
    trends = {t.dimension: t for t in progress.trends}
    assert trends["communication"].direction == "improving" and trends["communication"].slope_per_session == 10
    assert trends["composure"].direction == "steady"
    assert trends["overall"].latest == progress.history[1].overall
    c = progress.comparison
    assert c.latest_session_id == rows[2].session_id and c.previous_session_id == rows[1].session_id
    assert {x.name: x.delta for x in c.dimensions}["communication"] == 10
    assert c.summary[0].startswith(f"Overall {progress.history[1].overall}, up")
    a = progress.aggregates
    assert (a.sessions, a.completed, a.scored, a.practice_minutes) == (4, 3, 3, 60.0)
    assert a.best_overall == max(h.overall for h in progress.history if h.overall is not None)


def test_weights_change_the_overall_at_read_time() -> None:
    rows = [_row(0, _dims(90, 10, 10, 10))]
    only_comm = {"communication": 1.0, "composure": 0.0, "structure": 0.0, "relevance": 0.0}
    assert build_progress(rows, only_comm, {}, []).history[0].overall == 90
    assert build_progress(rows, DEFAULT_WEIGHTS, {}, []).history[0].overall == 34


def test_weekly_plan_works_on_the_weakest_dimensions() -> None:
    rows = [_row(0, _dims(40, 80, 55, 70)), _row(1, _dims(45, 85, 50, 75))]
    progress = build_progress(rows, DEFAULT_WEIGHTS, {}, [])
    assert progress.focus == ("communication", "structure", "relevance")
    days = progress.weekly_plan
    assert [d.day for d in days] == list(range(1, 8))
    assert days[0].focus == "communication" and days[0].drill_id == "filler-pause-swap"  # fillers weakest
    assert days[1].focus == "structure" and "result" in DRILLS_BY_ID[days[1].drill_id].targets
    assert "averaged 42" in days[0].detail
    assert [d.kind for d in days].count("mock_interview") == 2 and days[-1].kind == "review"


def test_plan_without_any_session_is_a_starter_plan() -> None:
    progress = build_progress([], DEFAULT_WEIGHTS, {}, [])
    assert len(progress.weekly_plan) == 7 and progress.focus == ("structure", "communication", "composure")
    assert progress.comparison is None and all(t.direction == "not_enough_data" for t in progress.trends)


def test_insights_carry_their_evidence() -> None:
    rows = [_row(d, _dims(60 + d, 70, 60, 60), pace=170 - 5 * d) for d in (0, 1, 8)]
    insights = build_insights(
        rows,
        DEFAULT_WEIGHTS,
        [{"category": "behavioral", "average": 71.0, "best": 90, "answers": 6, "sessions": 2},
         {"category": "technical", "average": 52.0, "best": 60, "answers": 3, "sessions": 1}],
        [{"category": "behavioral", "dimension": "result", "average": 41.0, "answers": 6}],
        [{"label": "um", "count": 12, "sessions": 3}],
    )  # fmt: skip
    by_kind = {i.kind: i for i in insights}
    assert by_kind["filler_words"].title == "Your most frequent filler is “um”"
    assert by_kind["weakest_rubric_dimension"].drill_id in {"star-skeleton", "quantify-results"}
    assert "technical" in by_kind["categories"].title
    assert by_kind["pace_trend"].title == "Pace: 170.0 → 130.0 wpm"
    assert by_kind["practice_cadence"].evidence == {"sessions_per_week": {"2025-W10": 2, "2025-W11": 1}}
    for i in insights:
        for word in ("nervous", "confident", "personality", "hire"):
            assert word not in (i.title + i.detail).lower()
