"""The LiveKit webhook events already applied, so that a replayed one is recognised."""

from __future__ import annotations

from datetime import datetime

from db.pool import Db, transaction


async def record_event(
    db: Db, event_id: str, event: str, created_at: datetime, *, forget_before: datetime
) -> bool:
    """Notes an event's id; False when it was noted before (a replay). Ids of events made
    before forget_before are forgotten first: events that old are refused by their age.

    Inside the caller's transaction, a second process noting the same id waits for that
    transaction and then sees it noted."""
    async with transaction(db) as conn:
        await conn.execute("DELETE FROM livekit_webhook_events WHERE created_at < $1", forget_before)
        noted = await conn.fetchval(
            """
            INSERT INTO livekit_webhook_events (event_id, event, created_at) VALUES ($1, $2, $3)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING true
            """,
            event_id,
            event,
            created_at,
        )
    return bool(noted)
