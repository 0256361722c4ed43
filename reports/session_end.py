"""What is done with a session's report once the session has ended."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db import sessions as repo
from reports.builder import ReportContext, build_report


async def score_ended_session(pool: asyncpg.Pool, session_id: UUID, ctx: ReportContext) -> None:
    """Scores an ended session's answers and stores its scorecard, so its report and the
    progress views are ready before anyone asks (the hook for a session's end).

    Nothing is done for a session still open, or when ctx has no evaluator.
    """
    session = await repo.get_session(pool, session_id)
    if session is None or session.status in repo.OPEN_STATUSES or ctx.evaluator is None:
        return
    await build_report(pool, session, ctx)
