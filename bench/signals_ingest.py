"""Measure how many face_samples rows per second the DeliveryStore gets into PostgreSQL.

Rows for 20 concurrent sessions are submitted as fast as the store takes them and timed from
the first submit until flush() returns (every row committed). Also timed: replaying a spool
of the same rows (the idempotent COPY-to-stage + INSERT ... ON CONFLICT path).

The server is an embedded PostgreSQL (pgserver) in a temporary directory, or the server at
GREENROOM_TEST_DATABASE_URL when set (a scratch database is created and dropped there).
Target: ingest_rows_per_s >= 50,000.

Usage: python bench/signals_ingest.py [--quick] [--rows N]; the last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from db import accounts  # noqa: E402
from db import sessions as repo  # noqa: E402
from bench.scratch_db import scratch_database  # noqa: E402
from db.delivery_store import DeliveryStore  # noqa: E402
from db.delivery import FaceSampleRow  # noqa: E402

SESSIONS = 20
BATCH_ROWS = 2000  # Settings.signal_batch_rows
TARGET_ROWS_PER_S = 50_000


def _face_rows(session_ids: list[UUID], n_rows: int) -> list[FaceSampleRow]:
    """n_rows face samples, 10 Hz per session, interleaved across sessions as they would arrive."""
    rows = []
    for i in range(n_rows):
        rows.append(
            FaceSampleRow(
                session_id=session_ids[i % len(session_ids)], t_ms=(i // len(session_ids)) * 100,
                face_present=True, num_faces=1, yaw=4.5, pitch=-3.25, roll=0.5, gaze_on_camera=0.82,
                eye_open=0.91, blink=i % 40 == 0, smile=0.12, brow_raise=0.05, stability=0.97, quality=0.93,
            )
        )  # fmt: skip
    return rows


async def _sessions(url: str) -> list[UUID]:
    conn = await asyncpg.connect(url)
    try:
        email = f"bench-{secrets.token_hex(8)}@example.test"
        user_id = (await accounts.create_user(conn, email, secrets.token_urlsafe(16))).id
        return [
            (
                await repo.create_session(
                    conn,
                    user_id=user_id,
                    role_track="general",
                    round_type="behavioral",
                    difficulty="easy",
                    duration_min=30,
                    persona="alex",
                )
            ).id
            for _ in range(SESSIONS)
        ]
    finally:
        await conn.close()


async def _ingest(url: str, rows: list[FaceSampleRow], spool_dir: Path) -> dict[str, Any]:
    store = DeliveryStore(url, spool_dir=spool_dir, batch_rows=BATCH_ROWS)
    await store.start()
    try:
        began = time.perf_counter()
        for start in range(0, len(rows), BATCH_ROWS):
            for row in rows[start : start + BATCH_ROWS]:
                while not store.submit("face_samples", row):
                    await asyncio.sleep(0.001)  # the bench waits; a producer would drop
            await asyncio.sleep(0)
        await store.flush()
        elapsed = time.perf_counter() - began
    finally:
        await store.aclose()
    stats = store.stats()
    if stats.rows_written != len(rows) or stats.rows_spooled or stats.rows_dropped:
        raise RuntimeError(f"not every row was written directly: {stats}")
    return {"seconds": elapsed, "copies": stats.copies}


async def _replay(url: str, rows: list[FaceSampleRow], spool_dir: Path) -> float:
    """Spools rows with no database, then times a store replaying them; returns rows/s."""
    away = DeliveryStore(
        f"postgresql://postgres@/none?host={spool_dir / 'no-server'}",
        spool_dir=spool_dir,
        batch_rows=BATCH_ROWS,
    )
    await away.start()
    for row in rows:
        if not away.submit("face_samples", row):
            raise RuntimeError("queue full while spooling")
    await away.aclose()
    if away.stats().rows_spooled != len(rows):
        raise RuntimeError(f"not every row was spooled: {away.stats()}")

    store = DeliveryStore(url, spool_dir=spool_dir, batch_rows=BATCH_ROWS)
    began = time.perf_counter()
    await store.start()
    try:
        while store.stats().rows_replayed < len(rows):
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - began
    finally:
        await store.aclose()
    return len(rows) / elapsed


async def _run(n_rows: int, server_url: str | None, replay_rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="greenroom-bench-") as tmp:
        work_dir = Path(tmp)
        async with scratch_database(server_url, work_dir) as url:
            session_ids = await _sessions(url)
            ingest = await _ingest(url, _face_rows(session_ids, n_rows), work_dir / "spool")
            result: dict[str, Any] = {
                "server": "embedded" if server_url is None else "url",
                "rows": n_rows,
                "copies": ingest["copies"],
                "ingest_s": round(ingest["seconds"], 3),
                "ingest_rows_per_s": round(n_rows / ingest["seconds"]),
            }
            if replay_rows:
                # Fresh sessions so the replay inserts rather than skips.
                replay_sessions = await _sessions(url)
                rate = await _replay(
                    url, _face_rows(replay_sessions, replay_rows), work_dir / "spool-replay"
                )
                result["replay_rows"] = replay_rows
                result["replay_rows_per_s"] = round(rate)
            return result


def ingest_rows_per_s(n_rows: int, server_url: str | None = None) -> float:
    """Rows per second of face_samples through the DeliveryStore's COPY path into PostgreSQL."""
    if server_url is None:
        server_url = os.environ.get("GREENROOM_TEST_DATABASE_URL")
    return float(asyncio.run(_run(n_rows, server_url, 0))["ingest_rows_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50k rows instead of 300k")
    parser.add_argument("--rows", type=int, help="rows to ingest")
    args = parser.parse_args()
    n_rows = args.rows or (50_000 if args.quick else 300_000)
    server_url = os.environ.get("GREENROOM_TEST_DATABASE_URL")
    result = asyncio.run(_run(n_rows, server_url, replay_rows=min(n_rows, 100_000)))
    result["target_rows_per_s"] = TARGET_ROWS_PER_S
    print(json.dumps(result))


if __name__ == "__main__":
    main()
