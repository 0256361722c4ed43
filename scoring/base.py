"""The evaluator interface: one answer in, rubric scores with reasons out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Category = Literal["behavioral", "technical", "system_design", "case", "mmi"]

# Rubric dimensions by question category (the wording, as stable ids).
RUBRICS: dict[str, tuple[str, ...]] = {
    "behavioral": ("situation", "task", "action", "result"),
    "technical": ("accuracy", "depth", "trade_offs", "communication"),
    "system_design": ("requirements", "high_level_design", "deep_dive", "scalability", "trade_offs"),
    "case": ("structure", "analysis", "quantification", "recommendation"),
    "mmi": ("communication", "critical_thinking", "ethical_reasoning", "professionalism"),
}


@dataclass(frozen=True, slots=True)
class AnswerInput:
    """What is scored: the question (with its bank metadata when known) and the answer text."""

    question: str
    answer: str
    category: str  # one of RUBRICS
    question_id: str | None = None
    time_limit_s: float | None = None
    answer_duration_s: float | None = None  # spoken answers: how long the candidate spoke
    example_answer: str | None = None  # the bank's strong example, when known
    # The dimensions this question is scored on (a subset of its category's); None: all of them.
    rubric: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """One rubric dimension: 0–100 on the calibrated scale and a reason that cites the answer."""

    dimension: str
    score: int
    reason: str


@dataclass(frozen=True, slots=True)
class AnswerScore:
    """An answer's rubric scores, overall 0–100, and which evaluator produced them.

    Scores are on the calibrated scale (scoring/calibration.py): strong 80–100, adequate 55–79,
    weak 20–54, off-topic or empty 0–19. `band_low`..`band_high` is where the overall likely
    lies given how sure the evaluator is (None when it cannot say).
    """

    category: str
    dimensions: tuple[DimensionScore, ...]
    overall: int
    evaluator: str  # "offline" or "llm:<model>"
    strengths: tuple[str, ...] = ()
    improvements: tuple[str, ...] = ()
    stronger_answer: str | None = None
    fallback_reason: str | None = None  # set when the LLM failed and the offline evaluator answered
    factors: dict[str, float] = field(default_factory=dict)  # what the score was built from
    band_low: int | None = None
    band_high: int | None = None
    confidence: str | None = None  # high | medium | low, from the band's width


class Evaluator(Protocol):
    """Scores answers; implementations: OfflineEvaluator (default), LLMEvaluator."""

    name: str

    async def evaluate(self, item: AnswerInput) -> AnswerScore: ...
