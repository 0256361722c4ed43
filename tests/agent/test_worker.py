"""The interview a session asks for: the candidate's CV, job description and practice question honoured."""

from __future__ import annotations

import secrets

import asyncpg

from agent.interviewer import InterviewScript
from agent.question_bank import QuestionBank
from agent.worker import plan_for
from db import sessions as db_sessions


async def test_the_plan_carries_the_sessions_cv_job_description_and_practice_question(
    pool: asyncpg.Pool,
) -> None:
    user_id = await pool.fetchval(
        "INSERT INTO users (email, display_name) VALUES ($1, 'Plan test') RETURNING id",
        f"plan-{secrets.token_hex(6)}@greenroom.invalid",
    )
    session_id = await pool.fetchval(
        """
        INSERT INTO sessions (user_id, role_track, round_type, difficulty, duration_min, persona,
                              cv_text, jd_text, practice_question_id)
        VALUES ($1, 'software_engineer', 'behavioral', 'medium', 10, 'alex',
                'Ran Kubernetes clusters.', 'Kubernetes SRE', 'beh-swe-production-incident')
        RETURNING id
        """,
        user_id,
    )
    session = await db_sessions.get_session(pool, session_id)
    assert session is not None

    plan = plan_for(session)

    assert (plan.cv_text, plan.jd_text) == ("Ran Kubernetes clusters.", "Kubernetes SRE")
    assert plan.practice_question_id == "beh-swe-production-incident"
    assert "Kubernetes" not in repr(plan)  # CV and JD stay out of logs and tracebacks
    script = InterviewScript(plan, QuestionBank.load())
    assert [q.id for q in script.planned_questions] == ["beh-swe-production-incident"]
