"""Builds a session's report: scores unscored answers, reads signals per answer, finds moments.

Rubric scores are computed once per answer and kept (answer_scores); delivery scores and key
moments are recomputed from the signal tables on each build (a few aggregate queries). A
session still open gives a partial report: its last answer may still grow, so its rubric
score is computed for the view and not kept, and no scorecard summary is stored.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import importlib
import logging
import statistics
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Db
from db import scores
from db import delivery as delivery_queries
from db.sessions import (
    OPEN_STATUSES,
    QuestionRow,
    ResponseRow,
    SessionRecord,
    questions_and_responses,
    transcript_settling,
)
from reports.delivery import (
    FACIAL_CUES_NOTE,
    GAZE_ON_CAMERA_MIN,
    REPORT_NOTE,
    SMILE_MIN,
    AnswerSignals,
    DeliveryScore,
    FaceAggregate,
    score_delivery,
    timed_words,
    total,
    word_timing,
)
from reports.model import AnswerReport, Report, ResponseSpan, RubricResult, SignalCoverage
from reports.moments import LOOK_AWAY_MIN_MS, EventRow, LookAway, find_moments
from reports.scorecard import build_scorecard
from scoring.base import RUBRICS, AnswerInput, AnswerScore, DimensionScore, Evaluator
from scoring.speech import PAUSE_THRESHOLD_S, is_vocal_filler

logger = logging.getLogger(__name__)

LATENCY_LOOKBACK_MS = 2000  # a response-latency event is stamped at the (refined) first word
EVALUATOR_CONCURRENCY = 4
PARTIAL_NOTE = "The session is still in progress: this report shows what is known so far."
SETTLING_NOTE = "The interview has ended and its last answers are still being stored: this report is not final yet."
# How long after its end a session's report waits for the interview's process to store its last
# answers: agent/worker.py waits up to 20 s for answers being heard again whole and 10 s for the
# writes, after closing the room. A process killed before it says so is not waited for longer.
SETTLE_LIMIT_S = 60.0


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What building a report needs from the app: weights, the question bank, the evaluator."""

    weights: Mapping[str, float]
    bank: Any | None  # agent.question_bank.QuestionBank
    # None: a read-only build from the stored rubric scores (nothing is scored or stored).
    evaluator: Evaluator | None
    evaluator_timeout_s: float = 60.0
    # Makes the evaluator used when the configured one raises (None: no fallback).
    fallback: Callable[[], Evaluator | None] | None = None

    def read_only(self) -> ReportContext:
        return dataclasses.replace(self, evaluator=None)


def offline_fallback() -> Evaluator | None:
    """A fresh OfflineEvaluator, or None where the offline evaluator is not installed."""
    try:
        module = importlib.import_module("scoring.offline")
    except ImportError:
        return None
    return module.OfflineEvaluator()


@dataclass(slots=True)
class _Draft:
    """An answer while its report is being put together."""

    question: QuestionRow
    responses: list[ResponseSpan]
    transcript: str
    category: str
    bank_entry: Any | None
    t_from_ms: int | None
    t_to_ms: int | None
    words: int
    speaking_s: float
    vocal_fillers: int
    gaps_s: tuple[float, ...]
    response_count: int
    final: bool

    @property
    def answer_s(self) -> float | None:
        """How long the answer took: its responses' spans added up. Between two responses to one
        question the floor was not the candidate's (a prompt such as "Take your time.", or a
        reconnect), so that time is neither answer nor pause."""
        if not self.responses:
            return None
        spans = sorted((s.start_ms, s.end_ms) for s in self.responses)
        total, reach = 0, spans[0][0]
        for start, end in spans:  # overlapping spans count once
            total += max(0, end - max(start, reach))
            reach = max(reach, end)
        return total / 1000.0


def _ms(at: datetime, origin: datetime) -> int:
    return max(0, round((at - origin).total_seconds() * 1000))


def media_origin(
    session: SessionRecord, questions: Sequence[QuestionRow], responses: Sequence[ResponseRow]
) -> datetime | None:
    """Where the session's signal clock (t_ms) starts."""
    if session.started_at is not None:
        return session.started_at
    times = [q.asked_at for q in questions] + [r.started_at for r in responses]
    return min(times) if times else None


