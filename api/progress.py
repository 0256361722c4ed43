"""Progress over many sessions: `/v1/users/me/progress` and `/v1/users/me/insights`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, PoolDep
from api.reports import ReportContextDep
from db import progress as progress_queries
from db import sessions as repo
from reports.builder import ReportContext, build_report
from reports.progress import build_insights, build_progress

router = APIRouter(prefix="/v1/users/me", tags=["progress"])

HISTORY_LIMIT = 100
# Ended sessions without a stored scorecard get one built per request, at most this many
# (newest first), so a first visit after many sessions stays bounded.
BUILD_MISSING_LIMIT = 20
INSIGHT_SESSIONS = 10
PRACTICE_DAYS_SHOWN = 60


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class HistoryEntryPublic(_Out):
    session_id: UUID
    at: datetime
    role_track: str
    round_type: str
    status: str
    overall: int | None
    dimensions: dict[str, int | None]
    answers_scored: int


class TrendPointPublic(_Out):
    session_id: UUID
    at: datetime
    score: int


class TrendPublic(_Out):
    """One dimension (or the overall) over the last scored sessions."""

    dimension: str
    label: str
    points: list[TrendPointPublic]
    latest: int | None
    average: float | None
    best: int | None
    slope_per_session: float | None = Field(description="Least-squares points gained per session.")
    direction: Literal["improving", "steady", "declining", "not_enough_data"]


class ChangePublic(_Out):
    name: str
    label: str
    previous: float | None
    latest: float | None
    delta: float | None


class ComparisonPublic(_Out):
    """Session N against session N−1 (the two latest scored sessions)."""

    latest_session_id: UUID
    previous_session_id: UUID
    overall: ChangePublic
    dimensions: list[ChangePublic]
    delivery: list[ChangePublic]
    summary: list[str]


class PlanDayPublic(_Out):
    day: int
    kind: Literal["drill", "mock_interview", "review"]
    focus: str | None
    title: str
    minutes: int
    drill_id: str | None
    detail: str


class CategoryAveragePublic(_Out):
    category: str
    average: float
    best: int
    answers: int
    sessions: int


class AggregatesPublic(_Out):
    sessions: int
    completed: int
    scored: int
    practice_minutes: float
    best_overall: int | None
    average_overall: float | None
    categories: list[CategoryAveragePublic]


class ProgressPublic(_Out):
    """History, trends, the last session against the one before, a weekly plan, aggregates."""

    history: list[HistoryEntryPublic] = Field(description="Newest first.")
    trends: list[TrendPublic]
    comparison: ComparisonPublic | None
    weekly_plan: list[PlanDayPublic]
    focus: list[str] = Field(description="The weakest dimensions the plan works on.")
    aggregates: AggregatesPublic
    streak_days: int = Field(
        description="Consecutive UTC days with a completed session, ending today or yesterday."
    )
    practice_days: list[date] = Field(
        description=f"UTC days with a completed session in the last {PRACTICE_DAYS_SHOWN} days, oldest first."
    )


class InsightPublic(_Out):
    kind: str
    title: str
    detail: str
    dimension: str | None
    evidence: dict[str, Any]
    drill_id: str | None


class InsightsPublic(BaseModel):
    """Patterns across recent sessions, each with its evidence."""

    insights: list[InsightPublic]


def practice_streak(days: Iterable[date], today: date) -> int:
    """How many consecutive days up to today, or up to yesterday when today has none yet, had
    practice; 0 when neither had any."""
    practised = set(days)
    day = today if today in practised else today - timedelta(days=1)
    streak = 0
    while day in practised:
        streak += 1
        day -= timedelta(days=1)
    return streak


async def _history(pool: asyncpg.Pool, user_id: UUID, ctx: ReportContext) -> list[progress_queries.HistoryRow]:
    """The user's history, first building scorecards that ended sessions still lack."""
    rows = await progress_queries.history(pool, user_id, limit=HISTORY_LIMIT)
    missing = [r for r in rows if r.dimensions is None and r.status not in repo.OPEN_STATUSES]
    for row in list(reversed(missing))[:BUILD_MISSING_LIMIT]:
        session = await repo.get_session(pool, row.session_id, user_id=user_id)
        if session is not None:
            await build_report(pool, session, ctx)
    if missing:
        rows = await progress_queries.history(pool, user_id, limit=HISTORY_LIMIT)
    return rows


@router.get("/progress", response_model=ProgressPublic, summary="Your progress across sessions")
async def get_progress(pool: PoolDep, user_id: CurrentUser, ctx: ReportContextDep) -> ProgressPublic:
    rows = await _history(pool, user_id, ctx)
    counts = await progress_queries.session_counts(pool, user_id)
    categories = await progress_queries.category_averages(pool, user_id)
    progress = build_progress(rows, ctx.weights, counts, categories)
    today = datetime.now(UTC).date()
    days = await repo.practice_days(pool, user_id, since=date.min)
    shown_from = today - timedelta(days=PRACTICE_DAYS_SHOWN - 1)
    return ProgressPublic.model_validate(
        {field.name: getattr(progress, field.name) for field in fields(progress)}
        | {
            "streak_days": practice_streak(days, today),
            "practice_days": [day for day in days if shown_from <= day <= today],
        }
    )


@router.get("/insights", response_model=InsightsPublic, summary="Patterns across your recent sessions")
async def get_insights(pool: PoolDep, user_id: CurrentUser, ctx: ReportContextDep) -> InsightsPublic:
    rows = await _history(pool, user_id, ctx)
    recent = [r.session_id for r in rows if r.dimensions is not None][-INSIGHT_SESSIONS:]
    insights = build_insights(
        rows,
        ctx.weights,
        await progress_queries.category_averages(pool, user_id),
        await progress_queries.rubric_dimension_averages(pool, user_id, recent),
        await progress_queries.filler_labels(pool, user_id, recent),
    )
    return InsightsPublic(insights=[InsightPublic.model_validate(i) for i in insights])
