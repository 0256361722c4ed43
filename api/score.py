"""Text practice: score a typed answer with the same evaluator the interview reports use."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.deps import get_current_user
from api.fields import RequestBody, Text, invalid
from scoring.base import RUBRICS, Evaluator
from scoring.practice import (
    MAX_ANSWER_CHARS,
    MAX_ANSWER_WORDS,
    AnswerScorePublic,
    PracticeInputError,
    practice_input,
)

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/score",
    tags=["score"],
    dependencies=[Depends(get_current_user)],
    responses={401: {"description": "Not signed in."}},
)

Category = Literal[tuple(RUBRICS)]  # type: ignore[valid-type]
MAX_QUESTION_CHARS = 2_000
# The largest body POST /v1/score accepts: an answer and question of the largest allowed size
# at 6 bytes a character (JSON's \uXXXX). Other bodies get the app's much smaller default.
MAX_BODY_BYTES = 512 * 1024


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
