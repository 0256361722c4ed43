"""What is done with a session's report once the session has ended."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db import sessions as repo
from reports.builder import ReportContext, build_report


async def score_ended_session(pool: asyncpg.Pool, session_id: UUID, ctx: ReportContext) -> bool:
    """Scores an ended session's answers and stores its scorecard, so its report and the
    progress views are ready before anyone asks (the hook for a session's end); True if it did.

    Nothing is done for a session still open, or when ctx has no evaluator. For a session whose
    last answers are still being stored the report is partial: the earlier answers are scored and
    kept, no scorecard is, and False is returned (its interview's process scores it once they are).
    """
    session = await repo.get_session(pool, session_id)
    if session is None or session.status in repo.OPEN_STATUSES or ctx.evaluator is None:
        return False
    report = await build_report(pool, session, ctx)
    return not report.partial
