"""A session's signals as one time-ordered CSV, streamed from a server-side cursor in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import aclosing
from uuid import UUID

import asyncpg

from db.delivery import SIGNAL_CSV_COLUMNS, signal_csv_chunks

CHUNK_ROWS = 2000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str | None) -> str | None:
    """Free text a spreadsheet would run as a formula is prefixed with a quote."""
    if text and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


async def stream_signals_csv(
    pool: asyncpg.Pool, session_id: UUID, *, chunk_rows: int = CHUNK_ROWS
) -> AsyncIterator[bytes]:
    """The CSV in chunks of about chunk_rows rows; at most one chunk of rows is held at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SIGNAL_CSV_COLUMNS)
    yield buffer.getvalue().encode("utf-8")
    async with aclosing(signal_csv_chunks(pool, session_id, chunk_rows=chunk_rows)) as chunks:
        async for rows in chunks:
            buffer.seek(0)
            buffer.truncate()
            writer.writerows((*row[:-1], _safe(row[-1])) for row in rows)
            del rows
            yield buffer.getvalue().encode("utf-8")
