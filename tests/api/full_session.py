"""A session with something in every table that hangs off sessions, to check deletions."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx

from db import coach_notes, coach_shares
from db.usage import UsageCounts, add_usage
from tests.reports.seeding import seed_session
from tests.users import make_user


async def session_rows(pool: asyncpg.Pool, session_id: UUID) -> dict[str, int]:
    """Rows under a session in every table whose session_id references sessions, found from the
    schema (the audit log names sessions without a reference, so that it can log a deletion)."""
    tables = await pool.fetch(
        """
        SELECT DISTINCT c.conrelid::regclass::text AS table_name
        FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f' AND c.confrelid = 'sessions'::regclass AND a.attname = 'session_id'
        """
    )
    return {
        t["table_name"]: await pool.fetchval(f'SELECT count(*) FROM "{t["table_name"]}" WHERE session_id = $1', session_id)
        for t in tables
    }


async def fill_session(client: httpx.AsyncClient, pool: asyncpg.Pool, user_id: UUID) -> UUID:
    """A completed session with signals, scores, a scorecard, a PDF export, a share link, signal
    stats, turn latencies, provider usage, a coach's share and note: something in every table
    that hangs off sessions."""
    seeded = await seed_session(pool, user_id)
    sid = seeded.session_id
    assert (await client.get(f"/v1/sessions/{sid}/report")).status_code == 200
    assert (await client.post(f"/v1/sessions/{sid}/export", json={"format": "pdf"})).status_code == 201
    assert (await client.post(f"/v1/sessions/{sid}/share", json={})).status_code == 201
    await pool.execute("INSERT INTO signal_stats (session_id, frames_received) VALUES ($1, 10)", sid)
    await pool.execute(
        """
        INSERT INTO turn_latency (session_id, turn_seq, speech_end_at, first_audio_at, latency_ms)
        VALUES ($1, 1, now(), now(), 500)
        """,
        sid,
    )
    await add_usage(pool, sid, {"openai": UsageCounts(tokens_in=120, tokens_out=40)})
    coach_id = await make_user(pool)
    await coach_shares.create_share(pool, user_id, sid, coach_id=coach_id, org_id=None)
    await coach_notes.add_note(pool, sid, coach_id, "Coach", 1000, "Slow down here.")
    return sid
