"""Building reports against a real database: scoring once, partial sessions, fallbacks, signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db import sessions as repo
from reports.builder import SETTLE_LIMIT_S, SETTLING_NOTE, ReportContext, build_report, offline_fallback
from reports.scorecard import DEFAULT_WEIGHTS
from reports.session_end import score_ended_session
from scoring.offline import OfflineEvaluator
from tests.reports.fakes import BankEntry, FakeBank, RecordingEvaluator, SelfFallingBackEvaluator, UnreachableLLMEvaluator
from tests.reports.seeding import T0, seed_session
from tests.users import make_user


def _ctx(evaluator, **changes) -> ReportContext:
    base = dict(weights=DEFAULT_WEIGHTS, bank=None, evaluator=evaluator, fallback=offline_fallback)
    base.update(changes)
    return ReportContext(**base)


async def _session(conn: asyncpg.Connection, **kwargs):
    user_id = await make_user(conn)
    seeded = await seed_session(conn, user_id, **kwargs)
    return seeded, await repo.get_session(conn, seeded.session_id)


async def test_answers_are_scored_once_and_kept(conn: asyncpg.Connection) -> None:
    seeded, session = await _session(conn)
    evaluator = RecordingEvaluator()
    first = await build_report(conn, session, _ctx(evaluator))
    again = await build_report(conn, session, _ctx(evaluator))
    assert len(evaluator.inputs) == 3
    assert [a.rubric.overall for a in first.answers] == [a.rubric.overall for a in again.answers]
    assert await conn.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session.id) == 3
    card = await conn.fetchrow("SELECT * FROM session_scorecards WHERE session_id = $1", session.id)
    assert card["answers_scored"] == 3
    assert card["dimensions"] == {d.dimension: d.score for d in first.scorecard.dimensions}
    assert not first.partial and all(a.final and a.rubric.scored_at for a in first.answers)
    # The evaluator saw the whole answer: both responses to Q1, in order.
    q1 = evaluator.inputs[0]
    assert q1.question.startswith("Tell me about a time") and q1.category == "behavioral"
    assert q1.answer.startswith("Last year") and q1.answer.endswith("with data.")
    # Its length is the two responses' (10-29.6 s and 31-50 s): the 1.4 s between them, when the
    # floor was not the candidate's, is not answer time.
    assert q1.answer_duration_s == pytest.approx(38.6)
    assert first.answers[0].duration_s == pytest.approx(38.6)


async def test_a_late_response_gets_its_answer_rescored(conn: asyncpg.Connection) -> None:
    seeded, session = await _session(conn)
    evaluator = RecordingEvaluator()
    await build_report(conn, session, _ctx(evaluator))
    await repo.add_response(conn, session.id, seeded.question_ids[0], "And we kept that process.",
                            T0 + timedelta(seconds=51), T0 + timedelta(seconds=53))  # fmt: skip
    await build_report(conn, session, _ctx(evaluator))
    assert len(evaluator.inputs) == 4 and evaluator.inputs[-1].answer.endswith("kept that process.")
    assert await conn.fetchval(
        "SELECT responses_scored FROM answer_scores WHERE question_id = $1", seeded.question_ids[0]
    ) == 3


async def test_a_live_session_gives_a_partial_report_without_keeping_the_open_answer(conn: asyncpg.Connection) -> None:
    seeded, session = await _session(conn, status="live")
    report = await build_report(conn, session, _ctx(OfflineEvaluator()))
    assert report.partial and report.notes[0].startswith("The session is still in progress")
    assert [a.final for a in report.answers] == [True, True, False]
    assert report.answers[2].rubric is not None and report.answers[2].rubric.scored_at is None
    stored = await conn.fetch("SELECT question_id FROM answer_scores WHERE session_id = $1", session.id)
    assert {r["question_id"] for r in stored} == set(seeded.question_ids[:2])
    assert await conn.fetchval("SELECT count(*) FROM session_scorecards WHERE session_id = $1", session.id) == 0

    await repo.mark_ended(conn, session.id, "completed", T0 + timedelta(seconds=160), "interview_finished")
    ended = await build_report(conn, session := await repo.get_session(conn, session.id), _ctx(OfflineEvaluator()))
    assert not ended.partial and all(a.final for a in ended.answers)
    assert await conn.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session.id) == 3


async def _ended_while_storing(conn: asyncpg.Connection):
    """A live session whose process holds its transcript open, ended just now."""
    _, session = await _session(conn, status="live")
    await repo.open_transcript(conn, session.id)
    ended_at = datetime.now(UTC)
    await repo.mark_ended(conn, session.id, "completed", ended_at, "ended_by_candidate")
    return await repo.get_session(conn, session.id), ended_at


async def test_an_ended_session_whose_last_answers_are_still_being_stored_is_not_final(conn: asyncpg.Connection) -> None:
    # The interview's process holds the transcript open until its last answers are stored
    # (each heard again whole): the report built in between is partial and keeps nothing.
    session, ended_at = await _ended_while_storing(conn)
    settling = await build_report(conn, session, _ctx(OfflineEvaluator()), now=ended_at + timedelta(seconds=5))
    assert settling.partial and settling.notes[0] == SETTLING_NOTE
    assert [a.final for a in settling.answers] == [True, True, False]
    assert await conn.fetchval("SELECT count(*) FROM session_scorecards WHERE session_id = $1", session.id) == 0

    await repo.close_transcript(conn, session.id)
    final = await build_report(conn, await repo.get_session(conn, session.id), _ctx(OfflineEvaluator()))
    assert not final.partial and all(a.final for a in final.answers)
    assert await conn.fetchval("SELECT count(*) FROM session_scorecards WHERE session_id = $1", session.id) == 1


async def test_scoring_at_the_end_is_left_to_the_process_still_storing_the_last_answers(conn: asyncpg.Connection) -> None:
    # LiveKit's webhook tells the API of the end before the job has stored the last answer: the
    # API's call scores nothing (the job scores once it has closed the transcript).
    session, _ = await _ended_while_storing(conn)
    assert not await score_ended_session(conn, session.id, _ctx(OfflineEvaluator()))
    assert await conn.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session.id) == 0
    await repo.close_transcript(conn, session.id)
    assert await score_ended_session(conn, session.id, _ctx(OfflineEvaluator()))
    assert await conn.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session.id) == 3
    assert await conn.fetchval("SELECT count(*) FROM session_scorecards WHERE session_id = $1", session.id) == 1


async def test_a_process_that_never_closes_its_transcript_is_waited_for_a_limited_time(conn: asyncpg.Connection) -> None:
    session, ended_at = await _ended_while_storing(conn)
    assert repo.transcript_settling(session, ended_at + timedelta(seconds=SETTLE_LIMIT_S - 1), SETTLE_LIMIT_S)
    report = await build_report(conn, session, _ctx(OfflineEvaluator()), now=ended_at + timedelta(seconds=SETTLE_LIMIT_S + 1))
    assert not report.partial and all(a.final for a in report.answers)
    # A live session is partial for being live, not for its transcript.
    live = await repo.get_session(conn, (await _session(conn, status="live"))[0].session_id)
    assert not repo.transcript_settling(live, datetime.now(UTC), SETTLE_LIMIT_S)


async def test_an_answer_stored_again_in_other_words_is_scored_again(conn: asyncpg.Connection) -> None:
    # An answer heard again whole replaces its live transcript under the same response: the
    # score of the old words is not kept for the new ones.
    seeded, session = await _session(conn)
    evaluator = RecordingEvaluator()
    await build_report(conn, session, _ctx(evaluator))
    await conn.execute(
        "UPDATE responses SET transcript = transcript || ' Um, and we kept that process.' WHERE id = $1",
        seeded.response_ids[0],
    )
    await build_report(conn, session, _ctx(evaluator))
    assert len(evaluator.inputs) == 4 and "Um, and we kept that process." in evaluator.inputs[-1].answer
    await build_report(conn, session, _ctx(evaluator))
    assert len(evaluator.inputs) == 4, "an answer whose words did not change was scored again"


async def test_an_evaluator_that_raises_falls_back_to_the_offline_one(conn: asyncpg.Connection) -> None:
    _, session = await _session(conn)
    report = await build_report(conn, session, _ctx(UnreachableLLMEvaluator()))
    for a in report.answers:
        assert a.rubric.evaluator == "offline"
        assert a.rubric.fallback_reason == "llm:test-model failed (ConnectionError)"
    row = await conn.fetchrow("SELECT evaluator, fallback_reason FROM answer_scores WHERE session_id = $1 LIMIT 1", session.id)
    assert tuple(row) == ("offline", "llm:test-model failed (ConnectionError)")


async def test_an_evaluators_own_fallback_is_kept_as_it_said(conn: asyncpg.Connection) -> None:
    _, session = await _session(conn)
    report = await build_report(conn, session, _ctx(SelfFallingBackEvaluator()))
    assert {a.rubric.fallback_reason for a in report.answers} == {"llm:test-model returned invalid JSON"}


async def test_with_no_fallback_the_answer_is_left_unscored_and_retried_later(conn: asyncpg.Connection) -> None:
    _, session = await _session(conn)
    report = await build_report(conn, session, _ctx(UnreachableLLMEvaluator(), fallback=None))
    assert all(a.rubric is None and "failed" in a.rubric_missing_reason for a in report.answers)
    assert await conn.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session.id) == 0
    assert report.scorecard.dimensions[0].score is not None  # delivery still scores communication
    retried = await build_report(conn, session, _ctx(OfflineEvaluator()))
    assert all(a.rubric is not None for a in retried.answers)


async def test_read_only_builds_score_nothing(conn: asyncpg.Connection) -> None:
    _, session = await _session(conn)
    report = await build_report(conn, session, _ctx(OfflineEvaluator()).read_only())
    assert all(a.rubric is None and a.rubric_missing_reason == "not scored yet" for a in report.answers)
    assert await conn.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", session.id) == 0


async def test_category_time_limit_and_example_come_from_the_bank(conn: asyncpg.Connection, monkeypatch) -> None:
    bank = FakeBank(BankEntry("tech-hash-map", "technical", 180, "A hash map stores key-value pairs..."))
    _, session = await _session(conn, round_type="mixed", bank_ids=("tech-hash-map", None, "not-in-bank"))
    recorded: list[tuple[str, int]] = []

    async def record_score(db, question_id: str, score: int) -> None:
        recorded.append((question_id, score))

    monkeypatch.setattr("reports.builder._record_score_hook", lambda: record_score)
    evaluator = RecordingEvaluator()
    report = await build_report(conn, session, _ctx(evaluator, bank=bank))
    assert [i.category for i in evaluator.inputs] == ["technical", "behavioral", "behavioral"]  # mixed → behavioral
    assert evaluator.inputs[0].time_limit_s == 180 and evaluator.inputs[0].question_id == "tech-hash-map"
    assert report.answers[0].example_answer == "A hash map stores key-value pairs..."
    assert recorded == [("tech-hash-map", report.answers[0].rubric.overall), ("not-in-bank", report.answers[2].rubric.overall)]
    await build_report(conn, session, _ctx(evaluator, bank=bank))
    assert len(recorded) == 2  # recorded when first scored only


async def test_delivery_scores_and_moments_come_from_each_answers_signals(conn: asyncpg.Connection) -> None:
    seeded, session = await _session(conn)
    report = await build_report(conn, session, _ctx(OfflineEvaluator()))
    q1, q2, q3 = ({d.metric: d for d in a.delivery} for a in report.answers)
    assert q1["face_visible"].value == pytest.approx(390 / 400, abs=1e-3)  # the 1 s without a face
    assert q1["response_latency"].value == 1.5 and q2["response_latency"].value == 2.0
    assert {f.name: f.value for f in q2["fillers"].factors}["fillers"] == 3
    assert {f.name: f.value for f in q2["pauses"].factors}["long pauses"] == 1
    assert q3["camera_gaze"].value == pytest.approx(340 / 400, abs=1e-3)  # 6 s looking away
    assert {f.name: f.value for f in q3["fillers"].factors}["hedges (not counted)"] == 1
    assert all(d.samples > 0 for d in (q1["pace"], q1["head_stability"], q1["smile"]))

    by_kind = {m.kind: m for m in report.key_moments}
    assert by_kind["long_pause"].t_ms == 75_000 and by_kind["long_pause"].response_id == seeded.response_ids[2]
    assert by_kind["filler_burst"].question_seq == 2
    assert by_kind["look_away"].question_seq == 3 and by_kind["look_away"].duration_ms >= 5000
    assert by_kind["pace_spike"].t_ms == 130_000
    assert by_kind["long_pause"].word_index is not None
    assert report.coverage.face_samples == 1600 and report.coverage.speech_events > 10
    assert report.duration_s == pytest.approx(160.0, abs=0.2)


async def test_without_signals_pace_and_fillers_come_from_the_transcript(conn: asyncpg.Connection) -> None:
    _, session = await _session(conn, signals=False)
    report = await build_report(conn, session, _ctx(OfflineEvaluator()))
    q2 = {d.metric: d for d in report.answers[1].delivery}
    assert q2["pace"].score is not None and q2["face_visible"].score is None
    assert {f.name: f.value for f in q2["fillers"].factors}["fillers"] == 2  # "um", "uh" in the words
    (pause, *_) = report.key_moments  # from the gap between words
    assert pause.kind == "long_pause" and pause.question_seq == 2 and 3500 < pause.duration_ms < 4500
    assert report.scorecard.overall is not None


async def test_weights_are_settings(conn: asyncpg.Connection) -> None:
    _, session = await _session(conn)
    weights = {"communication": 1.0, "composure": 0.0, "structure": 0.0, "relevance": 0.0}
    report = await build_report(conn, session, _ctx(OfflineEvaluator(), weights=weights))
    assert report.scorecard.overall == report.scorecard.dimensions[0].score
    assert report.scorecard.weights == weights


async def test_an_unanswered_question_is_shown_but_not_scored(conn: asyncpg.Connection) -> None:
    _, session = await _session(conn)
    await repo.add_question(conn, session.id, 4, "Any questions for us?", "bank", None, "alex", T0 + timedelta(seconds=155))
    evaluator = RecordingEvaluator()
    report = await build_report(conn, session, _ctx(evaluator))
    last = report.answers[-1]
    assert last.seq == 4 and last.rubric is None and last.rubric_missing_reason == "not answered"
    assert last.delivery == () and len(evaluator.inputs) == 3


async def test_first_scores_go_into_the_question_stats(conn: asyncpg.Connection) -> None:
    pytest.importorskip("db.questions")
    _, session = await _session(conn, bank_ids=("beh-stats-probe", None, None))
    report = await build_report(conn, session, _ctx(OfflineEvaluator()))
    await build_report(conn, session, _ctx(OfflineEvaluator()))
    row = await conn.fetchrow("SELECT times_scored, score_sum FROM question_stats WHERE question_id = 'beh-stats-probe'")
    assert row["times_scored"] == 1 and row["score_sum"] == report.answers[0].rubric.overall


async def test_scores_stored_before_the_calibrated_scale_are_scored_again(conn: asyncpg.Connection) -> None:
    seeded, session = await _session(conn)
    evaluator = RecordingEvaluator()
    first = await build_report(conn, session, _ctx(evaluator))
    assert all(a.rubric.band_low <= a.rubric.overall <= a.rubric.band_high for a in first.answers)
    # An answer scored by an older release: no scale mark in its factors, an old-scale number.
    await conn.execute(
        "UPDATE answer_scores SET factors = '{}'::jsonb, overall = 44 WHERE question_id = $1",
        seeded.question_ids[0],
    )
    read_only = await build_report(conn, session, _ctx(evaluator).read_only())
    assert read_only.answers[0].rubric.overall == 44 and read_only.answers[0].rubric.band_low is None
    again = await build_report(conn, session, _ctx(evaluator))
    assert len(evaluator.inputs) == 4  # only the old-scale answer was scored again
    assert again.answers[0].rubric.overall == first.answers[0].rubric.overall
    factors = await conn.fetchval("SELECT factors FROM answer_scores WHERE question_id = $1", seeded.question_ids[0])
    assert factors["score_scale"] == 2.0 and factors["band_low"] <= factors["band_high"]
