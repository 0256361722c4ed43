"""The question bank over HTTP: search and filter the seeded questions, with their usage."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from agent.catalog import DIFFICULTIES, ROLE_TRACKS
from agent.question_bank import CATEGORIES, INDUSTRIES, Question, QuestionBank, search_terms
from api.deps import PoolDep, get_current_user
from api.sessions import ErrorPublic
from db import questions as repo

router = APIRouter(
    prefix="/v1/questions",
    tags=["questions"],
    dependencies=[Depends(get_current_user)],
    responses={401: {"model": ErrorPublic, "description": "Not signed in."}},
)

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Difficulty = Literal[DIFFICULTIES]  # type: ignore[valid-type]
RoleTrack = Literal[ROLE_TRACKS]  # type: ignore[valid-type]
Industry = Literal[INDUSTRIES]  # type: ignore[valid-type]

QUESTION_NOT_FOUND = "question not found"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_QUERY_LENGTH = 200
MAX_OFFSET = 100_000  # far past the bank's end


def get_question_bank(request: Request) -> QuestionBank:
    """The question bank loaded in the lifespan."""
    return request.app.state.question_bank


QuestionBankDep = Annotated[QuestionBank, Depends(get_question_bank)]


class QuestionPublic(BaseModel):
    """A bank question with its hints, rubric, a strong example answer and how it has been used."""

    id: str
    text: str
    category: str
    subcategory: str
    difficulty: str
    roles: list[str]
    industries: list[str]
    hints: list[str]
    rubric: list[str] = Field(description="The scoring rubric's dimension ids for this question.")
    time_limit_s: int
    example_answer: str
    times_asked: int = Field(description="How often interviews have asked this question.")
    average_score: float | None = Field(
        description="The average score (0 to 100) of scored answers; null before the first."
    )


class QuestionPage(BaseModel):
    """One page of the questions that match a search, and how many match in all."""

    total: int
    items: list[QuestionPublic]


def _public(question: Question, usage: repo.QuestionUsage) -> QuestionPublic:
    return QuestionPublic(
        id=question.id,
        text=question.text,
        category=question.category,
        subcategory=question.subcategory,
        difficulty=question.difficulty,
        roles=list(question.roles),
        industries=list(question.industries),
        hints=list(question.hints),
        rubric=list(question.rubric),
        time_limit_s=question.time_limit_s,
        example_answer=question.example_answer,
        times_asked=usage.times_asked,
        average_score=usage.average_score,
    )


@router.get("", response_model=QuestionPage, summary="Search and filter the question bank")
async def list_questions(
    bank: QuestionBankDep,
    pool: PoolDep,
    category: Category | None = None,
    difficulty: Difficulty | None = None,
    role: Annotated[
        RoleTrack | None, Query(description='A role track; "general" finds the general questions.')
    ] = None,
    industry: Annotated[
        Industry | None,
        Query(description='An industry tag; "any" finds the industry-neutral questions.'),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description=(
                "Words to find in the question text, hints and subcategory, ignoring case. "
                "Every word must begin a word there: 'negotiat price' finds 'negotiating on price'."
            ),
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> QuestionPage:
    if q is not None and not search_terms(q):
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "q"),
                    "msg": "q must contain at least one letter or digit",
                    "input": q,
                }
            ]
        )
    matches = bank.search(
        category=category, difficulty=difficulty, role=role, industry=industry, text=q
    )
    page = matches[offset : offset + limit]
    usage = await repo.question_stats(pool, [question.id for question in page])
    return QuestionPage(
        total=len(matches), items=[_public(question, usage[question.id]) for question in page]
    )


@router.get(
    "/{question_id}",
    response_model=QuestionPublic,
    responses={404: {"model": ErrorPublic, "description": "No question with this id."}},
    summary="One question of the bank, with its usage",
)
async def get_question(question_id: str, bank: QuestionBankDep, pool: PoolDep) -> QuestionPublic:
    try:
        question = bank.get(question_id)
    except KeyError:
        raise HTTPException(status_code=404, detail=QUESTION_NOT_FOUND) from None
    usage = await repo.question_stats(pool, [question.id])
    return _public(question, usage[question.id])
