"""Migrations apply in order, once, atomically, and never race."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from db.migrate import apply_migrations, discover_migrations

EXPECTED_TABLES = {
    "users",
    "interview_templates",
    "sessions",
    "questions",
    "responses",
    "turn_latency",
    "schema_migrations",
}


async def _tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def test_applies_every_migration_then_nothing(empty_database_url: str) -> None:
    all_versions = [m.version for m in discover_migrations()]
    assert all_versions and all_versions[0] == "0001_init"
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await apply_migrations(conn) == all_versions
        assert EXPECTED_TABLES <= await _tables(conn)
        recorded = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in recorded] == all_versions

        assert await apply_migrations(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(all_versions)
    finally:
        await conn.close()


async def test_concurrent_runs_apply_each_migration_once(empty_database_url: str) -> None:
    all_versions = [m.version for m in discover_migrations()]
    conns = [await asyncpg.connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c) for c in conns))
        applied = [v for result in results for v in result]
        assert sorted(applied) == sorted(all_versions)
        assert sum(1 for r in results if r) == 1
        assert await conns[0].fetchval("SELECT count(*) FROM schema_migrations") == len(all_versions)
        # The advisory lock is released afterwards.
        assert await conns[0].fetchval(
            """
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory'
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """
        ) == 0
    finally:
        for c in conns:
            await c.close()


async def test_failed_migration_rolls_back_and_is_not_recorded(
    empty_database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE first_table (id int);")
    (tmp_path / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();"
    )
    (tmp_path / "notes.txt").write_text("not a migration")
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await apply_migrations(conn, tmp_path)
        tables = await _tables(conn)
        assert "first_table" in tables
        assert "half_done" not in tables
        recorded = await conn.fetch("SELECT version FROM schema_migrations")
        assert [r["version"] for r in recorded] == ["0001_first"]

        (tmp_path / "0002_broken.sql").write_text("CREATE TABLE half_done (id int);")
        assert await apply_migrations(conn, tmp_path) == ["0002_broken"]
    finally:
        await conn.close()


def test_migrations_are_ordered_by_number(tmp_path: Path) -> None:
    for name in ("0010_later.sql", "0002_second.sql", "0001_first.sql"):
        (tmp_path / name).write_text("SELECT 1;")
    assert [m.version for m in discover_migrations(tmp_path)] == [
        "0001_first",
        "0002_second",
        "0010_later",
    ]
    (tmp_path / "0002_clash.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError):
        discover_migrations(tmp_path)
