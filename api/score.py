"""Text practice: score a typed answer with the same evaluator the interview reports use."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.deps import get_current_user
from api.fields import RequestBody, Text, invalid
from scoring.base import RUBRICS, AnswerInput, AnswerScore, Evaluator
from scoring.calibration import Band, band_of

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/score",
    tags=["score"],
    dependencies=[Depends(get_current_user)],
    responses={401: {"description": "Not signed in."}},
)

Category = Literal[tuple(RUBRICS)]  # type: ignore[valid-type]
DEFAULT_CATEGORY = "behavioral"
MAX_ANSWER_WORDS = 5000
MAX_ANSWER_CHARS = 60_000
MAX_QUESTION_CHARS = 2_000
# The largest body POST /v1/score accepts: an answer and question of the largest allowed size
# at 6 bytes a character (JSON's \uXXXX). Other bodies get the app's much smaller default.
MAX_BODY_BYTES = 512 * 1024
_WORD = re.compile(r"\S+")


class ErrorPublic(BaseModel):
    """An error answer."""

    detail: str


class AnswerScoreCreate(RequestBody):
    """A typed answer to score, with the question it answers."""

    question: Text = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    # The length is checked in the handler (it counts words too), whose answer names the limit.
    answer: Text = Field(
        description=f"The answer text, at most {MAX_ANSWER_WORDS} words.",
        json_schema_extra={"maxLength": MAX_ANSWER_CHARS},
    )
    category: Category | None = Field(
        default=None,
        description="Rubric to use; default: the bank question's category, else behavioral.",
    )
    question_id: Text | None = Field(default=None, max_length=200, description="A question bank id.")
    time_limit_s: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="Time allowed; default: the bank's, else the category's.",
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


def get_evaluator(request: Request) -> Evaluator:
    """The evaluator made in the lifespan."""
    evaluator = getattr(request.app.state, "evaluator", None)
    if evaluator is None:
        raise HTTPException(status_code=503, detail="answer scoring is not configured")
    return evaluator


def get_question_bank(request: Request) -> Any | None:
    """The question bank (agent.question_bank.QuestionBank) when the app loaded one."""
    return getattr(request.app.state, "question_bank", None)


EvaluatorDep = Annotated[Evaluator, Depends(get_evaluator)]
QuestionBankDep = Annotated[Any | None, Depends(get_question_bank)]


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
    """What the evaluator scores for a typed answer: the bank fills in what the caller left out."""
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


@router.post(
    "",
    responses={
        **invalid("Invalid body, an answer over the word limit, or an unknown question_id."),
        503: {"model": ErrorPublic, "description": "No evaluator is configured."},
    },
)
async def score_answer(
    body: AnswerScoreCreate, evaluator: EvaluatorDep, bank: QuestionBankDep
) -> AnswerScorePublic:
    """Scores a typed answer on the rubric of its question's category."""
    try:
        item = practice_input(
            question=body.question,
            answer=body.answer,
            category=body.category,
            question_id=body.question_id,
            time_limit_s=body.time_limit_s,
            bank=bank,
        )
    except PracticeInputError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    score = await evaluator.evaluate(item)
    logger.info(
        "answer scored",
        extra={
            "category": item.category,
            "evaluator": score.evaluator,
            "fallback_reason": score.fallback_reason,
            "overall": score.overall,
        },
    )
    return AnswerScorePublic.of(score, item.example_answer)
