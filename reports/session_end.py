"""What is done with a session's report once the session has ended."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from db import sessions as repo
from reports.builder import SETTLE_LIMIT_S, ReportContext, build_report


async def score_ended_session(pool: asyncpg.Pool, session_id: UUID, ctx: ReportContext) -> bool:
    """Scores an ended session's answers and stores its scorecard, so its report and the
    progress views are ready before anyone asks (the hook for a session's end); True if it did.

    Nothing is done for a session still open, or when ctx has no evaluator, or while its
    interview's process is still storing its last answers (an API that hears of the end first,
    from LiveKit's webhook): that process scores it once they are stored.
    """
    session = await repo.get_session(pool, session_id)
    if session is None or session.status in repo.OPEN_STATUSES or ctx.evaluator is None:
        return False
    if repo.transcript_settling(session, datetime.now(UTC), SETTLE_LIMIT_S):
        return False
    report = await build_report(pool, session, ctx)
    return not report.partial
