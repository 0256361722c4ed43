"""Text practice: a typed answer made ready for the evaluator, and its score as shown to the candidate.

Shared by POST /v1/score (api/score.py) and `greenroom score` (greenroom/cli.py), so the two
check answers alike and the CLI's --json prints the HTTP answer's shape.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from scoring.base import RUBRICS, AnswerInput, AnswerScore
from scoring.calibration import Band, band_of

DEFAULT_CATEGORY = "behavioral"
MAX_ANSWER_WORDS = 5000
MAX_ANSWER_CHARS = 60_000
_WORD = re.compile(r"\S+")


class PracticeInputError(ValueError):
    """A practice answer that can't be scored; the message is safe to show (no answer text)."""


def practice_input(
    *,
    question: str,
    answer: str,
    category: str | None,
    question_id: str | None,
    time_limit_s: float | None,
    bank: Any | None,
) -> AnswerInput:
    """What the evaluator scores for a typed answer: the bank fills in what the caller left out.

    `bank` is an agent.question_bank.QuestionBank, or None when none is loaded.
    """
    if not answer.strip():
        raise PracticeInputError("answer is empty")
    if len(answer) > MAX_ANSWER_CHARS or len(_WORD.findall(answer)) > MAX_ANSWER_WORDS:
        raise PracticeInputError(f"answer is longer than {MAX_ANSWER_WORDS} words")
    bank_question = None
    if question_id is not None:
        try:
            bank_question = bank.get(question_id) if bank is not None else None
        except KeyError:
            bank_question = None
        if bank_question is None:
            raise PracticeInputError("unknown question_id")
    if category is None:
        category = bank_question.category if bank_question is not None else DEFAULT_CATEGORY
    if category not in RUBRICS:
        raise PracticeInputError(f"category must be one of {', '.join(RUBRICS)}")
    if time_limit_s is None and bank_question is not None:
        time_limit_s = float(bank_question.time_limit_s)
    return AnswerInput(
        question=question,
        answer=answer,
        category=category,
        question_id=question_id,
        time_limit_s=time_limit_s,
        # Older banks have no example answers; the field is optional here.
        example_answer=getattr(bank_question, "example_answer", None) or None,
        rubric=tuple(getattr(bank_question, "rubric", ()) or ()) or None,
    )


class DimensionScorePublic(BaseModel):
    """One rubric dimension: 0–100 on the calibrated scale, and why (citing the answer)."""

    dimension: str
    score: int
    reason: str


class AnswerScorePublic(BaseModel):
    """The rubric scores of one answer and which evaluator produced them."""

    category: str
    dimensions: list[DimensionScorePublic]
    overall: int
    band: Band = Field(
        description="Where the overall falls: strong 80–100, adequate 55–79, weak 20–54, "
        "off_topic 0–19."
    )
    band_low: int | None = Field(
        default=None, description="The overall likely lies in band_low..band_high (None: unknown)."
    )
    band_high: int | None = None
    confidence: str | None = Field(default=None, description="high, medium or low.")
    evaluator: str = Field(description='"offline" or "llm:<model>".')
    fallback_reason: str | None = Field(
        description="Set when the LLM evaluator failed and the offline evaluator answered."
    )
    strengths: list[str]
    improvements: list[str]
    stronger_answer: str | None = Field(
        description="A stronger answer: the LLM's, else the bank's example answer when known."
    )

    @classmethod
    def of(cls, score: AnswerScore, example_answer: str | None) -> AnswerScorePublic:
        return cls(
            category=score.category,
            dimensions=[
                DimensionScorePublic(dimension=d.dimension, score=d.score, reason=d.reason)
                for d in score.dimensions
            ],
            overall=score.overall,
            band=band_of(score.overall),
            band_low=score.band_low,
            band_high=score.band_high,
            confidence=score.confidence,
            evaluator=score.evaluator,
            fallback_reason=score.fallback_reason,
            strengths=list(score.strengths),
            improvements=list(score.improvements),
            stronger_answer=score.stronger_answer or example_answer,
        )
