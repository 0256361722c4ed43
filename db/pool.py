"""The asyncpg connection pool, with json/jsonb decoded to Python values."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    """Registers the json and jsonb codecs on a new pool connection."""
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Opens a pool to url whose connections read and write jsonb as Python values."""
    return await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection
    )


Db = asyncpg.Connection | asyncpg.Pool


@asynccontextmanager
async def transaction(db: Db) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction (a savepoint when db is already in one)."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db
