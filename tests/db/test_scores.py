"""Stored scores against a real database: a score for a session deleted meanwhile is dropped."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import asyncpg

from db import scores
from tests.reports.seeding import seed_session
from tests.users import make_user


def _score(question_id) -> scores.StoredScore:
    return scores.StoredScore(
        question_id=question_id, category="behavioral", overall=70, dimensions=[], evaluator="offline",
        fallback_reason=None, strengths=[], improvements=[], stronger_answer=None, factors={},
        responses_scored=1, created_at=datetime.now(UTC),
    )  # fmt: skip


async def test_a_score_for_a_session_deleted_as_it_is_stored_is_dropped_quietly(pool: asyncpg.Pool) -> None:
    # The session's scoring after its end races the candidate deleting it: the delete commits
    # while the insert waits on its lock. Nothing is stored, and no error escapes.
    seeded = await seed_session(pool, await make_user(pool))
    async with pool.acquire() as deleting:
        tx = deleting.transaction()
        await tx.start()
        await deleting.execute("DELETE FROM sessions WHERE id = $1", seeded.session_id)
        storing = asyncio.ensure_future(scores.save_score(pool, seeded.session_id, _score(seeded.question_ids[0])))
        card = asyncio.ensure_future(
            scores.save_scorecard(pool, seeded.session_id, dimensions={}, delivery={}, categories={}, rubric={}, answers_scored=1)
        )
        await asyncio.sleep(0.5)
        assert not storing.done(), "the insert did not wait for the delete: the test shows nothing"
        await tx.commit()
    assert await asyncio.wait_for(storing, 10) == scores.SavedScore(first=False, score=None)
    await asyncio.wait_for(card, 10)
    assert await pool.fetchval("SELECT count(*) FROM answer_scores WHERE session_id = $1", seeded.session_id) == 0
    assert await pool.fetchval("SELECT count(*) FROM session_scorecards WHERE session_id = $1", seeded.session_id) == 0


async def test_a_stored_score_keeps_the_time_the_report_that_scored_it_showed(pool: asyncpg.Pool) -> None:
    # The report that scores an answer shows its score's time; every later report reads it back
    # from the table. Stored with the database's own now(), the two differed by a few ms, and a
    # final report changed on reload whenever the reader, not the end-of-session scoring, scored first.
    seeded = await seed_session(pool, await make_user(pool))
    score = _score(seeded.question_ids[0])
    grown = dataclasses.replace(  # the answer went on: a second response, scored again
        score, overall=71, responses_scored=2, created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, UTC)
    )
    for shown, first in ((score, True), (grown, False)):
        saved = await scores.save_score(pool, seeded.session_id, shown)
        stored = (await scores.stored_scores(pool, seeded.session_id))[seeded.question_ids[0]]
        assert (stored.overall, stored.created_at) == (shown.overall, shown.created_at)
        assert saved == scores.SavedScore(first=first, score=shown)


async def test_the_first_score_of_an_answer_scored_twice_at_once_stands(pool: asyncpg.Pool) -> None:
    # A candidate's report GET and the end-of-session scoring score the same answer at the same
    # time. The first stored stands; the second scorer is handed it, so both reports show the
    # same score and time, and a reload shows it again.
    seeded = await seed_session(pool, await make_user(pool))
    first = _score(seeded.question_ids[0])
    second = dataclasses.replace(first, overall=64, created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, UTC))
    assert await scores.save_score(pool, seeded.session_id, first) == scores.SavedScore(first=True, score=first)
    saved = await scores.save_score(pool, seeded.session_id, second)
    assert not saved.first and saved.score is not None
    assert (saved.score.overall, saved.score.created_at) == (first.overall, first.created_at)
    stored = (await scores.stored_scores(pool, seeded.session_id))[seeded.question_ids[0]]
    assert (stored.overall, stored.created_at) == (first.overall, first.created_at)
