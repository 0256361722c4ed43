"""A session's signals as one time-ordered CSV, streamed from a server-side cursor in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg

from reports.store import SIGNAL_CSV_COLUMNS, SIGNAL_CSV_SQL

FETCH_ROWS = 2000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str | None) -> str | None:
    """Free text a spreadsheet would run as a formula is prefixed with a quote."""
    if text and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


async def stream_signals_csv(
    pool: asyncpg.Pool, session_id: UUID, *, fetch_rows: int = FETCH_ROWS
) -> AsyncIterator[bytes]:
    """The CSV in chunks of about fetch_rows rows; at most one chunk of rows is held at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SIGNAL_CSV_COLUMNS)
    yield buffer.getvalue().encode("utf-8")
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await conn.cursor(SIGNAL_CSV_SQL, session_id)
        while rows := await cursor.fetch(fetch_rows):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows((*row[:-1], _safe(row[-1])) for row in rows)
            del rows
            yield buffer.getvalue().encode("utf-8")