def _category(question: QuestionRow, session: SessionRecord, bank: Any | None) -> tuple[str, Any | None]:
    entry = None
    if question.bank_question_id and bank is not None:
        try:
            entry = bank.get(question.bank_question_id)
        except KeyError:
            entry = None
    if entry is not None and entry.category in RUBRICS:
        return entry.category, entry
    return (session.round_type if session.round_type in RUBRICS else "behavioral"), entry


def _drafts(
    session: SessionRecord,
    questions: Sequence[QuestionRow],
    responses: Sequence[ResponseRow],
    origin: datetime | None,
    bank: Any | None,
    open_session: bool,
) -> list[_Draft]:
    by_question: dict[UUID, list[ResponseRow]] = {}
    for r in responses:
        if r.question_id is not None:
            by_question.setdefault(r.question_id, []).append(r)
    last_seq = max((q.seq for q in questions), default=None)
    drafts = []
    for q in questions:
        spans: list[ResponseSpan] = []
        words = fillers = 0
        speaking = 0.0
        gaps: list[float] = []
        texts = []
        for r in by_question.get(q.id, []):
            timing = word_timing(r.words)
            words += timing.words
            speaking += timing.speaking_s
            fillers += timing.vocal_fillers
            gaps.extend(timing.gaps_s)
            if not timing.words and r.transcript.strip():  # untimed transcript: count its words
                tokens = r.transcript.split()
                fillers += sum(1 for t in tokens if is_vocal_filler(t))
                words += sum(1 for t in tokens if not is_vocal_filler(t))
            texts.append(r.transcript.strip())
            if origin is not None:
                start = _ms(r.started_at, origin)
                if r.ended_at is not None:
                    end = _ms(r.ended_at, origin)
                else:
                    end = start + round(1000 * (timing.last_end_s or 0.0))
                spans.append(ResponseSpan(r.id, start, max(start, end), timed_words(r.words)))
        category, entry = _category(q, session, bank)
        drafts.append(
            _Draft(
                question=q,
                responses=spans,
                transcript=" ".join(t for t in texts if t),
                category=category,
                bank_entry=entry,
                t_from_ms=min((s.start_ms for s in spans), default=None),
                t_to_ms=max((s.end_ms for s in spans), default=None),
                words=words,
                speaking_s=speaking,
                vocal_fillers=fillers,
                gaps_s=tuple(gaps),
                response_count=len(by_question.get(q.id, [])),
                final=not (open_session and q.seq == last_seq),
            )
        )
    return drafts


# -- rubric scores ----------------------------------------------------------------


# Scores stored under another scale are scored again when an evaluator is at hand (2: the
# calibrated scale of scoring/calibration.py; scores from before it carry no mark).
SCORE_SCALE = 2.0


def _from_stored(s: scores.StoredScore) -> RubricResult:
    factors = s.factors or {}
    band_low, band_high = factors.get("band_low"), factors.get("band_high")
    return RubricResult(
        category=s.category,
        overall=s.overall,
        dimensions=tuple(
            DimensionScore(str(d.get("dimension", "")), int(d.get("score", 0)), str(d.get("reason", "")))
            for d in s.dimensions
        ),
        evaluator=s.evaluator,
        fallback_reason=s.fallback_reason,
        strengths=tuple(s.strengths),
        improvements=tuple(s.improvements),
        stronger_answer=s.stronger_answer,
        scored_at=s.created_at,
        band_low=None if band_low is None else int(band_low),
        band_high=None if band_high is None else int(band_high),
    )


def _text_mark(answer: str) -> float:
    """Which text a stored score read: an answer stored again in other words (heard again whole,
    agent/whole_answer.py) is scored again. A float, as the stored factors are."""
    return float(zlib.crc32(answer.encode()))


