"""Which process runs a live session's interviewer: a PostgreSQL advisory lock per session.

The lock lives on a connection of its own, so a process that dies lets go of it as soon as its
connection closes (TCP keepalives bound how long a vanished machine's connection lingers). A
second job for the same session (a duplicate dispatch) waits for it instead of talking over
the first interviewer.
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import asyncpg

# A vanished client's connection is dropped by the server after about idle + interval x count.
KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
_KEY = "hashtextextended('greenroom.interviewer:' || $1::text, 0)"


class SessionHold:
    """This process runs the session's interviewer until release() (or until it dies)."""

    def __init__(self, conn: asyncpg.Connection, session_id: UUID) -> None:
        self._conn = conn
        self.session_id = session_id

    @classmethod
    async def acquire(
        cls, url: str, session_id: UUID, *, wait_s: float, poll_s: float = 0.5
    ) -> SessionHold | None:
        """Takes the session's hold, waiting up to wait_s while another process has it; None
        if it still does then."""
        conn = await asyncpg.connect(url, server_settings=KEEPALIVES)
        try:
            deadline = time.monotonic() + wait_s
            while not await conn.fetchval(f"SELECT pg_try_advisory_lock({_KEY})", str(session_id)):
                if time.monotonic() >= deadline:
                    await conn.close()
                    return None
                await asyncio.sleep(poll_s)
        except BaseException:
            conn.terminate()
            raise
        return cls(conn, session_id)

    async def release(self) -> None:
        """Lets go of the hold (closing its connection does)."""
        if not self._conn.is_closed():
            try:
                await asyncio.wait_for(self._conn.close(), 5.0)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self._conn.terminate()
