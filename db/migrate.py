"""Applies the numbered plain-SQL migrations in db/migrations, once each, in order."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Session-level advisory lock held while migrating, so two processes never race.
MIGRATION_LOCK_KEY = int.from_bytes(b"greenroo", "big")
_MIGRATION_NAME = re.compile(r"^(\d{4,})_[A-Za-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file; its version is the file name without .sql."""

    version: str
    path: Path


def discover_migrations(migrations_dir: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Lists the migration files in version order."""
    found = [
        Migration(version=path.stem, path=path)
        for path in migrations_dir.iterdir()
        if path.is_file() and _MIGRATION_NAME.match(path.name)
    ]
    found.sort(key=lambda m: (int(_MIGRATION_NAME.match(m.path.name).group(1)), m.version))
    numbers = [int(_MIGRATION_NAME.match(m.path.name).group(1)) for m in found]
    if len(numbers) != len(set(numbers)):
        raise ValueError(f"two migrations share a number in {migrations_dir}")
    return found


async def apply_migrations(
    conn: asyncpg.Connection, migrations_dir: Path = MIGRATIONS_DIR
) -> list[str]:
    """Applies pending migrations, each in its own transaction; returns the versions applied."""
    migrations = discover_migrations(migrations_dir)
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in migrations:
            if migration.version in done:
                continue
            sql = migration.path.read_text(encoding="utf-8")
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)", migration.version
                )
            applied_now.append(migration.version)
            logger.info("applied migration", extra={"version": migration.version})
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now