def _to_stored(question_id: UUID, score: AnswerScore, d: _Draft) -> scores.StoredScore:
    return scores.StoredScore(
        question_id=question_id,
        category=score.category,
        overall=max(0, min(100, int(score.overall))),
        dimensions=[
            {"dimension": d.dimension, "score": int(d.score), "reason": d.reason} for d in score.dimensions
        ],
        evaluator=score.evaluator,
        fallback_reason=score.fallback_reason,
        strengths=list(score.strengths),
        improvements=list(score.improvements),
        stronger_answer=score.stronger_answer,
        factors={
            **{k: float(v) for k, v in score.factors.items()},
            **({} if score.band_low is None else {"band_low": float(score.band_low)}),
            **({} if score.band_high is None else {"band_high": float(score.band_high)}),
            "score_scale": SCORE_SCALE,
            "text_mark": _text_mark(d.transcript),
        },
        responses_scored=d.response_count,
        created_at=datetime.now(UTC),
    )


def _answer_input(d: _Draft) -> AnswerInput:
    entry = d.bank_entry
    duration = d.answer_s
    return AnswerInput(
        question=d.question.text,
        answer=d.transcript,
        category=d.category,
        question_id=d.question.bank_question_id,
        time_limit_s=None if entry is None else float(entry.time_limit_s),
        answer_duration_s=duration,
        example_answer=getattr(entry, "example_answer", None) if entry is not None else None,
        rubric=tuple(getattr(entry, "rubric", ()) or ()) or None,
    )


async def _evaluate(
    ctx: ReportContext, item: AnswerInput, log_extra: dict[str, str]
) -> tuple[AnswerScore | None, str | None]:
    """The evaluator's score; when it raises, the fallback's, marked with why."""
    try:
        return await asyncio.wait_for(ctx.evaluator.evaluate(item), ctx.evaluator_timeout_s), None
    except Exception as exc:  # CancelledError is not an Exception: cancellation passes through
        name = getattr(ctx.evaluator, "name", "evaluator")
        reason = f"{name} failed ({'timed out' if isinstance(exc, TimeoutError) else type(exc).__name__})"
        logger.warning("answer evaluation failed", extra={**log_extra, "error": type(exc).__name__})
    fallback = ctx.fallback() if ctx.fallback is not None else None
    if fallback is None:
        return None, f"{reason}; no fallback evaluator"
    try:
        result = await asyncio.wait_for(fallback.evaluate(item), ctx.evaluator_timeout_s)
    except Exception as exc:
        logger.error("fallback evaluation failed", extra={**log_extra, "error": type(exc).__name__})
        return None, f"{reason}; the fallback failed too"
    return dataclasses.replace(result, fallback_reason=result.fallback_reason or reason), None


def _record_score_hook() -> Callable[..., Any] | None:
    """db.questions.record_score, where the question-stats module is installed."""
    try:
        module = importlib.import_module("db.questions")
    except ImportError:
        return None
    return getattr(module, "record_score", None)


async def _rubric_results(
    db: Db,
    session_id: UUID,
    drafts: Sequence[_Draft],
    ctx: ReportContext,
) -> tuple[dict[UUID, RubricResult], dict[UUID, str]]:
    """Each answer's rubric result, scoring (and storing) the ones not scored yet."""
    stored = await scores.stored_scores(db, session_id)
    results: dict[UUID, RubricResult] = {}
    missing: dict[UUID, str] = {}
    to_score: list[_Draft] = []
    for d in drafts:
        qid = d.question.id
        if not d.transcript:
            missing[qid] = "not answered"
            continue
        s = stored.get(qid)
        factors = (s.factors or {}) if s is not None else {}
        current = factors.get("score_scale") == SCORE_SCALE and factors.get("text_mark") == _text_mark(d.transcript)
        if s is not None and ((s.responses_scored == d.response_count and current) or ctx.evaluator is None):
            results[qid] = _from_stored(s)
        elif ctx.evaluator is None:
            missing[qid] = "not scored yet"
        else:
            to_score.append(d)

    if to_score:
        gate = asyncio.Semaphore(EVALUATOR_CONCURRENCY)

        async def one(d: _Draft) -> tuple[_Draft, AnswerScore | None, str | None]:
            async with gate:
                extra = {"session_id": str(session_id), "question_id": str(d.question.id)}
                score, why = await _evaluate(ctx, _answer_input(d), extra)
                return d, score, why

        record_score = _record_score_hook()
        for d, score, why in await asyncio.gather(*(one(d) for d in to_score)):
            qid = d.question.id
            if score is None:
                missing[qid] = why or "not scored"
                continue
            row = _to_stored(qid, score, d)
            result = _from_stored(row)
            if d.final:
                saved = await scores.save_score(db, session_id, row)
                if saved.score is not None and saved.score is not row:  # scored at once elsewhere: that one stands
                    result = _from_stored(saved.score)
                if saved.first and record_score is not None and d.question.bank_question_id:
                    try:
                        await record_score(db, d.question.bank_question_id, row.overall)
                    except (asyncpg.PostgresError, OSError, ValueError):
                        logger.warning("question stats not recorded", extra={"question_id": str(qid)})
            else:
                result = dataclasses.replace(result, scored_at=None)
            results[qid] = result
    return results, missing


