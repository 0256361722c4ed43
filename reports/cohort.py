"""An organisation's cohort view, from the sessions its members share with it: per member, the
score trend, weakest areas and practice (streak, this week); across them, the weakest areas and
who has not practised this week.

A session counts as practice when it completed, on the UTC day it ended (as the progress view
counts). A week starts on Monday 00:00 UTC. Overall scores are recomputed from the stored
dimension scores with the weights in force; an area's mean is over the scored shared sessions.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from uuid import UUID

from db.cohort import CohortSession
from reports.scorecard import DIMENSIONS, overall_from


@dataclass(frozen=True, slots=True)
class TrendScore:
    session_id: UUID
    started_at: datetime
    overall: int


@dataclass(frozen=True, slots=True)
class AreaMean:
    dimension: str
    mean: float


@dataclass(frozen=True, slots=True)
class CohortMember:
    """One member's figures."""

    user_id: UUID
    display_name: str
    sessions: int
    last_practised_at: datetime | None
    streak_days: int
    practised_this_week: bool
    score_trend: tuple[TrendScore, ...]
    weakest_areas: tuple[AreaMean, ...]


@dataclass(frozen=True, slots=True)
class Cohort:
    """The cohort view's figures."""

    members: tuple[CohortMember, ...]
    not_practised_this_week: tuple[CohortMember, ...]
    weakest_areas: tuple[AreaMean, ...]


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of now's week."""
    today = now.astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=UTC)


def practised_at(s: CohortSession) -> datetime | None:
    """When a session counts as practice (it completed), else None."""
    if s.status != "completed":
        return None
    return s.ended_at or s.started_at or s.created_at


def area_means(scorecards: Iterable[Mapping[str, object]]) -> tuple[AreaMean, ...]:
    """Each dimension's mean over the scorecards that score it, weakest first."""
    cards = list(scorecards)
    means = []
    for dimension in DIMENSIONS:
        values = [float(c[dimension]) for c in cards if c.get(dimension) is not None]  # type: ignore[arg-type]
        if values:
            means.append(AreaMean(dimension, round(statistics.fmean(values), 1)))
    return tuple(sorted(means, key=lambda a: (a.mean, a.dimension)))


def build_cohort(
    rows: Sequence[CohortSession],
    weights: Mapping[str, float],
    now: datetime,
    streak: Callable[[Iterable[date], date], int],
) -> Cohort:
    """The cohort view from the rows of db.cohort.cohort_sessions (grouped by member)."""
    monday = week_start(now)
    members = []
    everyone_cards: list[Mapping[str, object]] = []
    for (user_id, name), group in groupby(rows, key=lambda r: (r.user_id, r.display_name)):
        sessions = [s for s in group if s.session_id is not None]
        practice = [at for s in sessions if (at := practised_at(s)) is not None]
        scored = [s for s in sessions if s.dimensions is not None]
        trend = []
        for s in scored:
            overall = overall_from({d: s.dimensions.get(d) for d in DIMENSIONS}, weights)  # type: ignore[union-attr]
            if overall is not None:
                trend.append(TrendScore(s.session_id, s.started_at or s.created_at, overall))  # type: ignore[arg-type]
        trend.sort(key=lambda t: (t.started_at, str(t.session_id)))
        cards = [s.dimensions for s in scored]  # type: ignore[misc]
        everyone_cards += cards
        members.append(
            CohortMember(
                user_id=user_id,
                display_name=name,
                sessions=len(sessions),
                last_practised_at=max(practice, default=None),
                streak_days=streak((at.astimezone(UTC).date() for at in practice), now.astimezone(UTC).date()),
                practised_this_week=any(at >= monday for at in practice),
                score_trend=tuple(trend),
                weakest_areas=area_means(cards),
            )
        )
    return Cohort(
        members=tuple(members),
        not_practised_this_week=tuple(m for m in members if not m.practised_this_week),
        weakest_areas=area_means(everyone_cards),
    )
