"""Key moments: what counts, only inside answers, anchored to the response and word."""

from __future__ import annotations

from uuid import uuid4

from reports.model import AnswerReport, ResponseSpan
from reports.moments import EventRow, LookAway, find_moments


def _answer(seq: int, start_ms: int, end_ms: int) -> AnswerReport:
    words = tuple((f"w{i}", i * 0.5, i * 0.5 + 0.4) for i in range(int((end_ms - start_ms) / 500)))
    response = ResponseSpan(uuid4(), start_ms, end_ms, words)
    return AnswerReport(
        question_id=uuid4(), seq=seq, question="Q", source="bank", bank_question_id=None, category="behavioral",
        asked_ms=start_ms - 5000, responses=(response,), t_from_ms=start_ms, t_to_ms=end_ms,
        duration_s=(end_ms - start_ms) / 1000, words=len(words), final=True, rubric=None,
        rubric_missing_reason=None, delivery=(), example_answer=None,
    )  # fmt: skip


def _e(t_ms: int, kind: str, duration_ms: int | None = None, value: float | None = None, label: str | None = None) -> EventRow:
    return EventRow(t_ms, kind, duration_ms, value, label)


def test_long_pause_is_anchored_to_the_response_and_word() -> None:
    a = _answer(1, 10_000, 70_000)
    (pause, recovery) = find_moments([a], [_e(20_000, "pause", 3500)], [])
    assert pause.kind == "long_pause" and pause.duration_ms == 3500
    assert (pause.question_seq, pause.question_id, pause.response_id) == (1, a.question_id, a.responses[0].id)
    assert pause.offset_s == 10.0 and pause.word_index == 20
    assert recovery.kind == "recovery" and recovery.t_ms == 23_500


def test_short_pauses_and_moments_outside_answers_are_left_out() -> None:
    a = _answer(1, 10_000, 40_000)
    events = [_e(15_000, "pause", 1200), _e(50_000, "pause", 6000)]
    assert find_moments([a], events, [LookAway(45_000, 55_000, 100, 100)]) == ()


def test_look_away_streak_is_clipped_to_the_answer() -> None:
    a = _answer(2, 10_000, 40_000)
    (m, *_) = find_moments([a], [], [LookAway(35_000, 50_000, 150, 20)])
    assert m.kind == "look_away" and m.t_ms == 35_000 and m.duration_ms == 5000
    assert "looking away" in m.title
    (m2, *_) = find_moments([a], [], [LookAway(12_000, 20_000, 80, 80)])
    assert "out of the frame" in m2.title


def test_filler_burst_needs_three_within_ten_seconds_and_ignores_hedges() -> None:
    a = _answer(1, 0, 60_000)
    burst = [_e(5_000, "filler", label="um"), _e(8_000, "filler", label="uh"), _e(12_000, "filler", label="like")]
    spread = [_e(30_000, "filler", label="um"), _e(45_000, "filler", label="um"), _e(46_000, "filler", label="kind of"),
              _e(47_000, "filler", label="sort of")]  # fmt: skip
    kinds = [m.kind for m in find_moments([a], burst + spread, [])]
    assert kinds.count("filler_burst") == 1


def test_pace_spike_once_per_run_above_the_threshold() -> None:
    a = _answer(1, 0, 120_000)
    values = [140, 200, 205, 150, 190, 140, 145, 150, 140]  # median 150: a spike is 187.5 or more
    readings = [_e(10_000 * (i + 1), "wpm", value=v) for i, v in enumerate(values)]
    spikes = [m for m in find_moments([a], readings, []) if m.kind == "pace_spike"]
    assert [m.t_ms for m in spikes] == [20_000, 50_000]


def test_no_recovery_when_trouble_continues() -> None:
    a = _answer(1, 0, 60_000)
    events = [_e(10_000, "pause", 3000), _e(16_000, "pause", 3200), _e(21_000, "pause", 3100)]
    moments = find_moments([a], events, [])
    recoveries = [m for m in moments if m.kind == "recovery"]
    assert [m.t_ms for m in recoveries] == [24_100]