# -- signals per answer -----------------------------------------------------------


def _between(events: Sequence[EventRow], times: Sequence[int], t_from: int, t_to: int) -> Sequence[EventRow]:
    return events[bisect.bisect_left(times, t_from) : bisect.bisect_left(times, t_to)]


def _answer_signals(
    d: _Draft, events: Sequence[EventRow], times: Sequence[int], face: FaceAggregate, speech_signals: bool
) -> AnswerSignals:
    if d.t_from_ms is None:
        return AnswerSignals(words=d.words, speaking_s=d.speaking_s, transcript_fillers=d.vocal_fillers)
    span = _between(events, times, d.t_from_ms, d.t_to_ms + 1)
    start = _between(events, times, d.t_from_ms - LATENCY_LOOKBACK_MS, d.t_to_ms + 1)
    pauses = tuple((e.duration_ms or 0) / 1000.0 for e in span if e.kind == "pause")
    return AnswerSignals(
        answer_s=d.answer_s or 0.0,
        words=d.words,
        speaking_s=d.speaking_s,
        transcript_fillers=d.vocal_fillers,
        wpm_readings=tuple(e.value for e in span if e.kind == "wpm" and e.value is not None),
        filler_labels=tuple((e.label or "") for e in span if e.kind == "filler"),
        pauses_s=pauses if speech_signals else d.gaps_s,
        latencies_s=tuple(e.value for e in start if e.kind == "response_latency" and e.value is not None)[:1],
        face=face,
        speech_signals=speech_signals,
    )


def _transcript_pauses(answers: Sequence[AnswerReport]) -> list[EventRow]:
    """Pauses between words, for sessions that recorded no speech signals."""
    out = []
    for a in answers:
        for r in a.responses:
            for (_, _, end), (_, start, _) in zip(r.words, r.words[1:]):
                if start - end >= PAUSE_THRESHOLD_S:
                    out.append(EventRow(r.start_ms + round(end * 1000), "pause", round((start - end) * 1000), None, None))
    return sorted(out, key=lambda e: e.t_ms)


def _summary_rows(answers: Sequence[AnswerReport], delivery: Sequence[DeliveryScore]) -> dict[str, Any]:
    categories: dict[str, list[int]] = {}
    rubric: dict[str, list[int]] = {}
    for a in answers:
        if a.rubric is None:
            continue
        categories.setdefault(a.category, []).append(a.rubric.overall)
        for dim in a.rubric.dimensions:
            rubric.setdefault(dim.dimension, []).append(dim.score)
    return {
        "delivery": {d.metric: {"score": d.score, "value": d.value} for d in delivery},
        "categories": {
            c: {"average": round(statistics.fmean(v), 1), "answers": len(v)} for c, v in categories.items()
        },
        "rubric": {k: round(statistics.fmean(v), 1) for k, v in rubric.items()},
    }


