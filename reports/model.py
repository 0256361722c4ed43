"""The parts of a session report, as small frozen dataclasses (the API turns them into JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from reports.delivery import DeliveryScore
from reports.drills import Drill
from scoring.base import DimensionScore


@dataclass(frozen=True, slots=True)
class RubricResult:
    """An answer's rubric scores as the evaluator gave them (stored in answer_scores)."""

    category: str
    overall: int
    dimensions: tuple[DimensionScore, ...]
    evaluator: str
    fallback_reason: str | None
    strengths: tuple[str, ...]
    improvements: tuple[str, ...]
    stronger_answer: str | None
    scored_at: datetime | None  # None: scored for this view only, not stored
    # Where the overall likely lies, as sure as the evaluator is (None: it did not say).
    band_low: int | None = None
    band_high: int | None = None


@dataclass(frozen=True, slots=True)
class ResponseSpan:
    """One response of an answer, placed on the session's signal clock."""

    id: UUID
    start_ms: int
    end_ms: int
    words: tuple[tuple[str, float, float], ...]  # (word, start s, end s) from the response start


@dataclass(frozen=True, slots=True)
class AnswerReport:
    """One question and everything said in reply: rubric scores, delivery scores, where it sits."""

    question_id: UUID
    seq: int
    question: str
    source: str
    bank_question_id: str | None
    category: str
    asked_ms: int | None
    responses: tuple[ResponseSpan, ...]
    t_from_ms: int | None
    t_to_ms: int | None
    duration_s: float
    words: int
    final: bool  # False for the still-open last answer of a live session
    rubric: RubricResult | None
    rubric_missing_reason: str | None
    delivery: tuple[DeliveryScore, ...]
    example_answer: str | None

    @property
    def response_ids(self) -> tuple[UUID, ...]:
        return tuple(r.id for r in self.responses)


@dataclass(frozen=True, slots=True)
class KeyMoment:
    """A moment worth looking back at, tied to the transcript."""

    kind: str  # long_pause | look_away | filler_burst | pace_spike | recovery
    t_ms: int
    duration_ms: int
    title: str
    detail: str
    question_seq: int | None
    question_id: UUID | None
    response_id: UUID | None
    offset_s: float | None  # seconds from the response's start
    word_index: int | None  # the response word nearest the moment


@dataclass(frozen=True, slots=True)
class Contributor:
    """One input of a scorecard dimension and its weight in it."""

    source: str  # delivery | rubric | answer_overall
    name: str
    score: float
    weight: float


@dataclass(frozen=True, slots=True)
class DimensionResult:
    """One scorecard dimension: its score, band, weight in the overall, and what went into it."""

    dimension: str
    label: str
    score: int | None
    band_low: int | None
    band_high: int | None
    weight: float
    definition: str
    contributors: tuple[Contributor, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a finding shows: an answer and what was measured or said about it there."""

    detail: str
    question_seq: int | None = None
    question_id: UUID | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A strength or an improvement, with the evidence for it."""

    area: str  # a delivery metric or a rubric dimension
    source: str  # delivery | rubric
    dimension: str  # the scorecard dimension it belongs to
    title: str
    detail: str
    score: int
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class DrillPick:
    """A drill chosen for a weak dimension, and why."""

    drill: Drill
    dimension: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The session at a glance: overall, four weighted dimensions, strengths, improvements, drills."""

    overall: int | None
    band_low: int | None
    band_high: int | None
    weights: dict[str, float]
    dimensions: tuple[DimensionResult, ...]
    delivery: tuple[DeliveryScore, ...]  # session-level delivery scores
    strengths: tuple[Finding, ...]
    improvements: tuple[Finding, ...]
    drills: tuple[DrillPick, ...]


@dataclass(frozen=True, slots=True)
class SignalCoverage:
    """How much signal the report stands on."""

    face_samples: int
    prosody_windows: int
    speech_events: int
    frames_dropped: int | None
    rows_dropped: int | None


@dataclass(frozen=True, slots=True)
class Report:
    """A session's report: scorecard, answers, key moments, and the notes that go with them."""

    session_id: UUID
    role_track: str
    round_type: str
    difficulty: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    generated_at: datetime
    partial: bool
    duration_s: float
    scorecard: Scorecard
    answers: tuple[AnswerReport, ...]
    key_moments: tuple[KeyMoment, ...]
    coverage: SignalCoverage
    notes: tuple[str, ...]
