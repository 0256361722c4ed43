"""A migrated, empty database for a benchmark run: on a given server, or an embedded one."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.embedded import EmbeddedPostgres
from db.migrate import apply_migrations


async def _migrate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(server_url: str | None, work_dir: Path) -> AsyncIterator[str]:
    """A migrated, empty database: on server_url, or on an embedded server in work_dir."""
    if server_url is None:
        embedded = EmbeddedPostgres(work_dir / "data")
        url = await asyncio.to_thread(embedded.start)
        try:
            await _migrate(url)
            yield url
        finally:
            await asyncio.to_thread(embedded.stop)
        return
    name = f"greenroom_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        try:
            await _migrate(url)
            yield url
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