async def build_report(
    db: Db, session: SessionRecord, ctx: ReportContext, *, now: datetime | None = None
) -> Report:
    """The session's report, scoring answers not scored yet unless ctx is read-only."""
    questions, responses = await questions_and_responses(db, session.id)
    origin = media_origin(session, questions, responses)
    settling = transcript_settling(session, now or datetime.now(UTC), SETTLE_LIMIT_S)
    partial = session.status in OPEN_STATUSES or settling
    drafts = _drafts(session, questions, responses, origin, ctx.bank, partial)

    rubric, missing = await _rubric_results(db, session.id, drafts, ctx)
    spans = [(d.t_from_ms, d.t_to_ms + 1) for d in drafts if d.t_from_ms is not None]
    face_sums = await delivery_queries.face_sums_by_span(
        db, session.id, spans, gaze_on_min=GAZE_ON_CAMERA_MIN, smile_min=SMILE_MIN
    )
    faces = iter(face_sums)
    events = [
        EventRow(e.t_ms, e.kind, e.duration_ms, e.value, e.label)
        for e in await delivery_queries.speech_events(db, session.id)
    ]
    runs = [
        LookAway(r.start_ms, r.end_ms, r.samples, r.no_face_samples)
        for r in await delivery_queries.look_away_runs(
            db, session.id, min_ms=LOOK_AWAY_MIN_MS, gaze_on_min=GAZE_ON_CAMERA_MIN
        )
    ]
    coverage = await delivery_queries.signal_counts(db, session.id)
    times = [e.t_ms for e in events]
    speech_signals = any(e.kind != "nudge" for e in events)

    answers: list[AnswerReport] = []
    signals: list[AnswerSignals] = []
    for d in drafts:
        face = next(faces) if d.t_from_ms is not None else FaceAggregate()
        s = _answer_signals(d, events, times, face, speech_signals) if d.transcript else AnswerSignals()
        if d.transcript:
            signals.append(s)
        qid = d.question.id
        result = rubric.get(qid)
        answers.append(
            AnswerReport(
                question_id=qid,
                seq=d.question.seq,
                question=d.question.text,
                source=d.question.source,
                bank_question_id=d.question.bank_question_id,
                category=d.category,
                asked_ms=None if origin is None else _ms(d.question.asked_at, origin),
                responses=tuple(d.responses),
                t_from_ms=d.t_from_ms,
                t_to_ms=d.t_to_ms,
                duration_s=s.answer_s,
                words=d.words,
                final=d.final,
                rubric=result,
                rubric_missing_reason=None if result is not None else missing.get(qid),
                delivery=score_delivery(s) if d.transcript else (),
                example_answer=(result.stronger_answer if result and result.stronger_answer else None)
                or (getattr(d.bank_entry, "example_answer", None) if d.bank_entry is not None else None),
            )
        )

    session_delivery = score_delivery(total(signals))
    scorecard = build_scorecard(answers, session_delivery, ctx.weights)
    moments = find_moments(answers, events if speech_signals else _transcript_pauses(answers), runs)

    ends = [coverage.face_last_ms or 0, coverage.prosody_last_ms or 0]
    ends += [a.t_to_ms for a in answers if a.t_to_ms is not None] + [times[-1] if times else 0]
    if origin is not None and session.ended_at is not None:
        ends.append(_ms(session.ended_at, origin))
    duration_s = max(ends) / 1000.0

    if not partial and ctx.evaluator is not None:
        summary = _summary_rows(answers, session_delivery)
        await scores.save_scorecard(
            db,
            session.id,
            dimensions={d.dimension: d.score for d in scorecard.dimensions},
            delivery=summary["delivery"],
            categories=summary["categories"],
            rubric=summary["rubric"],
            answers_scored=sum(1 for a in answers if a.rubric is not None),
        )
    notes = [REPORT_NOTE, FACIAL_CUES_NOTE]
    if partial:
        notes.insert(0, SETTLING_NOTE if settling else PARTIAL_NOTE)
    return Report(
        session_id=session.id,
        role_track=session.role_track,
        round_type=session.round_type,
        difficulty=session.difficulty,
        status=session.status,
        started_at=session.started_at,
        ended_at=session.ended_at,
        generated_at=now or datetime.now(UTC),
        partial=partial,
        duration_s=duration_s,
        scorecard=scorecard,
        answers=tuple(answers),
        key_moments=moments,
        coverage=SignalCoverage(
            face_samples=coverage.face_samples,
            prosody_windows=coverage.prosody_windows,
            speech_events=coverage.speech_events,
            frames_dropped=coverage.frames_dropped,
            rows_dropped=coverage.rows_dropped,
        ),
        notes=tuple(notes),
    )
